"""Run an experiment into an output folder: plan, skip what finished, evaluate the rest, assemble results."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import closing, nullcontext
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from sim.experiments.base import Evaluator, SerialEvaluator, default_workers
from sim.experiments.dask_backend import DaskEvaluator
from sim.experiments.local import ProcessPoolEvaluator
from sim.experiments.runs import RunFailed
from sim.experiments.schema import Experiment
from sim.experiments.storage import SweepStore


def make_evaluator(workers: int | None = None, scheduler: str | None = None, bundle: int | None = None) -> Evaluator:
    """A Dask evaluator when given a scheduler address, else local processes (in-process for one worker).

    The choice of backend lives here, where the sweep is assembled, so the backends import the interface
    (:mod:`sim.experiments.base`) and nothing imports them back."""
    if scheduler:
        return DaskEvaluator(scheduler, bundle=bundle)
    workers = workers or default_workers()
    if workers == 1:
        return SerialEvaluator()
    return ProcessPoolEvaluator(workers, bundle=bundle)


@dataclass(frozen=True)
class SweepResult:
    """What :func:`run_sweep` returns: the assembled results, how many runs it made and skipped, and where they
    ran."""

    results: pd.DataFrame
    ran: int  # runs executed by this call
    skipped: int  # runs already finished (resume)
    backend: str
    workers: int


def run_sweep(experiment: Experiment, out: str | Path, *, workers: int | None = None, scheduler: str | None = None,
              resume: bool = False, evaluator: Evaluator | None = None,
              on_start: Callable[[int, int], object] | None = None,
              on_progress: Callable[[int], object] | None = None) -> SweepResult:
    """Every run of ``experiment`` into ``out``; with ``resume`` the runs already stored are skipped.

    ``workers``/``scheduler`` override the file's ``backend``; ``on_start(todo, done)`` and ``on_progress(n)`` feed
    a progress bar. Raises ConfigError for a folder of another experiment or a run whose input was rejected.
    """
    spec = experiment.spec
    runs = list(experiment.runs())
    store = SweepStore(Path(out), experiment.record(), experiment.base, experiment.design, runs, resume)
    try:
        todo = store.todo()
        skipped = len(runs) - len(todo)
        if on_start:
            on_start(len(todo), skipped)
        evaluator = evaluator or make_evaluator(workers or spec.backend.workers,
                                                scheduler or spec.backend.scheduler, spec.backend.bundle)
        with evaluator:
            batches = evaluator.evaluate(experiment.context(), todo)
            try:  # closing: on Ctrl-C the evaluator stops its workers now, not when the traceback is freed
                with closing(batches) if hasattr(batches, "close") else nullcontext():
                    for batch in batches:
                        n = store.save(batch)
                        if on_progress:
                            on_progress(n)
            except RunFailed as exc:
                raise exc.config_error() from None
        results = store.assemble(list(spec.strategies), experiment.context().columns())
    finally:
        store.close()
    return SweepResult(results, len(todo), skipped, evaluator.name, evaluator.workers)

