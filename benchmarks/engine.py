"""Speed and memory of the vectorized engine, measured against the per-agent mesa reference (docs/performance.md).

Run from the repository root (a benchmark, not a test; figures depend on the machine and its load):

    .venv/bin/python benchmarks/engine.py            # full: well under two minutes
    .venv/bin/python benchmarks/engine.py --quick    # under a minute: fewer repeats, a small reference
    .venv/bin/python benchmarks/engine.py --profile  # pyinstrument tree of one 1M x 60 run (pip install pyinstrument)

It prints one ``name: value`` line per figure:

* ``dev_steps_per_s``: developer-months per second of :class:`sim.market.LLMMarket` on the baseline preset at 1M
  developers x 60 months, strategy ``open``, timing the monthly steps only (model construction excluded);
* ``reference_dev_steps_per_s``: the same for :class:`benchmarks.reference.ReferenceMarket` (per-agent mesa) on a
  smaller population, since its cost per developer-month does not depend on N;
* ``speedup_vs_reference``: their ratio;
* ``bytes_per_developer``: growth of peak RSS (``ru_maxrss``) from just before the model is built to the end of the
  run, divided by N, in a fresh interpreter per size (also given per size, and from tracemalloc, which sees numpy's
  allocations exactly);
* ``seconds_1m_x_60``: 1,000,000 developers x 60 months, one strategy, model construction plus the run (no imports,
  no tables, no plots);
* ``ns_per_dev_step_<size>`` for 10k, 100k and 1M developers (60 months; steps only) and
  ``scaling_1m_over_10k``, the ratio of the 1M figure to the 10k one.

Timings are wall-clock (``time.perf_counter``), the best of several repeats, on one core: the process pins itself to
CPU 0 where the OS allows and limits BLAS/OpenMP pools to one thread. ``load_average`` is printed because other
processes on the machine inflate wall-clock figures; ``speedup_vs_reference_cpu`` and ``seconds_1m_x_60_cpu`` repeat
two figures in process CPU time, which waiting for the core does not inflate.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import json  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import tracemalloc  # noqa: E402
from pathlib import Path  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script from anywhere
    sys.path.insert(0, str(ROOT))

from sim.loading import load_scenario  # noqa: E402
from sim.market import LLMMarket  # noqa: E402

PRESET, STRATEGY, SEED = "baseline", "open", 20230101


def pin_to_one_core() -> None:
    if hasattr(os, "sched_setaffinity"):
        try:
            os.sched_setaffinity(0, {0})
        except OSError:
            pass


def scenario(n: int, months: int):
    return load_scenario(PRESET, [f"horizon_months={months}"], population=n, seed=SEED)


def time_model(cls, n: int, months: int, repeats: int) -> dict[str, float]:
    """Best construction and run seconds over ``repeats`` fresh models, wall-clock and CPU (process time)."""
    cfg = scenario(n, months)
    best = dict.fromkeys(("build", "run", "cpu_build", "cpu_run"), float("inf"))
    for _ in range(repeats):
        w0, c0 = time.perf_counter(), time.process_time()
        model = cls(cfg, strategy=STRATEGY)
        w1, c1 = time.perf_counter(), time.process_time()
        model.run()
        w2, c2 = time.perf_counter(), time.process_time()
        for key, value in (("build", w1 - w0), ("run", w2 - w1), ("cpu_build", c1 - c0), ("cpu_run", c2 - c1)):
            best[key] = min(best[key], value)
        del model
    return best


def memory_marks(reset: bool) -> tuple[int, int]:
    """(current RSS, peak RSS) in bytes. On Linux the peak is this process image's VmHWM, which ``reset`` sets back to
    the current RSS (via /proc/self/clear_refs) so the measured growth excludes import-time peaks; ru_maxrss would
    also carry the peak of the parent the process was spawned from. Elsewhere both come from ru_maxrss."""
    try:
        if reset:
            with open("/proc/self/clear_refs", "w") as f:
                f.write("5")
        fields = {}
        with open("/proc/self/status") as f:
            for line in f:
                key, _, value = line.partition(":")
                if key in ("VmRSS", "VmHWM"):
                    fields[key] = int(value.split()[0]) * 1024
        return fields["VmRSS"], fields["VmHWM"]
    except OSError:
        import resource

        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * (1 if sys.platform == "darwin" else 1024)
        return peak, peak


def bytes_per_developer(n: int, months: int, traced: bool) -> float:
    """Peak memory growth per developer while building and running one model, in a fresh interpreter."""
    probe = [sys.executable, str(Path(__file__).resolve()), "--probe-memory", str(n), str(months)]
    out = subprocess.run(probe + (["--traced"] if traced else []), capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])["bytes_per_developer"]


def probe_memory(n: int, months: int, traced: bool) -> None:
    """The child side of :func:`bytes_per_developer`: build and run one model and print the growth as JSON.
    With ``traced``, tracemalloc's peak (Python and numpy allocations) instead of the RSS."""
    cfg = scenario(n, months)
    if traced:
        tracemalloc.start()
    _, peak_before = memory_marks(reset=True)
    model = LLMMarket(cfg, strategy=STRATEGY)
    model.run()
    _, peak_after = memory_marks(reset=False)
    growth = tracemalloc.get_traced_memory()[1] if traced else peak_after - peak_before
    print(json.dumps({"bytes_per_developer": growth / n}))


