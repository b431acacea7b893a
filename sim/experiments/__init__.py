"""Experiments: parameter sweeps, sensitivity designs and paired comparisons of Meta's strategies.

Data flow: experiment YAML -> :mod:`schema` (validated, with its design from :mod:`designs`) -> runs executed by
an evaluator (:mod:`evaluators`: in-process, :mod:`local` processes or :mod:`dask_backend`) via :mod:`runs` ->
:mod:`storage` (a Parquet part per run, a manifest, results.parquet) -> :mod:`analysis` (paired deltas, SALib
indices). The model never imports this package.

Names are imported lazily so that worker processes, which need only :mod:`runs`, start quickly.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sim.experiments.schema import Experiment, load_experiment
    from sim.experiments.sweep import SweepResult, run_sweep

__all__ = ["Experiment", "SweepResult", "load_experiment", "run_sweep"]
_WHERE = {"Experiment": "schema", "load_experiment": "schema", "SweepResult": "sweep", "run_sweep": "sweep"}


def __getattr__(name: str):
    if name in _WHERE:
        import importlib

        return getattr(importlib.import_module(f"sim.experiments.{_WHERE[name]}"), name)
    raise AttributeError(f"module 'sim.experiments' has no attribute {name!r}")
