"""nerva_edu: the batch matrix-form equations of multilayer perceptrons, as a small library.

The library grows with the book (``book/``): ``nerva_edu.matrix`` holds the matrix-operation
table of the Nerva specification (§3), on which everything else is built.
"""

__version__ = "0.1.0"
