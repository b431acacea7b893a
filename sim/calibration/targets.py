"""The calibration targets file: which parameters are free (with bounds) and which moments to match.

A target's ``metric`` is a small, safe whitelist, never an expression: a timeseries column (``share_users.openai``),
a derived column computed here (``users_real.<option>`` = users x population.represents / population.n, real firms;
``annualized.<column>`` = 12 x a monthly column), or a list of those, summed. Bad files fail with one line
``file: field.path: message`` (exit 2 in the CLI).
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd
from pydantic import Field, ValidationError, field_validator, model_validator

from sim import paths
from sim.config import MAX_LIST, Scenario, YearMonth, month_index
from sim.errors import ConfigError
from sim.loading import raise_validation, read_yaml_mapping, set_in_dict, validate_scenario
from sim.market import LLMMarket
from sim.spec import StrictModel

NUMBER_FIELDS = {"low", "high", "value", "scale", "weight", "diff_step"}


class Strict(StrictModel):
    """Base of the targets file's blocks: strict, with a hint for numbers YAML read as text."""

    @field_validator("*", mode="before")
    @classmethod
    def _yaml_number_hint(cls, value, info):
        """PyYAML reads 2.0e6 (no sign in the exponent) as text: say so instead of 'not a valid number'."""
        if isinstance(value, str) and info.field_name in NUMBER_FIELDS:
            try:
                float(value)
            except ValueError:
                return value
            raise ValueError(f"{value!r} is text to YAML; write numbers like 2.0e+6 (signed exponent) or 2000000")
        return value


class FreeParameter(Strict):
    """A scenario parameter the fit may move, by dotted path (lists by index: ``market.open_gap.1.elo``)."""

    path: str = Field(min_length=1, max_length=300)
    low: float
    high: float

    @model_validator(mode="after")
    def _ordered(self):
        if not self.low < self.high:
            raise ValueError(f"low ({self.low}) must be below high ({self.high})")
        return self


class Target(Strict):
    """One moment: the mean over seeds of ``metric`` at ``date`` (or averaged over the months of ``window``)."""

    name: str = Field(min_length=1, max_length=200)
    metric: str | list[str] = Field(description="a column, a derived column, or a list of them to sum")
    date: YearMonth | None = None
    window: list[YearMonth] | None = Field(None, min_length=2, max_length=2, description="[first, last] month")
    value: float
    scale: float | None = Field(None, gt=0, description="error counted as one unit (default 10% of |value|)")
    weight: float = Field(1.0, ge=0, le=1e6)
    source: str = Field(min_length=1, max_length=2_000)

    @model_validator(mode="after")
    def _one_time(self):
        if (self.date is None) == (self.window is None):
            raise ValueError("give exactly one of date or window")
        if self.window is not None and month_index(self.window[0], self.window[1]) < 0:
            raise ValueError(f"window ends ({self.window[1]}) before it starts ({self.window[0]})")
        if isinstance(self.metric, list) and not 1 <= len(self.metric) <= 20:
            raise ValueError("metric list must have 1 to 20 columns")
        if self.scale is None and self.value == 0:
            raise ValueError("a target of 0 needs an explicit scale")
        return self

    @property
    def when(self) -> str:
        """The target's date or window, for tables and messages."""
        return self.date if self.date is not None else f"{self.window[0]}..{self.window[1]}"

    @property
    def unit(self) -> float:
        """What one unit of error means: the target's own ``scale``, else 10% of its value, so targets of any
        size weigh alike."""
        return self.scale if self.scale is not None else 0.1 * abs(self.value)

    @property
    def columns(self) -> list[str]:
        """The record columns summed to make the target's series (one metric, or several added up)."""
        return [self.metric] if isinstance(self.metric, str) else list(self.metric)

    def months(self, start: str) -> tuple[int, int]:
        """First and last month index (from the scenario's ``start``) the target covers."""
        first, last = (self.date, self.date) if self.date is not None else self.window
        return month_index(start, first), month_index(start, last)


class FitSettings(Strict):
    """How hard to fit: a small population and a few common seeds keep one evaluation well under a second."""

    population: int = Field(8_000, ge=100, le=200_000, description="developers during the fit")
    seeds: int = Field(3, ge=1, le=20, description="common random-number seeds (replicates 0..seeds-1)")
    strategy: Literal["open", "closed", "absent"] | None = Field(None, description="Meta's strategy (scenario's)")
    lhs_points: int = Field(24, ge=0, le=2_000, description="Latin-hypercube start points (scipy.stats.qmc)")
    method: Literal["nelder-mead", "powell", "least-squares"] = "nelder-mead"
    diff_step: float = Field(0.02, gt=0, le=0.5, description="least-squares finite-difference step (unit cube)")
    max_evaluations: int = Field(400, ge=1, le=20_000, description="evaluation budget of each local search")
    restarts: int = Field(1, ge=0, le=10, description="local searches restarted from the best point so far")
    seed: int = Field(0, ge=0, le=2**32 - 1, description="seed of the Latin hypercube")


class TargetsFile(Strict):
    """A targets file as written: the scenario fit settings, the free parameters and the observed targets."""

    name: str = Field(min_length=1, max_length=200)
    description: str = Field(min_length=1, max_length=20_000)
    fit: FitSettings = FitSettings()
    parameters: list[FreeParameter] = Field(min_length=1, max_length=30)
    targets: list[Target] = Field(min_length=1, max_length=MAX_LIST)

    @model_validator(mode="after")
    def _unique(self):
        for kind, names in (("parameters", [p.path for p in self.parameters]),
                            ("targets", [t.name for t in self.targets])):
            dup = sorted({x for x in names if names.count(x) > 1})
            if dup:
                raise ValueError(f"duplicate {kind}: {dup}")
        return self


