"""Backtest the calibration: fit on the targets observed by a cut-off (default 2023-12), forecast the later ones,
and print each error beside the survey's uncertainty, persistence and a linear trend (sim/calibration/backtest.py).

    .venv/bin/python scripts/backtest.py [scenario] [--targets FILE] [--cutoff YYYY-MM] [--population N]
        [--seeds R] [--lhs-points K] [--max-evaluations E] [--write-docs]

``--write-docs`` replaces the table between the backtest markers of docs/validation.md (written to a temporary file,
then renamed).
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

from sim.calibration import read_targets
from sim.calibration.backtest import backtest, markdown
from sim.io import write_text
from sim.loading import load_scenario

ROOT = Path(__file__).resolve().parents[1]
START, END = "<!-- backtest:start -->", "<!-- backtest:end -->"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("scenario", nargs="?", default="baseline", help="preset name or YAML path (default: baseline)")
    p.add_argument("--targets", default=str(ROOT / "calibration" / "targets_2023_2024.yaml"), help="targets file")
    p.add_argument("--cutoff", default="2023-12", help="last month fitted (YYYY-MM, default 2023-12)")
    p.add_argument("--population", type=int, help="developers per run during the fit (default: the file's)")
    p.add_argument("--seeds", type=int, help="common seeds (default: the file's)")
    p.add_argument("--lhs-points", type=int, help="Latin-hypercube start points (default: the file's)")
    p.add_argument("--max-evaluations", type=int, help="evaluation budget of the local search (default: the file's)")
    p.add_argument("--write-docs", action="store_true", help="write the table into docs/validation.md")
    args = p.parse_args()
    settings = {k: v for k, v in (("population", args.population), ("seeds", args.seeds),
                                  ("lhs_points", args.lhs_points), ("max_evaluations", args.max_evaluations))
                if v is not None}
    table, summary = backtest(load_scenario(args.scenario), read_targets(args.targets), args.cutoff, **settings)
    text = markdown(table, summary)
    print(text)
    if args.write_docs:
        doc = ROOT / "docs" / "validation.md"
        old = doc.read_text()
        block = f"{START}\n{text}\n{END}"
        new = re.sub(re.escape(START) + ".*?" + re.escape(END), lambda _: block, old, flags=re.S)
        write_text(new if START in old else old + "\n" + block + "\n", doc)
        print(f"wrote {doc}")


if __name__ == "__main__":
    main()
