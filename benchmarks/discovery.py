"""Benchmark (a script, not a test): ``sim discover``'s analysis on 10,000 design points x 10 parameters, on one core
(target: <= 10 s). Prints one ``key: value`` per line.

    .venv/bin/python benchmarks/discovery.py                  # 10,000 points x 10 parameters, 1 replicate
    .venv/bin/python benchmarks/discovery.py --points 2000    # a quicker look

The sweep table is synthetic (open pays where x1 > 0.7 and x2 < 0.3, the other eight parameters inert), so only
discovery is timed: labelling, PRIM with its 10 resampling reruns, extra-trees feature scores, the probability's
2,000-resample bootstrap and the three figures (drawn, not saved). Importing EMA Workbench (a one-off per process,
several seconds) is timed apart. ``taskset -c 0`` pins the process to one core where available.
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np
import pandas as pd


def synthetic_results(points: int, parameters: int, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x = rng.random((points, parameters))
    pays = (x[:, 0] > 0.7) & (x[:, 1] < 0.3)
    delta = np.where(pays, 1.0, -1.0) + rng.normal(0, 0.3, points)
    frame = {"experiment": "bench", "point": np.repeat(np.arange(points), 2)}
    for j in range(parameters):
        frame[f"param.x{j}"] = np.repeat(x[:, j], 2)
    frame.update(strategy=np.tile(["open", "closed"], points), replicate=0, seed=np.repeat(np.arange(points), 2))
    frame["npv.meta"] = np.ravel(np.column_stack([delta, np.zeros(points)]))
    return pd.DataFrame(frame)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=10_000)
    parser.add_argument("--parameters", type=int, default=10)
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # one core, as the target says
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    from sim.experiments import discovery
    from sim.experiments.discovery import Settings, discover
    from sim.figures.sweep import discovery_figures

    results = synthetic_results(args.points, args.parameters)
    t0 = time.perf_counter()
    discovery._import_ema()
    t_import = time.perf_counter() - t0
    t0, c0 = time.perf_counter(), time.process_time()
    d = discover(results, Settings(seed=3))
    t_analysis = time.perf_counter() - t0
    discovery_figures(d)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    top = d.boxes[d.boxes["box"] == 1]
    print(f"points: {args.points}")
    print(f"parameters: {args.parameters}")
    print(f"import_ema_workbench_s: {t_import:.2f}")
    print(f"analysis_s: {t_analysis:.2f}")
    print(f"analysis_and_figures_s: {wall:.2f}")
    print(f"cpu_s: {cpu:.2f}")
    # On a shared machine the pinned core also runs other people's work: CPU time is this process's own cost.
    print(f"target_10s_met_cpu: {cpu <= 10}")
    print(f"target_10s_met_wall: {wall <= 10}")
    limits = zip(top['parameter'], top['lower'], top['upper'], strict=True)
    print(f"box: {'; '.join(f'{p} [{lo:.3g}, {hi:.3g}]' for p, lo, hi in limits)}")
    print(f"coverage: {top['coverage'].iloc[0]:.3f}")
    print(f"density: {top['density'].iloc[0]:.3f}")
    print(f"probability: {d.probability['estimate'].iloc[0]:.4f}")


if __name__ == "__main__":
    main()
