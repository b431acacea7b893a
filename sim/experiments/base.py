"""One interface for "run these specs": an evaluator yields batches of finished runs in the order they finish.

Backends live in their own modules (EMA Workbench's evaluators): in this process (here), local worker processes
(``local.py``) and a Dask cluster (``dask_backend.py``); both import this module, and neither is imported by it:
:func:`sim.experiments.sweep.make_evaluator` chooses one. Results never depend on the backend: each run carries its
own seed, and the store sorts rows before writing.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterator, Sequence

from sim.experiments.runs import RunContext, RunSpec, execute_bundle

Batch = list[tuple[RunSpec, dict]]


class WorkerLost(RuntimeError):
    """A worker died for good (killed, out of memory); finished runs are stored, so ``--resume`` continues."""


class Evaluator:
    """Base class: subclasses implement ``evaluate``; use as a context manager so workers are released."""

    name = "evaluator"
    workers = 1

    def evaluate(self, context: RunContext, specs: Sequence[RunSpec]) -> Iterator[Batch]:
        """Run ``specs`` under ``context`` and yield their results in batches as they finish (any order)."""
        raise NotImplementedError

    def close(self) -> None:
        """Release workers or connections."""

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class SerialEvaluator(Evaluator):
    """Runs in this process, one after another: the reference and the simplest backend (``--workers 1``)."""

    name = "serial"

    def evaluate(self, context: RunContext, specs: Sequence[RunSpec]) -> Iterator[Batch]:
        """Each run in turn, a batch of one (results reach the store as soon as a run ends)."""
        for spec in specs:
            yield execute_bundle(context, [spec])


def bundles(specs: Sequence[RunSpec], size: int) -> list[list[RunSpec]]:
    """Consecutive runs in groups of ``size``: the runs of one point and replicate tend to travel together."""
    return [list(specs[i:i + size]) for i in range(0, len(specs), size)]


def auto_bundle(n_runs: int, slots: int, per_slot: int, most: int) -> int:
    """Enough runs per task to amortise its overhead, while leaving ``per_slot`` tasks per worker to balance load."""
    return max(1, min(most, math.ceil(n_runs / max(1, slots * per_slot))))


def default_workers() -> int:
    """The cores this process may use (its CPU affinity where the system has one)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1
