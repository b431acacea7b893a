"""Per preset, how likely each strategy is to beat another over the documented parameter ranges (docs/presets.md).

For every preset a Latin hypercube over the uncertain parameters of ``experiments/where_open_pays.yaml`` — less the
ones the preset sets itself, which make it the preset — runs open, closed and absent on paired seeds. Printed: the
share of worlds where open beats closed, open beats absent and closed beats absent (Wilson 95% intervals), beside
nothing else, so a strategist reads the seed intervals of ``scripts/preset_outcomes.py`` and these together.

Usage: .venv/bin/python scripts/preset_probabilities.py [--points 100] [--population 10000] [--workers 2]
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import yaml

from sim import paths
from sim.cli.scenarios import preset_paths
from sim.experiments import load_experiment, run_sweep
from sim.experiments.analysis import wilson

ROOT = Path(__file__).resolve().parents[1]
PAIRS = (("open", "closed"), ("open", "absent"), ("closed", "absent"))


def own_paths(preset: Path) -> set[str]:
    """The parameter paths a preset file sets itself (its identity), events' edits included; none for the baseline,
    which the ranges are drawn around."""
    data = yaml.safe_load(preset.read_text()) or {}
    if "extends" not in data:
        return set()
    events = data.pop("events", []) or []
    for key in ("extends", "name", "description", "seed"):
        data.pop(key, None)
    own = set(paths.leaves(data))
    for event in events:
        own |= set((event.get("set") or {}) | (event.get("multiply") or {}))
    return own


def experiment_for(preset: Path, points: int, population: int, folder: Path) -> Path:
    """The where_open_pays design around ``preset``: its parameters less the preset's own."""
    spec = yaml.safe_load((ROOT / "experiments" / "where_open_pays.yaml").read_text())
    own = own_paths(preset)
    kept = {p: r for p, r in spec["parameters"].items()
            if not any(p == o or p.startswith(o + ".") or o.startswith(p + ".") for o in own)}
    spec.update(name=f"odds_{preset.stem}", scenario=str(preset), replications=1, population=population,
                parameters=kept, design={"method": "lhs", "size": points},
                outputs={"metrics": ["npv.meta"], "statistics": ["mean"]})
    path = folder / f"{preset.stem}.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    return path


def odds(results) -> list[str]:
    """'p% [lo, hi]' of each pair's wins over the worlds (paired runs of one seed per world)."""
    wide = results.pivot_table(index="point", columns="strategy", values="npv.meta")
    out = []
    for a, b in PAIRS:
        wins, n = int((wide[a] > wide[b]).sum()), len(wide)
        lo, hi = (float(v) for v in wilson(wins / n, n))
        out.append(f"{100 * wins / n:.0f}% [{100 * lo:.0f}, {100 * hi:.0f}]")
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--points", type=int, default=100, help="worlds per preset (default 100)")
    p.add_argument("--population", type=int, default=10000, help="developers per run (default 10000)")
    p.add_argument("--workers", type=int, default=2, help="worker processes (default 2)")
    args = p.parse_args()
    print(f"{args.points} worlds per preset (Latin hypercube over the where_open_pays ranges the preset does not set), "
          f"{args.population:,} developers, one paired seed per world; Wilson 95% intervals.\n")
    print("| preset | P(open > closed) | P(open > absent) | P(closed > absent) | parameters swept |")
    print("|---|---:|---:|---:|---:|")
    with tempfile.TemporaryDirectory() as tmp:
        for preset in preset_paths():
            path = experiment_for(Path(preset), args.points, args.population, Path(tmp))
            experiment = load_experiment(path)
            result = run_sweep(experiment, Path(tmp) / Path(preset).stem, workers=args.workers)
            swept = len(experiment.spec.parameters)
            print(f"| {Path(preset).stem} | " + " | ".join(odds(result.results)) + f" | {swept} |", flush=True)


if __name__ == "__main__":
    main()
