"""Learning-rate schedulers (spec §9): η_i as a pure function of the step i = 0, 1, 2, ...

=========================  ===============================================  ==========
scheduler                  η_i (as implemented)                             printed
=========================  ===============================================  ==========
Constant(η₀)               η₀                                               same
TimeBased(η₀, d)           η₀ / (1 + d·i)                                   erratum 1
StepBased(η₀, d, r)        η₀ · d^⌊i/r⌋                                     convention 2
Exponential(η₀, d)         η₀ · e^(−d·i)                                    same
MultiStep(η₀, Γ, m₁..m_k)  η₀ · Γ^(number of milestones m_j ≤ i)            erratum 3
=========================  ===============================================  ==========

The printed forms (see the errata appendix; each is checked in ``tests/test_schedulers.py``):

1. The printed recursion η_{i+1} = η_i / (1 + d·i) compounds the decay:
   η_i = η₀ / ∏_{j<i} (1 + d·j), which falls faster than any exponential (d = 0.1:
   η₂₀ ≈ η₀ / 2.4·10⁵). "Time-based" decay is the rate inversely proportional to the time,
   η₀ / (1 + d·i): the ``decay`` argument of Keras's SGD and ``InverseTimeDecay`` define it so,
   and it is the recursion η_{i+1} = η_i·(1 + d·i)/(1 + d·(i+1)).
2. The printed η₀ · d^⌊(1+i)/r⌋ drops after r − 1 steps the first time and after r steps
   every later time: it counts the steps from 1 (step number i + 1). That is a convention,
   not a mistake; the library counts from 0 and keeps η₀ for the first r steps, as torch's
   ``StepLR`` does: η₀ · d^⌊i/r⌋ (its η_i is the printed η_{i−1}).
3. The printed exponent Σ_j ⌊i/m_j⌋ keeps decaying at every multiple of every milestone
   (milestones {2, 4} at i = 8: 4 + 2 = 6 decays). A milestone decays the rate once, when it
   is reached: the exponent is Σ_j [i ≥ m_j], as in torch's ``MultiStepLR``.

The spec defines η_i per optimization step i. ``nerva-edu train`` evaluates the scheduler once per
epoch by default (i = epoch − 1), as the Nerva tools do; ``--schedule-unit step`` evaluates it at
every step (``nerva_edu.mlp.training_loop``).

The constructors check their numbers, so that no schedule can produce a rate that is not a
positive finite number: η₀ > 0, decays d ≥ 0 (TimeBased, Exponential), factors d, Γ in (0, 1]
(StepBased, MultiStep), a whole number of steps r ≥ 1 and increasing milestones ≥ 1. SymPy
symbols are accepted in place of the numbers (for derivations).
"""

import math
import numbers
from dataclasses import dataclass

import sympy as sp

from nerva_edu.parsing import bind, lookup, parse_call

# what a parameter must be: (description, test on a finite number)
POSITIVE = ("a finite number > 0", lambda v: v > 0)
NON_NEGATIVE = ("a finite number ≥ 0", lambda v: v >= 0)
FACTOR = ("a number in (0, 1]", lambda v: 0 < v <= 1)
COUNT = ("a positive integer", lambda v: v >= 1 and v == int(v))


def _require(scheduler, name, requirement):
    """ValueError unless the parameter ``name`` of ``scheduler`` meets ``requirement`` (or is a symbol)."""
    value, (description, test) = getattr(scheduler, name), requirement
    if isinstance(value, sp.Basic):
        return
    if not isinstance(value, numbers.Real) or not (math.isfinite(value) and test(value)):
        raise ValueError(f"{type(scheduler).__name__}: {name} must be {description}, got {value!r}")


@dataclass(frozen=True)
class Constant:
    """η_i = η₀."""
    eta0: float

    def __post_init__(self):
        _require(self, "eta0", POSITIVE)

    def __call__(self, i):
        return self.eta0


@dataclass(frozen=True)
class TimeBased:
    """η_i = η₀ / (1 + d·i): inverse-time decay (corrects §9's compounding recursion)."""
    eta0: float
    d: float

    def __post_init__(self):
        _require(self, "eta0", POSITIVE)
        _require(self, "d", NON_NEGATIVE)            # 1 + d·i > 0 for every step i

    def __call__(self, i):
        return self.eta0 / (1 + self.d * i)


