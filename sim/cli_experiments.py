"""``sim sweep`` and ``sim analyze``: parse arguments and call :mod:`sim.experiments`."""

from __future__ import annotations

import sys
from pathlib import Path

from sim.cli import UsageError, int_in


def cmd_sweep(args) -> int:
    from tqdm import tqdm

    from sim.experiments import load_experiment, run_sweep
    from sim.experiments.evaluators import WorkerLost

    if args.workers is not None and args.workers < 1:
        raise UsageError("--workers", "must be at least 1")
    experiment = load_experiment(args.experiment)
    out = Path(args.out or Path("results") / "sweeps" / experiment.spec.name)
    bar = tqdm(total=0, desc=experiment.spec.name, unit="run", delay=1.0, disable=not sys.stderr.isatty(),
               leave=False, dynamic_ncols=True)

    def start(todo: int, done: int) -> None:
        bar.reset(total=todo)
        if done:
            print(f"resuming: {done} of {todo + done} runs already finished", file=sys.stderr)

    try:
        with bar:
            result = run_sweep(experiment, out, workers=args.workers, scheduler=args.scheduler, resume=args.resume,
                               on_start=start, on_progress=bar.update)
    except WorkerLost as exc:
        print(f"sim sweep: {exc}; the finished runs are stored: rerun with --resume", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"sim sweep: interrupted; the finished runs are stored in {out}: rerun with --resume to continue",
              file=sys.stderr)
        return 130
    print(f"{experiment.spec.name}: {experiment.design.size} points x {experiment.spec.replications} replications x "
          f"{len(experiment.spec.strategies)} strategies = {experiment.n_runs} runs ({result.ran} ran now on "
          f"{result.backend} with {result.workers} worker{'s' * (result.workers > 1)}, {result.skipped} had "
          f"finished before)")
    print(f"wrote {out}/results.parquet")
    return 0


def cmd_analyze(args) -> int:
    from sim.experiments.analysis import analyze_dir

    out = Path(args.dir)
    for name in ("experiment.json", "results.parquet"):
        if not (out / name).is_file():
            raise UsageError("DIR", f"{out} has no {name}; run sim sweep (to the end) first")
    written = analyze_dir(out, n_boot=args.bootstrap)
    print("wrote " + ", ".join(str(p) for p in written.values()))
    return 0


def register(sub) -> None:
    p = sub.add_parser("sweep", help="run an experiment (parameter sweep) into a resumable output folder")
    p.add_argument("experiment", help="an experiment's name in experiments/ or a YAML path")
    p.add_argument("--out", metavar="DIR", help="output folder (default results/sweeps/<experiment name>)")
    p.add_argument("--workers", type=int_in(1, 512), metavar="K", help="local worker processes (default: all cores)")
    p.add_argument("--scheduler", metavar="ADDRESS", help="Dask scheduler, e.g. tcp://host:8786, instead of local "
                                                          "processes")
    p.add_argument("--resume", action="store_true", help="continue a killed sweep in DIR, skipping finished runs")
    p.set_defaults(func=cmd_sweep)

    p = sub.add_parser("analyze", help="paired deltas with bootstrap CIs and Sobol'/Morris indices of a sweep")
    p.add_argument("dir", metavar="DIR", help="a sweep's output folder")
    p.add_argument("--bootstrap", type=int_in(100, 100_000), default=2000, metavar="B",
                   help="bootstrap resamples (default 2000)")
    p.set_defaults(func=cmd_analyze)
