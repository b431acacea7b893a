"""The result tables of one ``sim run`` folder (:class:`RunResults`) and what a run changed in its preset.

Its own module, apart from the figures: the notebook API returns these tables, the CLI reads and compares them, and
the figures, the report and the dashboard only draw them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from sim import paths
from sim.catalog import Catalog, catalog_from_columns
from sim.errors import ConfigError
from sim.loading import read_yaml_mapping


@dataclass
class RunResults:
    """The tables a ``sim run`` folder holds."""

    timeseries: pd.DataFrame
    summary: pd.DataFrame
    scenario: dict
    folder: Path | None = None
    label: str | None = None  # how figures name this run when several are shown (default: the scenario's name)
    _overrides: list[str] | None = None

    @property
    def name(self) -> str:
        """The scenario's name, from its stored copy or else from the timeseries."""
        return str(self.scenario.get("name") or self.timeseries["scenario"].iloc[0])

    @property
    def title(self) -> str:
        """How figures name the run: its label when several runs are shown, else the scenario's name."""
        return self.label or self.name

    @property
    def overrides(self) -> list[str]:
        """``path=value`` for every setting that differs from the named preset (``--set`` on the command line)."""
        if self._overrides is None:
            self._overrides = run_overrides(self)
        return self._overrides

    @property
    def display_name(self) -> str:
        """The scenario's name and its overrides, for titles: ``baseline with license.mau_threshold=1e8``."""
        return scenario_title(self.name, self.overrides)

    @property
    def catalog(self) -> Catalog:
        """The options and providers the run was made with (a scenario may add providers), named as its scenario
        names them."""
        added = (self.scenario.get("providers") or {}) if isinstance(self.scenario, dict) else {}
        labels = {k: v["label"] for k, v in added.items() if isinstance(v, dict) and "label" in v}
        return catalog_from_columns(self.timeseries.columns, labels)

    def titled(self, table: pd.DataFrame) -> pd.DataFrame:
        """``table`` with its ``scenario`` column set to :attr:`display_name`, so figure titles name overrides."""
        return table.assign(scenario=self.display_name) if self.overrides else table

    @classmethod
    def read(cls, folder: str | Path) -> RunResults:
        """Read a ``sim run`` folder's tables and scenario; a missing or damaged file is one ConfigError."""
        folder = Path(folder)
        for needed in ("timeseries.parquet", "summary.csv"):
            if not (folder / needed).is_file():
                raise ConfigError(folder, needed, "not found; is this a `sim run` output folder?")
        try:
            ts = pd.read_parquet(folder / "timeseries.parquet")
            summary = pd.read_csv(folder / "summary.csv")
        except Exception as exc:  # pyarrow and pandas raise many types for a damaged file
            raise ConfigError(folder, "timeseries.parquet/summary.csv", f"cannot be read: {exc}") from None
        scenario: dict = {}
        if (folder / "scenario.yaml").is_file():
            scenario = read_yaml_mapping(folder / "scenario.yaml")
        missing = {"strategy", "replicate", "date"} - set(ts.columns)
        if missing or ts.empty:
            raise ConfigError(folder / "timeseries.parquet", ",".join(sorted(missing)) or "(rows)",
                              "missing; not a `sim run` timeseries")
        lacking = {"strategy", "replicate", "npv.meta"} - set(summary.columns)
        if lacking or summary.empty:
            raise ConfigError(folder / "summary.csv", ",".join(sorted(lacking)) or "(rows)",
                              "missing; not a `sim run` summary")
        return cls(ts, summary, scenario, folder)

    def write_tables(self, folder: Path) -> None:
        """The tables :meth:`read` reads back (``timeseries.parquet``, ``summary.csv``, ``scenario.yaml``), written
        into ``folder``: a ``sim run`` folder being built by :func:`sim.io.replace_folder`."""
        import yaml

        from sim.io import write_csv, write_parquet, write_text

        write_parquet(self.timeseries, folder / "timeseries.parquet")
        write_csv(self.summary, folder / "summary.csv")
        write_text(yaml.safe_dump(self.scenario, sort_keys=False), folder / "scenario.yaml")


OVERRIDES_FILE = "overrides.yaml"  # optional in a run folder: the ``--set PATH=VALUE`` texts of the command line
NOT_OVERRIDES = ("seed", "population.n")  # shown in the facts line, not in titles
MAX_TITLE_OVERRIDES = 3


def run_overrides(run: RunResults) -> list[str]:
    """What a run changed in its preset. Read from ``overrides.yaml`` (a list of ``path=value``) when the folder
    has one; otherwise the leaves of ``scenario.yaml`` that differ from the preset of the same name today (empty
    when the scenario is not a preset or cannot be loaded)."""
    from sim.loading import load_scenario

    if run.folder is not None and (run.folder / OVERRIDES_FILE).is_file():
        import yaml

        try:
            listed = yaml.safe_load((run.folder / OVERRIDES_FILE).read_text())
        except (OSError, yaml.YAMLError) as exc:
            raise ConfigError(run.folder / OVERRIDES_FILE, "", f"cannot be read: {exc}") from None
        if not isinstance(listed, list):
            raise ConfigError(run.folder / OVERRIDES_FILE, "", "should be a list of PATH=VALUE texts")
        return [str(item) for item in listed]
    if not run.scenario:
        return []
    try:
        preset = load_scenario(run.name).model_dump(mode="json")
    except ConfigError:
        return []
    before, after = paths.leaves(preset), paths.leaves(run.scenario)
    return [f"{key}={_short(after[key])}" for key in after
            if key not in NOT_OVERRIDES and key in before and after[key] != before[key]]


def _short(value: Any) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def scenario_title(name: str, overrides: list[str]) -> str:
    """``name``, or ``name with a=1, b=2`` (and how many more) when settings were overridden."""
    if not overrides:
        return name
    shown = ", ".join(overrides[:MAX_TITLE_OVERRIDES])
    more = f" and {len(overrides) - MAX_TITLE_OVERRIDES} more" if len(overrides) > MAX_TITLE_OVERRIDES else ""
    return f"{name} with {shown}{more}"
