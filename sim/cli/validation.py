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


TABLE_WIDTH = 120  # the validate-model table fits a terminal this wide: long cells wrap within their column
CHECK_WEIGHT = 2  # the check's description keeps twice the width of a value column when the table must narrow


def format_table(table, width: int = TABLE_WIDTH) -> str:
    """Text table: check, expected, got, tolerance, pass; at most ``width`` wide, a long cell wrapped within its
    column (the widths: :func:`fit_widths`)."""
    import textwrap

    cols = ["check", "expected", "got", "tolerance", "pass"]
    rows = [[str(r["check"]), _fmt(r["expected"]), _fmt(r["got"]), _fmt(r["tolerance"]),
             "PASS" if r["passed"] else "FAIL"] for _, r in table.iterrows()]
    lengths = [[len(c)] + [len(row[i]) for row in rows] for i, c in enumerate(cols)]
    words = [max(len(word) for cell in [c, *(row[i] for row in rows)] for word in cell.split() or [""])
             for i, c in enumerate(cols)]  # no word is cut
    widths = fit_widths([max(n) for n in lengths], [max(typical(n), w) for n, w in zip(lengths, words, strict=True)],
                        [CHECK_WEIGHT, 1, 1, 1, 1], width - 2 * (len(cols) - 1), words)

    def lines_of(cells: list[str]) -> list[str]:
        wrapped = [textwrap.wrap(v, w, break_on_hyphens=False) or [""] for v, w in zip(cells, widths, strict=True)]
        return ["  ".join((w[k] if k < len(w) else "").ljust(n) for w, n in zip(wrapped, widths, strict=True))
                .rstrip() for k in range(max(len(w) for w in wrapped))]

    out = lines_of(cols) + ["  ".join("-" * w for w in widths)]
    for row in rows:
        out += lines_of(row)
    return "\n".join(out)


def typical(lengths: list[int]) -> int:
    """The width that holds nine cells in ten of a column (its header's at least)."""
    ordered = sorted(lengths[1:]) or [0]
    return max(lengths[0], ordered[min(len(ordered) - 1, int(0.9 * len(ordered)))])


def fit_widths(natural: list[int], comfortable: list[int], weights: list[float], room: int,
               floors: list[int]) -> list[int]:
    """Column widths that sum to at most ``room``: the natural ones if they fit; else each column first gives up
    what only its rare long cells need (down to ``comfortable``, the most overlong first), then, if that is not
    enough, one character at a time from the column widest for its weight (never below its floor)."""
    widths = list(natural)
    while sum(widths) > room:
        over = [w - c for w, c in zip(widths, comfortable, strict=True)]
        if max(over) > 0:
            widths[over.index(max(over))] -= 1
            continue
        shrinkable = [i for i, w in enumerate(widths) if w > floors[i]]
        if not shrinkable:
            break
        widths[max(shrinkable, key=lambda i: widths[i] / weights[i])] -= 1
    return widths


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
