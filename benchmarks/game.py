"""Benchmark (a script, not a test): wall time of the four-firm game, experiments/llm_market_game.yaml (4 x 4 x 4 x
4 = 256 profiles) x R replicates at 20,000 developers x 60 months (issue target: 3 x 4 x 4 x 4 profiles x 10
replicates <= 10 min on 2 cores; the preset's Meta menu adds open without the clause).

    .venv/bin/python benchmarks/game.py                                     # 16 profiles, extrapolated to all
    .venv/bin/python benchmarks/game.py --profiles 256 --replications 10    # the whole game

The subset is at most ``--profiles`` profiles of the preset (every menu item's cost is alike: the profiles differ
in pricing, tiers and open weights, not in size). Timed through :func:`sim.decision.play.run_game`
with local workers, so it includes spawning them, one Parquet part per run, the manifest and the game analysis.
Prints one ``key: value`` per line.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import resource
import tempfile
import time
from pathlib import Path


def cpu_seconds() -> float:
    """CPU time of this process and its finished children (the worker processes, once the pool is shut down)."""
    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def subset(problem, n_profiles: int):
    """The game restricted to its first ``n_profiles`` profiles, by trimming the last players' menus."""
    menus = list(problem.menus)
    for j in reversed(range(len(menus))):
        while len(menus[j]) > 1 and _count(menus) > n_profiles:
            menus[j] = menus[j][:-1]
    status = tuple(min(s, len(m) - 1) for s, m in zip(problem.status_quo, menus, strict=True))
    return dataclasses.replace(problem, menus=tuple(menus), status_quo=status, hash=f"{problem.hash}-{n_profiles}")


def _count(menus) -> int:
    out = 1
    for m in menus:
        out *= len(m)
    return out


def main() -> None:
    from sim.decision.levers import load_decision
    from sim.decision.play import run_game
    from sim.experiments.sweep import make_evaluator

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profiles", type=int, default=16, help="profiles to run (192: the whole game)")
    parser.add_argument("--replications", type=int, default=2, help="replicates run (extrapolated to --target-r)")
    parser.add_argument("--target-r", type=int, default=10)
    parser.add_argument("--population", type=int, default=20_000)
    parser.add_argument("--horizon", type=int, default=60)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()

    full = load_decision("llm_market_game")
    spec = full.spec.model_copy(update={"replications": args.replications})
    base = {**full.base, "population": {**full.base["population"], "n": args.population},
            "horizon_months": args.horizon}
    problem = subset(dataclasses.replace(full, spec=spec, base=base), args.profiles)
    runs = len(problem.profiles()) * args.replications
    with tempfile.TemporaryDirectory() as tmp:
        load_before = os.getloadavg()[0]
        start, cpu = time.perf_counter(), cpu_seconds()
        with make_evaluator(args.workers) as evaluator:
            result = run_game(problem, Path(tmp) / "game", evaluator)
        wall = time.perf_counter() - start
        cpu = cpu_seconds() - cpu
        load_after = os.getloadavg()[0]
    assert result.ran == runs
    total_runs = len(full.profiles()) * args.target_r
    print(f"cores: {len(os.sched_getaffinity(0))}")
    print(f"workers: {args.workers}")
    print(f"population: {args.population}")
    print(f"horizon_months: {args.horizon}")
    print(f"profiles_run: {len(problem.profiles())} of {len(full.profiles())}")
    print(f"replications_run: {args.replications}")
    print(f"runs: {runs}")
    print(f"wall_s: {wall:.1f}")
    print(f"per_run_s: {wall / runs:.3f}")
    print(f"full_game_runs: {total_runs} ({len(full.profiles())} profiles x {args.target_r} replicates)")
    print(f"cpu_s: {cpu:.1f}")
    print(f"cpu_per_run_s: {cpu / runs:.3f}")
    print(f"full_game_extrapolated_wall_s: {wall / runs * total_runs:.0f}")
    print(f"full_game_extrapolated_quiet_s: {cpu / runs * total_runs / args.workers:.0f} (CPU time / workers: "
          f"what {args.workers} otherwise idle cores would take)")
    print("target_s: 600")
    print(f"load_average_before_after: {load_before:.2f} {load_after:.2f}")


if __name__ == "__main__":
    main()