@dataclass(frozen=True)
class StepBased:
    """η_i = η₀ · d^⌊i/r⌋: multiply by d every r steps, counted from i = 0 (§9 prints ⌊(1+i)/r⌋,
    counting from 1)."""
    eta0: float
    d: float
    r: int

    def __post_init__(self):
        _require(self, "eta0", POSITIVE)
        _require(self, "d", FACTOR)
        _require(self, "r", COUNT)

    def __call__(self, i):
        return self.eta0 * self.d ** (i // self.r)


@dataclass(frozen=True)
class Exponential:
    """η_i = η₀ · e^(−d·i)."""
    eta0: float
    d: float

    def __post_init__(self):
        _require(self, "eta0", POSITIVE)
        _require(self, "d", NON_NEGATIVE)

    def __call__(self, i):
        return self.eta0 * math.exp(-self.d * i)


@dataclass(frozen=True)
class MultiStep:
    """η_i = η₀ · Γ^(Σ_j [i ≥ m_j]): multiply by Γ at each milestone (corrects §9's Σ_j ⌊i/m_j⌋)."""
    eta0: float
    gamma: float
    milestones: tuple

    def __post_init__(self):
        _require(self, "eta0", POSITIVE)
        _require(self, "gamma", FACTOR)
        milestones = tuple(self.milestones)
        if not milestones or any(isinstance(m, bool) or not isinstance(m, numbers.Integral) or m < 1
                                 for m in milestones) or list(milestones) != sorted(set(milestones)):
            raise ValueError(f"MultiStep: milestones must be increasing positive integers, got {self.milestones!r}")

    def __call__(self, i):
        return self.eta0 * self.gamma ** sum(i >= m for m in self.milestones)


# name -> (class, parameters after η₀ with defaults; None = required)
SCHEDULERS = {
    "Constant": (Constant, {}),
    "TimeBased": (TimeBased, {"d": None}),
    "StepBased": (StepBased, {"d": None, "r": None}),
    "Exponential": (Exponential, {"d": None}),
    "MultiStep": (MultiStep, None),   # MultiStep(η₀, Γ, m₁, ..., m_k)
}

FORMS = "Constant(eta0), TimeBased(eta0, d), StepBased(eta0, d, r), Exponential(eta0, d), " \
        "MultiStep(eta0, gamma, m1, ..., mk), or a number eta0 (= Constant(eta0))"


def _construct(text, cls, *args, **kwargs):
    """cls(*args, **kwargs), its ValueError naming the text that asked for it."""
    try:
        return cls(*args, **kwargs)
    except ValueError as error:
        raise ValueError(f"learning rate: {text!r}: {error}") from None


def _whole(value):
    """A parsed (float) argument as an int when it is a whole number; else unchanged, for the constructor to judge."""
    return int(value) if float(value).is_integer() else value


def parse_scheduler(text):
    """The scheduler named by ``text``, e.g. ``"0.1"``, ``"TimeBased(0.1, d=0.01)"``,
    ``"MultiStep(0.1, 0.5, 10, 20)"``; ValueError listing the accepted forms otherwise."""
    what = "learning rate"
    try:
        eta0 = float(text)
    except ValueError:
        pass
    else:
        return _construct(text, Constant, eta0)
    call = parse_call(text, what)
    cls, parameters = lookup(SCHEDULERS, call, what)
    if cls is MultiStep:
        if call.kwargs or len(call.args) < 3:
            raise ValueError(f"{what}: {text!r}: expected MultiStep(eta0, gamma, m1, ..., mk) with positional "
                             f"arguments and at least one milestone")
        eta0, gamma, *milestones = call.args
        return _construct(text, MultiStep, eta0, gamma, tuple(map(_whole, milestones)))
    arguments = bind(call, {"eta0": None, **parameters}, what)
    if "r" in arguments:
        arguments["r"] = _whole(arguments["r"])
    return _construct(text, cls, **arguments)
