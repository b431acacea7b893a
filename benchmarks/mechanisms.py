"""What each mechanism of the market-meets-the-data work costs the engine, measured in one run (docs/performance.md).

The baseline at 1M developers x 60 months (strategy open, steps only, one core) against the same run with one
mechanism switched off (two tasks, entry through the outside option, the outside option tracking the frontier) or on
(nested choice by family, lambda = 0.7). Variants are timed in interleaved rounds and the figure is the ratio of
medians to the baseline's, so load on a shared machine moves both sides alike.

    .venv/bin/python benchmarks/mechanisms.py [--population N] [--rounds R]
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402

from sim.loading import load_scenario  # noqa: E402
from sim.market import LLMMarket  # noqa: E402

VARIANTS = {
    "baseline": [],
    "one task (agentic_share 0)": ["population.tasks.agentic_share=0"],
    "no entry choice (entry_outside off)": ["adoption.entry_outside=false"],
    "fixed outside option (tracks 0)": ["choice.outside_tracks_frontier=0", "choice.outside_tracks_cost=0"],
    "nested by family (lambda 0.7)": ["choice.family_nesting=0.7"],
}


def steps_seconds(overrides: list[str], population: int) -> float:
    """Wall seconds of the monthly steps of one run (construction excluded)."""
    model = LLMMarket(load_scenario("baseline", overrides, population=population), "open", seed=1)
    t0 = time.perf_counter()
    model.run()
    return time.perf_counter() - t0


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--population", type=int, default=1_000_000)
    p.add_argument("--rounds", type=int, default=5)
    args = p.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {0})
    steps_seconds([], 20_000)  # compile and warm the kernels
    times: dict[str, list[float]] = {name: [] for name in VARIANTS}
    for _ in range(args.rounds):
        for name, overrides in VARIANTS.items():
            times[name].append(steps_seconds(overrides, args.population))
    base = statistics.median(times["baseline"])
    print(f"load_average: {os.getloadavg()[0]:.2f}; {args.population:,} developers x 60 months, {args.rounds} rounds")
    for name, ts in times.items():
        med = statistics.median(ts)
        print(f"{name}: {med:.3f} s (x{med / base:.2f} of the baseline)")


if __name__ == "__main__":
    main()
