"""``nerva-edu check``: run every registered validation and print a table."""

import json
import sys


def add_parser(commands):
    parser = commands.add_parser("check", help="validate every registered equation in SymPy and against torch",
                                 description="Run the SymPy proof and the torch comparison of every equation "
                                             "in the registry; exit with status 1 if any fails.")
    parser.add_argument("--only", default="", metavar="PREFIX", help="only equations whose id starts with PREFIX")
    parser.add_argument("--json", metavar="FILE", help="also write the results as a JSON list to FILE")
    parser.set_defaults(run=run)


def run(args):
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