# The fit sets these for every candidate (fit population, common seeds, horizon to the last target).
FIT_CONTROLLED = ("population.n", "seed", "horizon_months", "start")

def read_targets(path: str | Path) -> TargetsFile:
    """Parse and validate a targets file (schema only; see :func:`check_against` for the scenario-dependent part)."""
    path = Path(path)
    data = read_yaml_mapping(path)
    try:
        return TargetsFile.model_validate(data)
    except ValidationError as err:
        raise_validation(path, err)


# ---- metrics ---------------------------------------------------------------------------------------------------------


def output_columns(scenario: Scenario) -> list[str]:
    """The engine's timeseries columns, read from a one-month run of a tiny copy (so new columns are accepted)."""
    tiny = scenario.model_copy(deep=True)
    tiny.population.n = max(len(tiny.population.giants) + 10, 50)
    tiny.horizon_months = 1
    return list(LLMMarket(tiny).run()[0])


DERIVED = {  # prefix -> (the column it is built from, a description for errors)
    "users_real.": "users.",  # real firms (users.* already counts real firms; kept for old target files)
    "annualized.": "",  # 12 x a monthly column
    "spend_share.": "price.",  # an option's share of developers' spend, price x tokens
    "consumer_users.": "consumer_user_share.",  # people using a consumer AI product, share x consumer_users
}


def base_column(column: str) -> str:
    """The timeseries column a (possibly derived) metric is built from."""
    for prefix, base in DERIVED.items():
        if column.startswith(prefix):
            return base + column.removeprefix(prefix)
    return column


def metric_series(df: pd.DataFrame, column: str, scenario: Scenario) -> np.ndarray:
    """One whitelisted metric of one run (monthly array)."""
    if column.startswith("users_real."):
        return df[f"users.{column.removeprefix('users_real.')}"].to_numpy(float)
    if column.startswith("annualized."):
        return df[column.removeprefix("annualized.")].to_numpy(float) * 12.0
    if column.startswith("spend_share."):
        prices = df.filter(regex=r"^price\.")
        spend = prices.fillna(0.0).to_numpy() * df.filter(regex=r"^tokens\.").to_numpy()
        total = spend.sum(axis=1)
        j = list(prices.columns).index(f"price.{column.removeprefix('spend_share.')}")
        return np.divide(spend[:, j], total, out=np.zeros_like(total), where=total > 0)
    if column.startswith("consumer_users."):
        return df[f"consumer_user_share.{column.removeprefix('consumer_users.')}"].to_numpy(float) * \
            df["consumer_users"].to_numpy(float)
    return df[column].to_numpy(float)


def target_series(df: pd.DataFrame, target: Target, scenario: Scenario) -> np.ndarray:
    """The run's monthly series of a target (its metrics summed)."""
    return sum(metric_series(df, c, scenario) for c in target.columns)


def target_value(df: pd.DataFrame, target: Target, scenario: Scenario) -> float:
    """The run's value of a target: at its month, or the mean over its window (NaN months skipped)."""
    first, last = target.months(scenario.start)
    window = target_series(df, target, scenario)[first:last + 1]
    return float(np.nanmean(window)) if np.isfinite(window).any() else float("nan")


def value_at(data: dict, path: str):
    """The value at a dotted path of a plain mapping (list items by index), or None when it does not exist."""
    try:
        return paths.get(data, path)
    except paths.NoSuchPath:
        return None


def check_against(spec: TargetsFile, scenario: Scenario, file) -> None:
    """Errors the schema cannot see: metrics must be whitelisted columns, parameter paths must be numeric scenario
    fields whose bounds the schema accepts, and dates must fall on or after the scenario's start."""
    scenario_data = scenario.model_dump(mode="json")
    columns = set(output_columns(scenario))
    numeric = {c for c in columns if c not in ("month",)}
    for i, t in enumerate(spec.targets):
        for c in t.columns:
            if base_column(c) not in numeric:
                raise ConfigError(file, f"targets[{i}].metric",
                                  f"unknown metric {c!r}: use a timeseries column (e.g. share_users.openai), "
                                  f"users_real.<option>, annualized.<column>, spend_share.<option>, "
                                  f"consumer_users.<product>, or a list of those")
        first, _ = t.months(scenario.start)
        if first < 0:
            raise ConfigError(file, f"targets[{i}].{'date' if t.date else 'window'}",
                              f"{t.when} is before the scenario's start {scenario.start}")
    for i, p in enumerate(spec.parameters):
        if p.path in FIT_CONTROLLED:
            raise ConfigError(file, f"parameters[{i}].path", f"{p.path!r} is set by the fit itself, not fitted")
        current = value_at(scenario_data, p.path)
        if current is None or isinstance(current, bool) or not isinstance(current, (int, float)):
            raise ConfigError(file, f"parameters[{i}].path", f"{p.path!r} is not a numeric scenario parameter")
        for bound in (p.low, p.high):
            trial = copy.deepcopy(scenario_data)
            set_in_dict(trial, p.path, typed_value(current, bound), file)
            try:
                validate_scenario(trial, file)
            except ConfigError as exc:
                raise ConfigError(file, f"parameters[{i}]", f"bound {bound} rejected by the scenario schema: "
                                                           f"{exc.path}: {exc.message}") from None


def typed_value(current, value: float):
    """Integers stay integers (rounded) so strict schema fields accept them."""
    return int(round(value)) if isinstance(current, int) and not isinstance(current, bool) else float(value)