def profile(n: int, months: int) -> None:
    """Where the time of one run goes (construction and steps), as pyinstrument's call tree, sampled every 1 ms."""
    from pyinstrument import Profiler

    cfg = scenario(n, months)
    profiler = Profiler(interval=0.001)
    profiler.start()
    LLMMarket(cfg, strategy=STRATEGY).run()
    profiler.stop()
    print(profiler.output_text(unicode=False, color=False))


def emit(name: str, value) -> None:
    text = f"{value:.4g}" if isinstance(value, float) else str(value)
    print(f"{name}: {text}", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats and a small reference (under a minute)")
    parser.add_argument("--profile", action="store_true",
                        help="profile one 1M x 60 run with pyinstrument (pip install pyinstrument) and print the tree")
    parser.add_argument("--probe-memory", nargs=2, type=int, metavar=("N", "MONTHS"), help=argparse.SUPPRESS)
    parser.add_argument("--traced", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.probe_memory:
        probe_memory(*args.probe_memory, traced=args.traced)
        return 0
    pin_to_one_core()
    if args.profile:
        profile(1_000_000, 60)
        return 0
    quick = args.quick
    repeats = 2 if quick else 5
    months = 60
    ref_n, ref_months = (2_000, 24) if quick else (20_000, 60)

    emit("load_average", os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan"))
    time_model(LLMMarket, 10_000, 12, 1)  # warm-up: imports, caches

    sizes = {"10k": 10_000, "100k": 100_000, "1m": 1_000_000}
    timing = {label: time_model(LLMMarket, n, months, repeats) for label, n in sizes.items()}
    engine = timing["1m"]
    emit("dev_steps_per_s", 1_000_000 * months / engine["run"])

    reference = time_model(_reference_class(), ref_n, ref_months, 1 if quick else 2)
    emit("reference_dev_steps_per_s", ref_n * ref_months / reference["run"])
    emit("reference_population", f"{ref_n} x {ref_months} months")
    ratio = (1_000_000 * months / engine["run"]) / (ref_n * ref_months / reference["run"])
    cpu_ratio = (1_000_000 * months / engine["cpu_run"]) / (ref_n * ref_months / reference["cpu_run"])
    emit("speedup_vs_reference", ratio)
    emit("speedup_vs_reference_cpu", cpu_ratio)

    memory_sizes = (1_000_000,) if quick else (100_000, 1_000_000)
    per_size = {n: bytes_per_developer(n, months, traced=False) for n in memory_sizes}
    emit("bytes_per_developer", per_size[1_000_000])
    if not quick:
        emit("bytes_per_developer_100k", per_size[100_000])
        emit("bytes_per_developer_tracemalloc", bytes_per_developer(1_000_000, months, traced=True))

    emit("seconds_1m_x_60", engine["build"] + engine["run"])
    emit("seconds_1m_x_60_cpu", engine["cpu_build"] + engine["cpu_run"])
    emit("build_seconds_1m", engine["build"])
    for label, n in sizes.items():
        emit(f"ns_per_dev_step_{label}", timing[label]["run"] / (n * months) * 1e9)
    emit("scaling_1m_over_10k", (timing["1m"]["run"] / 1_000_000) / (timing["10k"]["run"] / 10_000))
    return 0


def _reference_class():
    from benchmarks.reference import ReferenceMarket

    return ReferenceMarket


if __name__ == "__main__":
    sys.exit(main())
