"""The layers of spec §4, one module each, all following the protocol of ``layer.py``."""

from nerva_edu.layers.activation import Activation
from nerva_edu.layers.activation_dropout import ActivationDropout
from nerva_edu.layers.batch_normalization import BatchNormalization
from nerva_edu.layers.layer import Layer
from nerva_edu.layers.linear import Linear
from nerva_edu.layers.linear_dropout import LinearDropout
from nerva_edu.layers.log_softmax import LogSoftmax
from nerva_edu.layers.softmax import Softmax
from nerva_edu.layers.srelu import SReLULayer

__all__ = ["Layer", "Linear", "Activation", "SReLULayer", "Softmax", "LogSoftmax", "BatchNormalization",
           "LinearDropout", "ActivationDropout"]
