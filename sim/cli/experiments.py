"""``sim sweep``, ``sim analyze`` and ``sim discover``: parse arguments and call :mod:`sim.experiments`."""

from __future__ import annotations

import sys
from pathlib import Path

from sim.cli.common import UsageError, int_in, is_interrupt, progress_bar
from sim.errors import ConfigError
from sim.strategies import PAIRS


def cmd_sweep(args) -> int:
    """``sim sweep``: run an experiment's design into a resumable folder and write results.parquet."""
    from sim.experiments import load_experiment, run_sweep
    from sim.experiments.base import WorkerLost

    if args.workers is not None and args.workers < 1:
        raise UsageError("--workers", "must be at least 1")
    experiment = load_experiment(args.experiment)
    out = Path(args.out or Path("results") / "sweeps" / experiment.spec.name)
    bar = progress_bar(0, experiment.spec.name, unit="run")

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
    except (KeyboardInterrupt, SystemError) as exc:  # numba's SystemError chained to Ctrl-C is Ctrl-C too
        if not is_interrupt(exc):
            raise
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
    """``sim analyze``: paired deltas, bootstrap CIs and sensitivity indices of a finished sweep."""
    from sim.experiments.analysis import analyze_dir

    out = Path(args.dir)
    for name in ("experiment.json", "results.parquet"):
        if not (out / name).is_file():
            raise UsageError("DIR", f"{out} has no {name}; run sim sweep (to the end) first")
    written = analyze_dir(out, n_boot=args.bootstrap)
    import pandas as pd

    from sim.experiments.analysis import probability_lines

    for line in delta_summary(out, args.bootstrap):
        print(line)
    for line in probability_lines(pd.read_csv(written["probability"])):
        print(line)
    print("wrote " + ", ".join(str(p) for p in written.values()))
    return 0


def cmd_discover(args) -> int:
    """``sim discover``: find the boxes of a sweep's inputs where open pays, and write them with figures."""
    import json
    from dataclasses import asdict

    from sim.experiments.discovery import DiscoveryError, Settings, discover_folder, summary_lines
    from sim.figures.run import save_both
    from sim.figures.sweep import discovery_figures
    from sim.io import write_csv, write_text

    folder = Path(args.dir)
    settings = Settings(metric=args.metric, comparison=args.comparison, threshold=args.threshold, where=args.where,
                        method=args.method, per_replicate=args.per_replicate, resamples=args.resamples,
                        n_boot=args.bootstrap)
    try:
        d = discover_folder(folder, settings)
    except DiscoveryError as exc:
        if exc.where == "DIR":
            raise ConfigError(folder, "", str(exc)) from None
        raise UsageError(exc.where, str(exc)) from None
    figures = discovery_figures(d)  # everything is computed before the first file is written
    out = Path(args.out) if args.out else folder / "discovery"
    write_csv(d.boxes, out / "boxes.csv")
    write_csv(d.trajectory, out / "trajectory.csv")
    write_csv(d.feature_scores, out / "feature_scores.csv")
    write_csv(d.probability, out / "probability.csv")
    labels = d.labels.x.assign(point=d.labels.points, difference=d.labels.value, open_pays=d.labels.label)
    write_csv(labels[["point", *d.labels.x.columns, "difference", "open_pays"]], out / "labels.csv")
    for name, fig in figures.items():
        save_both(fig, out / name)
    write_text(json.dumps({"settings": asdict(d.settings), "design": d.design_method, "box_of": "open pays" if
                           d.box_of else "open does not pay"}, indent=2), out / "discovery.json")
    for line in summary_lines(d):
        print(line)
    print(f"wrote {out}/boxes.csv, trajectory.csv, feature_scores.csv, probability.csv, labels.csv, discovery.json, "
          + ", ".join(f"{n}.png/.svg" for n in figures))
    return 0


