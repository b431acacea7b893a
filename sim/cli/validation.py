"""Sub-commands ``sim validate-model`` (the checks of docs/validation.md) and ``sim calibrate`` (simulated method of
moments against a targets file). They only parse arguments and call :mod:`sim.validation` and
:mod:`sim.calibration`."""

from __future__ import annotations

import sys
import time
from pathlib import Path

from sim.cli.common import UsageError, add_scenario_options, int_in
from sim.loading import load_scenario


def register(subparsers) -> None:
    """Add ``sim validate-model`` and ``sim calibrate`` to the command line."""
    from sim.validation import CHECKS, SIZES

    p = subparsers.add_parser("validate-model", help="run the scientific validation checks of docs/validation.md "
                                                     "and print expected vs got; exit 1 if any fails")
    p.add_argument("--size", choices=SIZES, default="large", help="runs and population of the checks "
                                                                 "(small: the CI size, large: default)")
    p.add_argument("--checks", default=",".join(CHECKS), help=f"comma list of {','.join(CHECKS)}")
    p.add_argument("--csv", metavar="FILE", help="also write the table as CSV")
    p.set_defaults(func=cmd_validate_model)

    p = subparsers.add_parser("calibrate", help="fit free parameters to target moments (simulated method of "
                                                "moments) and write the calibrated scenario and a fit report")
    p.add_argument("scenario", help="a preset's name or a YAML path")
    p.add_argument("--targets", required=True, metavar="FILE", help="targets file (see calibration/)")
    p.add_argument("--out", metavar="DIR", help="output folder (default results/calibration/<scenario name>)")
    p.add_argument("--fit-population", type=int_in(1, 10_000_000), metavar="N",
                   help="developers during the fit (file: fit.population)")
    p.add_argument("--fit-seeds", type=int_in(1, 1_000), metavar="R", help="common seeds of the fit (file: fit.seeds)")
    p.add_argument("--max-evaluations", type=int_in(1, 10_000_000), metavar="M", help="budget of each local search")
    add_scenario_options(p)
    p.set_defaults(func=cmd_calibrate)


def format_table(table) -> str:
    """Fixed-width text table: check, expected, got, tolerance, pass."""
    cols = ["check", "expected", "got", "tolerance", "pass"]
    rows = [[str(r["check"]), _fmt(r["expected"]), _fmt(r["got"]), _fmt(r["tolerance"]),
             "PASS" if r["passed"] else "FAIL"] for _, r in table.iterrows()]
    widths = [max(len(c), *(len(row[i]) for row in rows)) for i, c in enumerate(cols)]
    line = "  ".join(c.ljust(w) for c, w in zip(cols, widths, strict=True))
    out = [line, "  ".join("-" * w for w in widths)]
    out += ["  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)) for row in rows]
    return "\n".join(out)


def _fmt(v) -> str:
    if isinstance(v, float):
        return f"{v:.4g}"
    return str(v)


def cmd_validate_model(args) -> int:
    """``sim validate-model``: run the validation checks, print expected vs got; exit 1 if any fails."""
    from sim.io import write_csv
    from sim.validation import CHECKS, run_checks

    names = [c.strip() for c in args.checks.split(",") if c.strip()]
    unknown = [c for c in names if c not in CHECKS]
    if unknown or not names:
        raise UsageError("--checks", f"unknown check {unknown[0] if unknown else args.checks!r}; "
                                     f"choose from {','.join(CHECKS)}")
    t0 = time.perf_counter()
    table = run_checks(args.size, names, progress=lambda n: print(f"running {n} ...", file=sys.stderr))
    print(format_table(table))
    failed = int((~table["passed"]).sum())
    print(f"{len(table) - failed}/{len(table)} passed ({args.size} size, {time.perf_counter() - t0:.0f} s)")
    if args.csv:
        write_csv(table, args.csv)
    return 1 if failed else 0


def cmd_calibrate(args) -> int:
    """``sim calibrate``: fit free parameters to target moments and write the calibrated scenario and report."""
    from pydantic import ValidationError

    from sim.calibration import calibrate, read_targets
    from sim.calibration.targets import FitSettings

    scenario = load_scenario(args.scenario, args.overrides, args.population, args.seed)
    spec = read_targets(args.targets)
    changes = {"population": args.fit_population, "seeds": args.fit_seeds, "max_evaluations": args.max_evaluations}
    options = {"population": "--fit-population", "seeds": "--fit-seeds", "max_evaluations": "--max-evaluations"}
    try:  # the command-line overrides obey the same bounds as the file's fit block
        spec.fit = FitSettings.model_validate({**spec.fit.model_dump(),
                                               **{k: v for k, v in changes.items() if v is not None}})
    except ValidationError as err:
        first = err.errors()[0]
        raise UsageError(options[first["loc"][0]], first["msg"]) from None
    out = Path(args.out or Path("results") / "calibration" / scenario.name)
    t0 = time.perf_counter()

    def progress(n, best):
        if sys.stderr.isatty():
            print(f"\revaluations {n:5d}  best loss {best:10.4g}", end="", file=sys.stderr, flush=True)

    done = calibrate(scenario, spec, out, args.targets, progress)
    if sys.stderr.isatty():
        print(file=sys.stderr)
    res, report = done["result"], done["report"]
    print(done["parameters"].to_string(index=False, float_format=lambda v: f"{v:.4g}"))
    cols = ["target", "date", "value", "model", "error", "z", "matched"]
    print(report[cols].to_string(index=False, float_format=lambda v: f"{v:.4g}"))
    print(f"loss {res.loss_start:.4g} -> {res.loss_fit:.4g} in {res.evaluations} evaluations "
          f"({time.perf_counter() - t0:.0f} s; {res.message})")
    ranges = done["ranges"]
    kept = int(ranges["not_ruled_out"].iloc[0])
    print(f"history matching: {kept} of {int(ranges['points_tried'].iloc[0])} points tried are not ruled out "
          f"(every weighted target within {ranges['cutoff'].iloc[0]:g} scales; the best point's worst miss is "
          f"{ranges['best_implausibility'].iloc[0]:.3g} scales): ranges in fit_ranges.csv")
    print("wrote " + ", ".join(str(p) for p in done["written"]))
    return 0
