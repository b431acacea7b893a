"""The notebook API, re-exported by :mod:`sim` (``sim.load``, ``sim.run``, ``sim.read``, ``sim.plot``).

It is the command line without the files: the same loading and validation as ``sim run --set``, the same engine, the
same tidy tables and the same figures. Documented with a worked example in docs/python-api.md.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from sim.config import STRATEGIES, Scenario


def load(scenario: str | Path, set: Mapping[str, Any] | None = None, *, population: int | None = None,  # noqa: A002
         seed: int | None = None, **overrides: Any) -> Scenario:
    """A validated scenario: a preset name (``"baseline"``) or a YAML path, with overrides by dotted path.

    Overrides come as a ``set=`` mapping or as keyword arguments (dotted keys need ``**{...}``)::

        sim.load("baseline", **{"license.mau_threshold": 1e8}, horizon_months=24)
        sim.load("baseline", set={"license.mau_threshold": 1e8}, population=5_000)

    Bad input raises :class:`sim.errors.ConfigError`, whose message names the field, as the CLI's does.
    """
    from sim.loading import load_scenario

    merged = {**(set or {}), **overrides}
    texts = [f"{key}={json.dumps(value)}" for key, value in merged.items()]  # JSON scalars are YAML scalars
    return load_scenario(scenario, texts, population, seed)


def run(scenario: Scenario | str | Path, strategies: str | Iterable[str] | None = None, replications: int = 1,
        population: int | None = None, seed: int | None = None):
    """Run every strategy ``replications`` times on paired seeds; returns :class:`sim.results.RunResults`.

    ``results.timeseries`` (one row per strategy x replicate x month) and ``results.summary`` (one row per
    strategy x replicate: NPVs, shares...) are the tables ``sim run`` writes to ``timeseries.parquet`` and
    ``summary.csv``. ``strategies`` defaults to all three (open, closed, absent); ``population`` and ``seed``
    replace the scenario's for this run (a small population makes a quick look quick).
    """
    from sim.errors import ConfigError
    from sim.loading import validate_scenario
    from sim.results import RunResults
    from sim.runner import run_scenario

    if not isinstance(scenario, Scenario):
        scenario = load(scenario, population=population, seed=seed)
    elif population is not None or seed is not None:
        data = scenario.model_dump(mode="json")
        if population is not None:
            data["population"]["n"] = population
        if seed is not None:
            data["seed"] = seed
        scenario = validate_scenario(data, "sim.run")
    names = [s.strip() for s in strategies.split(",")] if isinstance(strategies, str) else \
        list(strategies or STRATEGIES)
    unknown = [s for s in names if s not in STRATEGIES]
    if unknown or not names:
        raise ConfigError("sim.run", "strategies", f"unknown strategy {unknown[0] if unknown else names!r}; "
                                                   f"choose from {', '.join(STRATEGIES)}")
    if not isinstance(replications, int) or replications < 1:
        raise ConfigError("sim.run", "replications", f"must be a whole number of at least 1, not {replications!r}")
    timeseries, summary = run_scenario(scenario, list(dict.fromkeys(names)), replications)
    return RunResults(timeseries, summary, scenario.model_dump(mode="json"))


def read(folder: str | Path):
    """The tables of a ``sim run`` output folder, as :func:`run` returns them."""
    from sim.results import RunResults

    return RunResults.read(folder)


def plot(results, kind: str | Iterable[str] | None = None):
    """matplotlib Figures of :func:`run` results: one Figure for one ``kind``, else a dict ``{kind: Figure}``
    of the kinds listed (default all: adoption, tokens, prices, ledger, profits, strategies). A list of results
    gives the side-by-side comparison figure of ``sim compare``."""
    from sim.figures.run import RUN_FIGURES, comparison_figure

    if isinstance(results, (list, tuple)):
        return comparison_figure(labelled(list(results)))
    kinds = [kind] if isinstance(kind, str) else list(kind or RUN_FIGURES)
    unknown = [k for k in kinds if k not in RUN_FIGURES]
    if unknown:
        raise ValueError(f"unknown figure kind {unknown[0]!r}; choose from {', '.join(RUN_FIGURES)}")
    figures = {k: RUN_FIGURES[k](results) for k in kinds}
    return figures[kind] if isinstance(kind, str) else figures


def labelled(runs: list) -> list:
    """Copies of ``runs`` named by their overrides (``baseline with license.mau_threshold=1e+07``) where they have no
    label of their own, numbered where two would still share a name, so a comparison tells them apart."""
    from dataclasses import replace

    out, seen = [], {}
    for run in runs:
        label = run.label or run.display_name
        seen[label] = seen.get(label, 0) + 1
        out.append(replace(run, label=label if seen[label] == 1 else f"{label} ({seen[label]})"))
    return out
