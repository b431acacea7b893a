"""Snapshot every seeded output, and compare two snapshots bit for bit (for refactors that must change nothing).

    python benchmarks/bitwise.py write DIR [--population 20000 --replications 2]
    python benchmarks/bitwise.py compare OLD NEW [--allow COLUMN ...]

``write`` runs every preset under each of Meta's strategies (paired seeds) and keeps ``timeseries.parquet`` and
``summary.csv`` per preset x strategy, the smoke sweep's ``results.parquet`` and the game smoke's payoffs.
``compare`` reads two such folders and reports, per file, whether every column is bitwise equal (NaNs compared as
bits too); ``--allow`` names columns that may differ (a fix that changes one column on purpose). Exit 1 on any
other difference.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

STRATEGIES = ("open", "closed", "absent")


def write(out: Path, population: int, replications: int) -> None:
    from sim.api import load
    from sim.cli import main as cli_main
    from sim.runner import run_scenario

    out.mkdir(parents=True, exist_ok=True)
    presets = sorted(p.stem for p in (Path(__file__).resolve().parents[1] / "scenarios").glob("*.yaml"))
    for name in presets:
        scenario = load(name, population=population)
        for strategy in STRATEGIES:
            ts, summary = run_scenario(scenario, [strategy], replications)
            ts.to_parquet(out / f"{name}.{strategy}.timeseries.parquet")
            summary.to_csv(out / f"{name}.{strategy}.summary.csv", index=False, float_format="%.17g")
        print(name, flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        for argv, kept in ((["sweep", "smoke", "--out", f"{tmp}/sweep"], f"{tmp}/sweep/results.parquet"),
                           (["game", "llm_market_game_smoke", "--out", f"{tmp}/game"], f"{tmp}/game/payoffs.parquet")):
            code = cli_main(argv)
            if code:
                raise SystemExit(f"sim {' '.join(argv)} exited {code}")
            target = out / Path(kept).name
            pd.read_parquet(kept).to_parquet(target)
    print(f"wrote {out}")


def same_bits(a: pd.Series, b: pd.Series) -> bool:
    """Equal to the last bit (NaN payloads included) for numbers; equal values otherwise."""
    if a.dtype.kind in "fc" and b.dtype.kind in "fc":
        return a.dtype == b.dtype and np.array_equal(a.to_numpy().view(np.uint8), b.to_numpy().view(np.uint8))
    return a.astype(str).tolist() == b.astype(str).tolist()


def read(path: Path) -> pd.DataFrame:
    return pd.read_parquet(path) if path.suffix == ".parquet" else pd.read_csv(path)


def compare(old: Path, new: Path, allow: set[str]) -> int:
    names = sorted(p.name for p in old.iterdir())
    missing = [n for n in names if not (new / n).exists()]
    bad = 0
    for n in missing:
        print(f"MISSING {n}")
        bad += 1
    allowed_diffs: dict[str, int] = {}
    for n in names:
        if n in missing:
            continue
        a, b = read(old / n), read(new / n)
        if len(a) != len(b) or list(a.columns) != list(b.columns):
            print(f"DIFFER  {n}: shape or columns ({a.shape} vs {b.shape})")
            extra = set(a.columns) ^ set(b.columns)
            if extra:
                print(f"        columns only on one side: {sorted(extra)[:10]}")
            bad += 1
            continue
        cols = [c for c in a.columns if not same_bits(a[c], b[c])]
        for c in cols:
            if c in allow:
                allowed_diffs[c] = allowed_diffs.get(c, 0) + 1
        cols = [c for c in cols if c not in allow]
        if cols:
            print(f"DIFFER  {n}: {len(cols)} columns, e.g. {cols[:6]}")
            bad += 1
    for c, k in allowed_diffs.items():
        print(f"allowed: {c} differs in {k} files")
    print(f"{len(names) - bad} of {len(names)} files bitwise equal" + (" (allowed columns aside)" if allow else ""))
    return 1 if bad else 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    w = sub.add_parser("write")
    w.add_argument("out", type=Path)
    w.add_argument("--population", type=int, default=20_000)
    w.add_argument("--replications", type=int, default=2)
    c = sub.add_parser("compare")
    c.add_argument("old", type=Path)
    c.add_argument("new", type=Path)
    c.add_argument("--allow", nargs="*", default=[])
    args = ap.parse_args(argv)
    if args.cmd == "write":
        write(args.out, args.population, args.replications)
        return 0
    return compare(args.old, args.new, set(args.allow))


if __name__ == "__main__":
    sys.exit(main())
