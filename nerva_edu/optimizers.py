"""Optimizers (spec §8): gradient descent, momentum and Nesterov, as the spec writes them.

For a parameter θ with gradient Dθ and learning rate η (a prime marks updated values):

==================  ==========================  ==================================
gradient descent    momentum(μ)                 Nesterov(μ)
==================  ==========================  ==================================
θ' = θ − η·Dθ       Δ' = μ·Δ − η·Dθ             Δ' = μ·Δ − η·Dθ
                    θ' = θ + Δ'                 θ' = θ + μ·Δ' − η·Dθ
==================  ==========================  ==================================

Δ has the shape of θ and starts at zero. These are Keras's equations. PyTorch's
``torch.optim.SGD`` keeps a velocity v instead (v' = μ·v + Dθ; θ' = θ − η·v', and with
``nesterov=True`` θ' = θ − η·(Dθ + μ·v')). With a constant η the two are one method:
substitute Δ = −η·v,

    Δ' = μ·Δ − η·Dθ = −η·(μ·v + Dθ) = −η·v',
    momentum:  θ' = θ + Δ' = θ − η·v',
    Nesterov:  θ' = θ + μ·Δ' − η·Dθ = θ − η·(Dθ + μ·v').

(When η changes between steps they differ: Δ remembers the rates at which past gradients
were taken, v does not.) ``nerva_edu.validation.optimizers`` proves this in SymPy and
checks it against ``torch.optim.SGD``.

An update rule (:class:`GradientDescent`, :class:`Momentum`, :class:`Nesterov`) works on
one parameter of any kind: a NumPy array, a torch tensor, a SymPy matrix or a scalar (such
as SReLU's a_l). The equations are written with augmented assignments (``θ -= ...``), which
update NumPy arrays and torch tensors in place, so that training never copies a weight
matrix, and rebind SymPy values and Python numbers, which cannot change in place.
:class:`LayerOptimizer` applies one rule to every parameter of a layer through the layer
protocol: the names in ``layer.parameter_names`` (W, b, beta, gamma, al, tl, ar, tr, ...)
and their gradients ``layer.D<name>``.
"""

import math
import numbers

from nerva_edu.parsing import bind, lookup, parse_call


def is_learning_rate(eta):
    """Whether η is a finite number > 0 (η = NaN, ∞ or ≤ 0 would silently train to NaN or away from
    the minimum)."""
    return not isinstance(eta, bool) and isinstance(eta, numbers.Real) and math.isfinite(eta) and eta > 0


def check_learning_rate(op, eta):
    """ValueError unless the learning rate η is a finite number > 0 (:func:`is_learning_rate`)."""
    if not is_learning_rate(eta):
        raise ValueError(f"{op}: the learning rate eta must be a finite number > 0, got {eta!r}")


def zeros_like(theta):
    """0·θ: zeros of θ's kind, shape and dtype (also for a scalar parameter)."""
    return 0 * theta


class GradientDescent:
    """θ' = θ − η·Dθ."""

    def init_state(self, theta):
        return None

    def step(self, theta, Dtheta, eta, state):
        """One update: returns (θ', state')."""
        theta -= eta * Dtheta
        return theta, state

    def __repr__(self):
        return "GradientDescent()"


class Momentum:
    """Δ' = μ·Δ − η·Dθ;  θ' = θ + Δ'   (0 < μ < 1; Δ starts at zero)."""

    def __init__(self, mu):
        if isinstance(mu, numbers.Real) and not 0 < mu < 1:    # a SymPy symbol μ is accepted
            raise ValueError(f"{type(self).__name__}: expected 0 < mu < 1, got mu={mu}")
        self.mu = mu

    def init_state(self, theta):
        return zeros_like(theta)

    def step(self, theta, Dtheta, eta, Delta):
        """One update: returns (θ', Δ')."""
        Delta *= self.mu
        Delta -= eta * Dtheta
        theta += Delta
        return theta, Delta

    def __repr__(self):
        return f"{type(self).__name__}(mu={self.mu})"


class Nesterov(Momentum):
    """Δ' = μ·Δ − η·Dθ;  θ' = θ + μ·Δ' − η·Dθ   (0 < μ < 1; Δ starts at zero)."""

    def step(self, theta, Dtheta, eta, Delta):
        """One update: returns (θ', Δ')."""
        eta_Dtheta = eta * Dtheta
        Delta *= self.mu
        Delta -= eta_Dtheta
        theta += self.mu * Delta
        theta -= eta_Dtheta
        return theta, Delta


# name -> (class, constructor parameters; None = required)
OPTIMIZERS = {
    "GradientDescent": (GradientDescent, {}),
    "Momentum": (Momentum, {"mu": None}),
    "Nesterov": (Nesterov, {"mu": None}),
}


def parse_optimizer(text):
    """The update rule named by ``text``: ``GradientDescent``, ``Momentum(0.9)`` or
    ``Nesterov(mu=0.9)``; ValueError listing the accepted names otherwise."""
    call = parse_call(text, "optimizer")
    cls, parameters = lookup(OPTIMIZERS, call, "optimizer")
    return cls(**bind(call, parameters, "optimizer"))


class LayerOptimizer:
    """One update rule applied to every parameter of a layer (the layer protocol)."""

    def __init__(self, layer, rule):
        self.layer, self.rule = layer, rule
        self.state = {name: rule.init_state(getattr(layer, name)) for name in layer.parameter_names}

    def update(self, eta):
        """θ ← θ' for every parameter θ of the layer, from its gradient D<θ>."""
        for name in self.layer.parameter_names:
            theta, Dtheta = getattr(self.layer, name), getattr(self.layer, "D" + name)
            theta, self.state[name] = self.rule.step(theta, Dtheta, eta, self.state[name])
            setattr(self.layer, name, theta)

    def __repr__(self):
        return repr(self.rule)
