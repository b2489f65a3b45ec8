"""The ``nerva-edu`` command line.

    nerva-edu check [--only PREFIX] [--json FILE]   validate the registered equations
"""

import argparse
import json
import sys

from nerva_edu import __version__


def _check(args):
    from nerva_edu.registry import all_equations, run_check

    equations = [e for e in all_equations() if e.id.startswith(args.only)]
    if not equations:
        print(f"check: no registered equation id starts with {args.only!r}", file=sys.stderr)
        return 2
    rows, failures = [], []
    for equation in equations:
        sympy_ok, sympy_reason = run_check(equation.sympy)
        torch_ok, torch_reason = run_check(equation.torch)
        rows.append({"id": equation.id, "spec_ref": equation.spec_ref, "sympy": sympy_ok, "torch": torch_ok})
        failures += [f"{equation.id} ({kind}): {reason}"
                     for kind, reason in (("sympy", sympy_reason), ("torch", torch_reason)) if reason]
    mark = {True: "ok", False: "FAIL", None: "-"}
    width = max(len(r["id"]) for r in rows)
    print(f"{'equation':<{width}}  {'spec':<22}  sympy  torch")
    for r in rows:
        print(f"{r['id']:<{width}}  {r['spec_ref']:<22}  {mark[r['sympy']]:<5}  {mark[r['torch']]}")
    print(f"{len(rows)} equations, {len(failures)} failed checks")
    for failure in failures:
        print(f"FAILED {failure}", file=sys.stderr)
    if args.json:
        with open(args.json, "w") as file:
            json.dump(rows, file, indent=1)
    return 1 if failures else 0


def build_parser():
    parser = argparse.ArgumentParser(prog="nerva-edu", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"nerva-edu {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    check = commands.add_parser("check", help="validate every registered equation in SymPy and against torch")
    check.add_argument("--only", default="", metavar="PREFIX", help="only equations whose id starts with PREFIX")
    check.add_argument("--json", metavar="FILE", help="also write the results as a JSON list to FILE")
    check.set_defaults(run=_check)
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
