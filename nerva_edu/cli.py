"""The ``nerva-edu`` command line: one subcommand per module of ``nerva_edu.commands``.

Errors follow one convention for every subcommand: bad input ends the command with a single
line ``nerva-edu <command>: error: <what is wrong>`` on standard error and exit status 2, never
a traceback. That covers the options argparse rejects and every error of the library's
bad-input family raised while a command runs (:data:`INPUT_ERRORS`: ValueError, TypeError,
OSError, MemoryError). Anything else is a bug and keeps its traceback; ``--debug`` (or the
environment variable ``NERVA_EDU_DEBUG=1``) shows the traceback of the bad-input errors too.
"""

import argparse
import importlib
import os
import sys

from nerva_edu import __version__

COMMANDS = ["check", "train", "bench"]

# The exceptions by which the library reports bad input (DatasetError, ModelFileError and
# InsufficientMemory are ValueErrors).
INPUT_ERRORS = (ValueError, TypeError, OSError, MemoryError)


class Parser(argparse.ArgumentParser):
    """argparse, with a rejected option reported in one line (and a pointer to --help)."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser():
    parser = Parser(prog="nerva-edu", description="The nerva-edu library: validate, train and benchmark MLPs.")
    parser.add_argument("--version", action="version", version=f"nerva-edu {__version__}")
    parser.add_argument("--debug", action="store_true",
                        help="show the traceback of an error instead of its one-line message (also NERVA_EDU_DEBUG=1)")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMANDS:
        importlib.import_module(f"nerva_edu.commands.{name}").add_parser(commands)
    return parser


def one_line(error):
    """The message of ``error`` on one line: an OSError as 'path: reason', others by their text."""
    if isinstance(error, OSError) and error.strerror and error.filename is not None:
        text = f"{error.filename}: {error.strerror}"
    else:
        text = str(error) or type(error).__name__
    if isinstance(error, MemoryError):
        text = f"not enough memory ({text})"
    return " ".join(text.split())


def main(argv=None):
    args = None
    try:
        args = build_parser().parse_args(argv)            # (imports the subcommands: an interrupt may come here)
        return args.run(args)
    except INPUT_ERRORS as error:
        if args is None or args.debug or os.environ.get("NERVA_EDU_DEBUG", "") not in ("", "0"):
            raise
        print(f"{_program(args)}: error: {one_line(error)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"{_program(args)}: interrupted", file=sys.stderr)
        return 130


def _program(args):
    """``nerva-edu`` and the (sub)command that runs, for messages."""
    names = (args.command, getattr(args, "benchmark", None)) if args else ()
    return " ".join(["nerva-edu", *(name for name in names if name)])


if __name__ == "__main__":
    sys.exit(main())