def delta_summary(out: Path, n_boot: int, metric: str = "npv.meta") -> list[str]:
    """One line per comparison: the paired mean delta of ``metric`` over all points and replicates with a seeded
    bootstrap 95% CI, and at how many design points open is ahead (and clearly so: the point's CI above 0)."""
    import json

    import numpy as np
    import pandas as pd

    from sim.experiments.analysis import BOOTSTRAP_STREAM, bootstrap_mean_ci, paired_differences
    from sim.runner import derive_seed

    record = json.loads((out / "experiment.json").read_text(encoding="utf-8"))
    results = pd.read_parquet(out / "results.parquet")
    deltas = pd.read_csv(out / "paired_deltas.csv")
    metric = metric if metric in results else record["metrics"][0]
    scale, unit = (1e9, " $B") if metric.startswith("npv.") else (1.0, "")
    lines = []
    for number, comparison in enumerate(dict.fromkeys(deltas["comparison"])):
        a, b = comparison.split("-")
        d = paired_differences(results, a, b, [metric])[[metric]].to_numpy(float)
        rng = np.random.default_rng(derive_seed(int(record["experiment"]["seed"]), BOOTSTRAP_STREAM, 1 << 20, number))
        mean, lo, hi = (v[0] / scale for v in bootstrap_mean_ci(d, rng, n_boot, 0.95))
        rows = deltas[(deltas["comparison"] == comparison) & (deltas["metric"] == metric)]
        ci = f" [95% CI {lo:+,.3f}, {hi:+,.3f}]" if len(d) >= 3 else " (too few runs for a CI)"
        lines.append(f"{metric}, {a} - {b}: mean {mean:+,.3f}{unit}{ci} over {len(d)} paired runs; {a} ahead at "
                     f"{int((rows['mean'] > 0).sum())} of {len(rows)} points ({int((rows['ci_lo'] > 0).sum())} "
                     f"with the point's CI above 0, {int((rows['ci_hi'] < 0).sum())} below)")
    return lines or [f"{metric}: no pair of strategies to compare (the sweep ran one strategy)"]


def register(sub) -> None:
    """Add ``sim sweep``, ``sim analyze`` and ``sim discover`` to the command line."""
    p = sub.add_parser("sweep", help="run an experiment (parameter sweep) into a resumable output folder")
    p.add_argument("experiment", help="an experiment's name in experiments/ or a YAML path (check it first with "
                                      "sim validate)")
    p.add_argument("--out", metavar="DIR", help="output folder (default results/sweeps/<experiment name>); refused "
                                                "if it holds a sim run or another experiment")
    p.add_argument("--workers", type=int_in(1, 512), metavar="K", help="local worker processes (default: all cores)")
    p.add_argument("--scheduler", metavar="ADDRESS", help="Dask scheduler, e.g. tcp://host:8786, instead of local "
                                                          "processes")
    p.add_argument("--resume", action="store_true", help="continue a killed sweep in DIR, skipping finished runs")
    p.set_defaults(func=cmd_sweep)

    p = sub.add_parser("analyze", help="paired deltas with bootstrap CIs and Sobol'/Morris indices of a sweep; "
                                       "prints the mean open-minus-other delta of npv.meta")
    p.add_argument("dir", metavar="DIR", help="a sweep's output folder")
    p.add_argument("--bootstrap", type=int_in(100, 100_000), default=2000, metavar="B",
                   help="bootstrap resamples (default 2000)")
    p.set_defaults(func=cmd_analyze)

    p = sub.add_parser("discover", help="scenario discovery on a sweep: where open pays (PRIM/CART boxes, feature "
                                        "scores) and how likely that is")
    p.add_argument("dir", metavar="DIR", help="a finished sweep's output folder")
    p.add_argument("--metric", default="npv.meta", metavar="M", help="the metric compared (default npv.meta)")
    p.add_argument("--comparison", choices=[f"{a}-{b}" for a, b in PAIRS], default="open-closed",
                   help="the paired difference that labels each point (default open-closed; closed-absent asks "
                        "whether building a closed model pays)")
    p.add_argument("--threshold", type=float, default=0.0, metavar="X",
                   help="open pays when the difference is beyond X (default 0)")
    p.add_argument("--where", choices=("above", "below"), default="above",
                   help="beyond means above X (default) or below X")
    p.add_argument("--method", choices=("prim", "cart"), default="prim", help="how boxes are found (default prim)")
    p.add_argument("--per-replicate", action="store_true",
                   help="label single runs instead of each point's mean over replicates")
    p.add_argument("--resamples", type=int_in(0, 1000), default=10, metavar="K",
                   help="PRIM reruns on random halves for the box's stability (default 10; 0 skips)")
    p.add_argument("--bootstrap", type=int_in(100, 100_000), default=2000, metavar="B",
                   help="bootstrap resamples of the probability's CI (default 2000)")
    p.add_argument("--out", metavar="DIR2", help="output folder (default DIR/discovery)")
    p.set_defaults(func=cmd_discover)
