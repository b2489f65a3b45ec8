"""Parsing the small textual specifications of the Nerva tools.

The command line names layers, optimizers, initializers and schedulers the way the Nerva
tools do: a name, optionally followed by numeric arguments, e.g. ``ReLU``,
``Momentum(0.9)``, ``Nesterov(mu=0.9)``, ``Uniform(-0.1, 0.1)``. Lists are separated by
semicolons: ``--layers "ReLU;ReLU;Linear"``, ``--layer-sizes "64;64;32;10"``.
"""

import math
import re
from dataclasses import dataclass, field

_CALL = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(?:\((.*)\))?\s*$")


@dataclass(frozen=True)
class Call:
    """A parsed ``Name(arg, ..., key=value, ...)``: the name and its numeric arguments."""
    name: str
    args: tuple = ()
    kwargs: dict = field(default_factory=dict)
    text: str = ""


def _number(what, text, token):
    """A finite float: every numeric parameter of a layer, optimizer, initializer or schedule is
    finite, and nan or inf would only surface later as a NaN loss."""
    try:
        value = float(token)
    except ValueError:
        raise ValueError(f"{what}: {text!r}: argument {token.strip()!r} is not a number") from None
    if not math.isfinite(value):
        raise ValueError(f"{what}: {text!r}: argument {token.strip()!r} is not a finite number")
    return value


def parse_call(text, what="specification"):
    """Parse ``Name`` or ``Name(1, b=2.5)`` into a :class:`Call` (arguments become floats)."""
    if not isinstance(text, str):
        raise TypeError(f"{what}: expected a text such as 'Name' or 'Name(1, 2)', got {type(text).__name__}")
    match = _CALL.match(text)
    if match is None:
        raise ValueError(f"{what}: cannot parse {text!r}; expected Name or Name(arguments)")
    name, inside = match.groups()
    args, kwargs = [], {}
    for token in (inside or "").split(","):
        if not token.strip():
            if inside and inside.strip():
                raise ValueError(f"{what}: {text!r}: empty argument")
            continue
        key, equals, value = token.partition("=")
        if equals:
            if key.strip() in kwargs:
                raise ValueError(f"{what}: {text!r}: argument {key.strip()!r} given twice")
            kwargs[key.strip()] = _number(what, text, value)
        elif kwargs:
            raise ValueError(f"{what}: {text!r}: positional argument after keyword argument")
        else:
            args.append(_number(what, text, token))
    return Call(name, tuple(args), kwargs, text.strip())


def bind(call, parameters, what):
    """The arguments of ``call`` bound to ``parameters`` (a dict name -> default; a default of
    None means required), as a dict; ValueError naming what is accepted otherwise."""
    signature = f"{call.name}({', '.join(p if d is None else f'{p}={d:g}' for p, d in parameters.items())})"
    if len(call.args) > len(parameters):
        raise ValueError(f"{what}: {call.text!r} has too many arguments; accepted form: {signature}")
    values = dict(zip(parameters, call.args))
    for key, value in call.kwargs.items():
        if key not in parameters:
            raise ValueError(f"{what}: {call.text!r}: unknown argument {key!r}; accepted form: {signature}")
        if key in values:
            raise ValueError(f"{what}: {call.text!r}: argument {key!r} given twice")
        values[key] = value
    for key, default in parameters.items():
        if key not in values:
            if default is None:
                raise ValueError(f"{what}: {call.text!r}: missing argument {key!r}; accepted form: {signature}")
            values[key] = default
    return values


def lookup(table, call, what):
    """``table[call.name]``, or ValueError listing the accepted names."""
    if call.name not in table:
        raise ValueError(f"{what}: unknown name {call.name!r}; accepted: {', '.join(table)}")
    return table[call.name]


def split_list(text, what):
    """Split a semicolon-separated list (``"ReLU;ReLU;Linear"``) into its stripped items."""
    items = [item.strip() for item in text.split(";")]
    if not text.strip() or any(not item for item in items):
        raise ValueError(f"{what}: {text!r} is not a semicolon-separated list (e.g. \"a;b;c\")")
    return items


def parse_sizes(text, what="--layer-sizes"):
    """Parse ``"64;64;32;10"`` into positive integers."""
    sizes = []
    for item in split_list(text, what):
        if not (item.isascii() and item.isdigit()) or int(item) == 0:
            raise ValueError(f"{what}: {item!r} is not a positive integer (in {text!r})")
        sizes.append(int(item))
    return sizes
