"""Paired speed comparison of two versions of the code in one run, for "no slower than before" claims (a script, not
a test; the machine's load moves both sides alike because they alternate).

    .venv/bin/python benchmarks/paired.py --old main --new .     # engine only (benchmarks/engine.py --quick)
    .venv/bin/python benchmarks/paired.py --old HEAD~1 --new HEAD --rounds 5
    .venv/bin/python benchmarks/paired.py --old main --new . --sweep --sweep-args "--runs 40 --subset 20"

``--old`` and ``--new`` are each a directory holding a checkout (a worktree) or a git revision, which is checked out
into a temporary ``git worktree`` (removed at the end). Each round runs both sides, in ABBA order (old-new, new-old,
...), each in a subprocess with ``PYTHONPATH`` set to that side's checkout and this interpreter: that checkout's
``benchmarks/engine.py --quick``, and with ``--sweep`` its ``benchmarks/sweep.py`` (``--sweep-args`` passes options,
e.g. fewer runs; the default is the full sweep, which takes minutes). Prints, per metric, both sides' values and the
ratio new/old of their means and of their medians: for seconds below 1.05 reads "within 5%", for rates above 0.95.
"""

from __future__ import annotations

import argparse
import os
import shlex
import statistics
import subprocess
import sys
import tempfile
from contextlib import ExitStack
from pathlib import Path

ENGINE_METRICS = ("seconds_1m_x_60", "seconds_1m_x_60_cpu", "dev_steps_per_s")
SWEEP_METRICS = ("sweep_wall_s_2_workers", "sweep_cpu_s_per_run", "seconds_per_run_1_worker")


def checkout(spec: str, repo: Path, stack: ExitStack) -> Path:
    """The directory of ``spec``: itself if it is a directory, else a temporary worktree of that revision."""
    if Path(spec).is_dir():
        return Path(spec).resolve()
    rev = subprocess.run(["git", "-C", str(repo), "rev-parse", "--verify", f"{spec}^{{commit}}"], check=True,
                         capture_output=True, text=True).stdout.strip()
    folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="paired_"))) / rev[:12]
    subprocess.run(["git", "-C", str(repo), "worktree", "add", "--detach", str(folder), rev], check=True,
                   capture_output=True)
    stack.callback(subprocess.run, ["git", "-C", str(repo), "worktree", "remove", "--force", str(folder)],
                   check=False, capture_output=True)
    return folder


def measure(root: Path, script: str, args: list[str]) -> dict[str, float]:
    """Run ``root/benchmarks/<script>`` with that checkout on the path; its ``name: number`` lines."""
    env = {**os.environ, "PYTHONPATH": str(root)}
    out = subprocess.run([sys.executable, str(root / "benchmarks" / script), *args], cwd=root, env=env, check=True,
                         capture_output=True, text=True).stdout
    values = {}
    for line in out.splitlines():
        name, _, text = line.partition(":")
        try:
            values[name.strip()] = float(text)
        except ValueError:
            pass
    return values


def report(name: str, old: list[float], new: list[float]) -> None:
    """One metric: both sides' values, and new/old of the means and of the medians."""
    def show(xs: list[float]) -> str:
        return " ".join(f"{x:.4g}" for x in xs)

    mean = statistics.fmean(new) / statistics.fmean(old)
    median = statistics.median(new) / statistics.median(old)
    print(f"{name}\n  old: {show(old)}\n  new: {show(new)}\n  new/old: mean {mean:.3f}, median {median:.3f}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--old", required=True, help="a git revision or a checkout directory")
    parser.add_argument("--new", required=True, help="a checkout directory (e.g. .) or a git revision")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of both sides (ABBA order)")
    parser.add_argument("--sweep", action="store_true", help="also time benchmarks/sweep.py")
    parser.add_argument("--sweep-args", default="", help='options for sweep.py, e.g. "--runs 40 --subset 20"')
    args = parser.parse_args(argv)
    repo = Path(subprocess.run(["git", "rev-parse", "--show-toplevel"], check=True, capture_output=True,
                               text=True).stdout.strip())
    jobs = [("engine.py", ["--quick"], ENGINE_METRICS)]
    if args.sweep:
        jobs.append(("sweep.py", shlex.split(args.sweep_args), SWEEP_METRICS))
    with ExitStack() as stack:
        roots = {"old": checkout(args.old, repo, stack), "new": checkout(args.new, repo, stack)}
        print(f"old: {args.old} ({roots['old']})\nnew: {args.new} ({roots['new']})", flush=True)
        seen = {(side, m): [] for side in roots for *_, metrics in jobs for m in metrics}
        for r in range(args.rounds):
            for side in ("old", "new") if r % 2 == 0 else ("new", "old"):
                for script, script_args, metrics in jobs:
                    values = measure(roots[side], script, script_args)
                    for m in metrics:
                        seen[side, m].append(values[m])
                    print(f"round {r + 1} {side} {script}: " + ", ".join(f"{m}={values[m]:.4g}" for m in metrics),
                          flush=True)
    for *_, metrics in jobs:
        for m in metrics:
            report(m, seen["old", m], seen["new", m])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
