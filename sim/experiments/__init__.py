"""Experiments: parameter sweeps, sensitivity designs and paired comparisons of Meta's strategies (design.md 11).

Data flow: experiment YAML -> :mod:`schema` (validated, with its design from :mod:`designs`) -> runs executed by
an evaluator (:mod:`evaluators`: in-process, :mod:`local` processes or :mod:`dask_backend`) via :mod:`runs` ->
:mod:`storage` (a Parquet part per run, a manifest, results.parquet) -> :mod:`analysis` (paired deltas, SALib
indices). The model never imports this package.
"""

from sim.experiments.schema import Experiment, load_experiment
from sim.experiments.sweep import SweepResult, run_sweep

__all__ = ["Experiment", "SweepResult", "load_experiment", "run_sweep"]
