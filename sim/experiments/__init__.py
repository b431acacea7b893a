"""Experiments: parameter sweeps, sensitivity designs and paired comparisons of Meta's strategies.

Data flow: experiment YAML -> :mod:`schema` (validated, with its design from :mod:`designs`) -> runs executed by
an evaluator (the interface and the in-process one in :mod:`base`; :mod:`local` processes or :mod:`dask_backend`,
chosen in :mod:`sweep`) via :mod:`runs` -> :mod:`storage` (a Parquet part per run, a manifest, results.parquet) ->
:mod:`analysis` (paired deltas, SALib indices). The model never imports this package.

Plain imports: :mod:`schema` and :mod:`sweep` add about 0.05 s to what a worker loads for :mod:`runs` anyway (the
engine), and ``import sim`` does not import this package.
"""

from __future__ import annotations

from sim.experiments.schema import Experiment, load_experiment
from sim.experiments.sweep import SweepResult, run_sweep

__all__ = ["Experiment", "SweepResult", "load_experiment", "run_sweep"]
