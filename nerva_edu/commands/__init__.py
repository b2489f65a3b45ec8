"""Subcommands of ``nerva-edu``: one module each, with ``add_parser(commands)``.

The option types below are shared by the subcommands: each parses one option's text and raises
ValueError with a message saying what is accepted, which :func:`option_type` hands to argparse
(so a bad value is reported as ``argument --x: ...``, before anything runs).
"""

import argparse
import math


def option_type(parse):
    """An argparse type that reports the parser's ValueError message (which lists what is accepted)."""
    def convert(text):
        try:
            return parse(text)
        except ValueError as error:
            raise argparse.ArgumentTypeError(str(error)) from None
    convert.__name__ = parse.__name__
    return convert


def _whole(text):
    return text.isascii() and text.isdigit()


@option_type
def positive_integer(text):
    if not _whole(text) or int(text) < 1:
        raise ValueError(f"{text!r} is not a positive integer")
    return int(text)


@option_type
def seed(text):
    if not _whole(text):
        raise ValueError(f"{text!r} is not a seed (an integer ≥ 0)")
    return int(text)


def number(text):
    """The float written in ``text``, NaN if there is none (so that a range check rejects it)."""
    try:
        return float(text)
    except ValueError:
        return math.nan


@option_type
def positive_number(text):
    value = number(text)
    if not (math.isfinite(value) and value > 0):
        raise ValueError(f"{text!r} is not a finite number > 0")
    return value
