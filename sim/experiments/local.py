"""Local worker processes (concurrent.futures), forked where that is safe and spawned elsewhere.

A forked worker starts with the coordinator's imports and loaded kernels, a spawned one imports them again: on two
cores a sweep's workers are ready in about 0.3 s instead of about 4.5 s (docs/performance.md), which matters to
decision analysis, made of many short sweeps. :func:`start_method` says when forking is safe.

BLAS and OpenMP thread pools are pinned to one thread per worker: through the environment a spawned worker starts
with, before it imports numpy, and through threadpoolctl in a forked one, which inherits numpy already loaded. Two
workers on two cores should not each start two BLAS threads.

Ctrl-C reaches the whole process group. Workers are started with SIGINT blocked (a blocked signal stays blocked
through fork and exec, so Python never installs its KeyboardInterrupt handler in them) and ignore it once running,
so only the coordinating process sees it: it stops the workers and stores nothing half-done, and no worker prints
a traceback. The parent's own Ctrl-C is only deferred (pending) while workers start, never lost.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import signal
import sys
import threading
import warnings
from collections.abc import Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager

from sim.experiments.base import Batch, Evaluator, WorkerLost, auto_bundle, bundles
from sim.experiments.runs import RunContext, RunSpec, execute_bundle

THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "VECLIB_MAXIMUM_THREADS",
               "NUMEXPR_NUM_THREADS", "BLIS_NUM_THREADS")

_context: RunContext | None = None  # set once per worker process by the initializer


@contextmanager
def single_threaded_env():
    """Set the thread variables to 1 while workers are spawned (they copy the environment), then restore them."""
    saved = {k: os.environ.get(k) for k in THREAD_VARS}
    os.environ.update(dict.fromkeys(THREAD_VARS, "1"))
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@contextmanager
def sigint_deferred():
    """Block SIGINT in this thread while workers are spawned (they inherit the mask); a Ctrl-C meanwhile is
    delivered when the block ends."""
    old = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


def start_method() -> str:
    """``fork`` on Linux while this process runs a single Python thread, ``spawn`` otherwise.

    Forking copies only the calling thread, so a lock another thread holds at that moment stays locked in the
    child: with one Python thread there is no such lock. The native threads numpy's OpenBLAS starts are no such
    risk (OpenBLAS shuts them down around a fork), but they are why Python warns about every fork after importing
    numpy; :func:`forking_quietly` silences that one warning. A coordinator with threads (a notebook kernel, a
    threaded test runner, a progress bar's monitor) and macOS or Windows spawn their workers.
    """
    if sys.platform == "linux" and threading.active_count() == 1:
        return "fork"
    return "spawn"


@contextmanager
def forking_quietly():
    """Hide Python's "process is multi-threaded, use of fork() may lead to deadlocks" warning, which counts the
    idle native BLAS threads (see :func:`start_method`)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r"This process .* is multi-threaded", category=DeprecationWarning)
        yield


def _init_worker(context: RunContext) -> None:
    global _context
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the coordinator handles Ctrl-C and stops the workers
    os.environ.update(dict.fromkeys(THREAD_VARS, "1"))  # for anything the worker starts later
    from threadpoolctl import threadpool_limits

    threadpool_limits(1)  # a forked worker inherits numpy's BLAS already started with the coordinator's threads
    _context = context
    # The modules, kernels and scenario loaded so far live as long as the worker: moved out of the collector's sight,
    # its full collections stop walking them (a tenth of the time of a sweep of small runs) and stop writing to the
    # pages a forked worker shares with the coordinator (the remedy the gc module documents for forked servers).
    gc.freeze()


def stop_workers(pool: ProcessPoolExecutor) -> None:
    """Cancel what has not started and end the workers now (their half-done bundles would be thrown away)."""
    pool.shutdown(wait=False, cancel_futures=True)
    terminate = getattr(pool, "terminate_workers", None)  # Python >= 3.14
    if terminate is not None:
        terminate()
        return
    for process in list((getattr(pool, "_processes", None) or {}).values()):
        process.terminate()


def _run_bundle(specs: list[RunSpec]) -> Batch:
    assert _context is not None, "worker not initialised"
    return execute_bundle(_context, specs)


class ProcessPoolEvaluator(Evaluator):
    """``workers`` processes; a bounded window of bundles in flight so a huge plan does not sit in memory twice."""

    name = "processes"

    def __init__(self, workers: int, bundle: int | None = None, start: str | None = None):
        self.workers = workers
        self.bundle = bundle
        self.start = start  # "fork" or "spawn"; None: :func:`start_method` decides when the workers start

    def evaluate(self, context: RunContext, specs: Sequence[RunSpec]) -> Iterator[Batch]:
        """Bundles of runs on the local worker processes, a few in flight per worker; results as they finish."""
        if not specs:
            return
        size = self.bundle or auto_bundle(len(specs), self.workers, per_slot=8, most=8)  # a short tail at the end
        todo = iter(bundles(specs, size))
        window = 2 * self.workers
        pending: set[Future] = set()

        def refill(pool) -> None:
            with sigint_deferred(), forking_quietly():  # a submit may start a worker
                for chunk in todo:
                    pending.add(pool.submit(_run_bundle, chunk))
                    if len(pending) >= window:
                        break

        with single_threaded_env():  # workers are started at the first submit
            method = self.start or start_method()
            pool = ProcessPoolExecutor(self.workers, mp_context=multiprocessing.get_context(method),
                                       initializer=_init_worker, initargs=(context,))
            refill(pool)
        try:
            while pending:
                done, rest = wait(pending, return_when=FIRST_COMPLETED)
                pending.clear()
                pending.update(rest)
                for future in done:
                    yield future.result()
                refill(pool)
        except BrokenProcessPool as exc:
            stop_workers(pool)
            raise WorkerLost(f"a worker process died ({exc})") from None
        except BaseException:  # Ctrl-C, a rejected run, the consumer closing the generator
            stop_workers(pool)
            raise
        pool.shutdown(wait=True)
