"""Own-price elasticity of each closed lab's adopter share in a scenario, early and late in the horizon.

A lab cuts its price by 20% for three months (a dated event), paired with the same run without the cut (same seeds).
The elasticity is (relative change of the lab's share of adopters, mean over the three months) / (-0.2). Under a cost
term whose price competition fades as prices fall tenfold a year, the late elasticity would be a small fraction of
the early one; the log cost keeps them within a factor of two.

    .venv/bin/python scripts/elasticities.py [scenario] [--population N] [--seeds R]
"""

from __future__ import annotations

import argparse

import numpy as np

from sim.config import CLOSED_LABS, Event, month_index
from sim.loading import load_scenario
from sim.runner import derive_seed, simulate

CUT, MONTHS = 0.8, 3


def elasticity(scenario, lab: str, date: str, seeds: int) -> float:
    start = month_index(scenario.start, date)
    end_date = f"{int(date[:4]) + (int(date[5:]) + MONTHS - 1) // 12}-{(int(date[5:]) + MONTHS - 1) % 12 + 1:02d}"
    cut = scenario.model_copy(deep=True)
    cut.events = [*cut.events,
                  Event(date=date, multiply={f"providers.{lab}.price.multiplier": CUT}),
                  Event(date=end_date, multiply={f"providers.{lab}.price.multiplier": 1.0 / CUT})]
    window = slice(start, start + MONTHS)
    ratios = []
    for r in range(seeds):
        seed = derive_seed(scenario.seed, r)
        base = simulate(scenario, "open", seed)[f"share_users.{lab}"].iloc[window].mean()
        moved = simulate(cut, "open", seed)[f"share_users.{lab}"].iloc[window].mean()
        ratios.append((moved - base) / base)
    return float(np.mean(ratios) / (CUT - 1.0))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("scenario", nargs="?", default="baseline", help="preset name or YAML path (default: baseline)")
    p.add_argument("--population", type=int, default=20000, help="developers per run (default 20000)")
    p.add_argument("--seeds", type=int, default=4, help="paired replicates (default 4)")
    p.add_argument("--dates", default="2023-06,2027-06", help="two cut dates, YYYY-MM (default 2023-06,2027-06)")
    args = p.parse_args()
    scenario = load_scenario(args.scenario, population=args.population)
    early, late = args.dates.split(",")
    print(f"| lab | elasticity {early} | elasticity {late} | ratio |")
    print("|---|---:|---:|---:|")
    for lab in CLOSED_LABS:
        a, b = (elasticity(scenario, lab, d, args.seeds) for d in (early, late))
        ratio = max(abs(a), abs(b)) / min(abs(a), abs(b)) if min(abs(a), abs(b)) > 0 else float("inf")
        print(f"| {lab} | {a:.2f} | {b:.2f} | {ratio:.2f} |")


if __name__ == "__main__":
    main()
