"""Benchmark (a script, not a test): the cost of one sweep run (20,000 developers x 60 months, the layout of
``benchmarks/sweep.py``), as CPU time or as instructions.

    .venv/bin/python benchmarks/run_cost.py                  # CPU ms per run: min and median of repeats
    .venv/bin/python benchmarks/run_cost.py --instructions   # instructions per run under valgrind (about 15 min)

On a shared machine two identical runs can differ by 30% in CPU time, which hides a 5% change. Instructions counted
by valgrind's callgrind are the same on every repeat. The script runs itself twice under callgrind, once with 0 runs
and once with 4 runs after the same two warm-up runs, and prints the difference divided by 4. Prints one
``key: value`` per line.
"""

from __future__ import annotations

import argparse
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from sweep import EXPERIMENT  # noqa: E402  (the same experiment as the sweep benchmark)

COUNTED_RUNS = 4


def sweep_runs(runs: int):
    """The run context and the first ``runs`` + 2 run specs of the sweep benchmark's experiment."""
    from sim.experiments import load_experiment

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.yaml"
        path.write_text(EXPERIMENT.format(runs=2 * runs + 4, points=runs + 2, population=20_000, horizon=60))
        experiment = load_experiment(path)
    return experiment.context(), list(experiment.runs())[: runs + 2]


def run_only(runs: int) -> None:
    """Two warm-up runs, then ``runs`` more: what callgrind counts."""
    from sim.experiments.runs import execute

    context, specs = sweep_runs(runs)
    for spec in specs:
        execute(context, spec)


def cpu_per_run(runs: int, repeats: int) -> list[float]:
    from sim.experiments.runs import execute

    context, specs = sweep_runs(runs)
    execute(context, specs[0])
    out = []
    for _ in range(repeats):
        start = time.process_time()
        for spec in specs[2:]:
            execute(context, spec)
        out.append((time.process_time() - start) / runs)
    return out


def instructions(runs: int) -> subprocess.Popen:
    """Instructions of this script with ``--only runs`` under callgrind (started, not waited for)."""
    return subprocess.Popen(["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", sys.executable,
                             __file__, "--only", str(runs)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            text=True)


def collected(process) -> int:
    _, err = process.communicate()
    found = re.search(r"Collected : (\d+)", err)
    if process.returncode or not found:
        raise SystemExit(f"valgrind failed: {err[-500:]}")
    return int(found.group(1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--instructions", action="store_true", help="count instructions under valgrind")
    parser.add_argument("--runs", type=int, default=10, help="runs per CPU-time repeat")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--only", type=int, help=argparse.SUPPRESS)  # internal: what callgrind runs
    args = parser.parse_args()
    if args.only is not None:
        run_only(args.only)
        return
    if args.instructions:
        if shutil.which("valgrind") is None:
            raise SystemExit("valgrind is not installed (apt-get install valgrind)")
        base, counted = instructions(0), instructions(COUNTED_RUNS)  # both at once: one core each
        per_run = (collected(counted) - collected(base)) / COUNTED_RUNS
        print(f"instructions_per_run_millions: {per_run / 1e6:.1f}")
        return
    times = cpu_per_run(args.runs, args.repeats)
    print(f"cpu_ms_per_run_min: {1e3 * min(times):.1f}")
    print(f"cpu_ms_per_run_median: {1e3 * statistics.median(times):.1f}")


if __name__ == "__main__":
    main()
