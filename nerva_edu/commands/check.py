"""``nerva-edu check``: run every registered validation and print a table."""

import json
import sys

from nerva_edu.files import check_output_file, write_text
from nerva_edu.registry import CHECKS, format_table, validate


def add_parser(commands):
    parser = commands.add_parser("check", help="validate every registered equation in SymPy and against torch and JAX",
                                 description="Run the SymPy proof and the torch and JAX comparisons of every "
                                             "equation in the registry; exit with status 1 if any fails.")
    parser.add_argument("--only", default="", metavar="PREFIX", help="only equations whose id starts with PREFIX")
    parser.add_argument("--json", metavar="FILE", help="also write the results as a JSON list to FILE")
    parser.set_defaults(run=run)


def run(args):
    if args.json is not None:
        check_output_file(args.json, "--json file")
    results = validate(args.only)
    if not results:
        raise ValueError(f"--only: no registered equation id starts with {args.only!r}")
    print(format_table(results))
    for result in results:
        for failure in result["failures"]:
            print(f"FAILED {result['id']} ({failure})", file=sys.stderr)
    if args.json is not None:
        text = json.dumps([{key: r[key] for key in ("id", "spec_ref", *CHECKS)} for r in results], indent=1)
        write_text(args.json, text, "--json file")
    return 1 if any(r["failures"] for r in results) else 0
