"""The ``nerva-edu`` command line: one subcommand per module of ``nerva_edu.commands``."""

import argparse
import importlib
import sys

from nerva_edu import __version__

COMMANDS = ["check", "train", "bench"]


def build_parser():
    parser = argparse.ArgumentParser(prog="nerva-edu",
                                     description="The nerva-edu library: validate, train and benchmark MLPs.")
    parser.add_argument("--version", action="version", version=f"nerva-edu {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMANDS:
        importlib.import_module(f"nerva_edu.commands.{name}").add_parser(commands)
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
