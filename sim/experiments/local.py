"""Local worker processes (concurrent.futures with the ``spawn`` start method).

BLAS and OpenMP thread pools are pinned to one thread per worker through the environment the workers start with,
before they import numpy: two workers on two cores should not each start two BLAS threads.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager

from sim.experiments.evaluators import Batch, Evaluator, WorkerLost, auto_bundle, bundles
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


def _init_worker(context: RunContext) -> None:
    global _context
    os.environ.update(dict.fromkeys(THREAD_VARS, "1"))  # for anything the worker starts later
    _context = context


def _run_bundle(specs: list[RunSpec]) -> Batch:
    assert _context is not None, "worker not initialised"
    return execute_bundle(_context, specs)


class ProcessPoolEvaluator(Evaluator):
    """``workers`` processes; a bounded window of bundles in flight so a huge plan does not sit in memory twice."""

    name = "processes"

    def __init__(self, workers: int, bundle: int | None = None):
        self.workers = workers
        self.bundle = bundle

    def evaluate(self, context: RunContext, specs: Sequence[RunSpec]) -> Iterator[Batch]:
        if not specs:
            return
        size = self.bundle or auto_bundle(len(specs), self.workers, per_slot=8, most=16)
        todo = iter(bundles(specs, size))
        window = 2 * self.workers
        pending: set[Future] = set()

        def refill(pool) -> None:
            for chunk in todo:
                pending.add(pool.submit(_run_bundle, chunk))
                if len(pending) >= window:
                    break

        with single_threaded_env():  # workers are spawned at the first submit
            pool = ProcessPoolExecutor(self.workers, mp_context=multiprocessing.get_context("spawn"),
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
            pool.shutdown(wait=False, cancel_futures=True)
            raise WorkerLost(f"a worker process died ({exc})") from None
        except BaseException:
            pool.shutdown(wait=False, cancel_futures=True)
            raise
        pool.shutdown(wait=True)
