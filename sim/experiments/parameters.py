"""What a swept parameter may take: a list of values, a ``{low, high}`` range, or a distribution.

Each kind maps the unit interval to parameter values (``ppf``, the inverse CDF), so one sampler of the unit hypercube
(Latin hypercube, Sobol', Morris) serves every kind, and gives ``grid_values`` for full-factorial designs. Sobol'
indices do not change under such monotone maps, and Morris effects are read per fraction of the range, so the
analysis works on the unit coordinates whatever the marginals are.
"""

from __future__ import annotations

import math
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import BeforeValidator, ConfigDict, Discriminator, Field, Tag, model_validator

from sim.spec import StrictModel

MAX_VALUES = 10_000
MAX_LEVELS = 10_000
NORMAL_CLIP = 1e-3  # normal marginals are cut at their 0.1% and 99.9% quantiles (+-3.1 sd): no infinite values


def _number(value: Any) -> Any:
    """Ints, floats and numeric strings (PyYAML reads ``1e7`` as a string); never booleans."""
    if isinstance(value, bool):
        raise ValueError("must be a number, not a boolean")
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            raise ValueError(f"must be a number, got {value!r}") from None
    if isinstance(value, (int, float)) and not math.isfinite(float(value)):
        raise ValueError("must be a finite number")
    return value


Number = Annotated[float, BeforeValidator(_number)]


class Spec(StrictModel):
    """A parameter's specification in an experiment: strict and frozen so a typo or a changed value is an error, not
    a silent default."""

    model_config = ConfigDict(frozen=True)

    def grid_values(self, levels: int | None) -> np.ndarray:
        """Levels of a full-factorial grid: evenly spaced over a range, quantile mid-points of a distribution (the
        parameter's own ``levels`` when it sets them, else the design's)."""
        levels = getattr(self, "levels", None) or levels
        if levels is None:
            raise ValueError("a grid needs the number of levels: set design.size or this parameter's levels")
        return self.ppf((np.arange(levels) + 0.5) / levels)

    def ppf(self, u: np.ndarray) -> np.ndarray:  # pragma: no cover - every kind overrides it
        """Values at quantiles ``u`` in [0, 1]: every design method draws unit samples and maps them through
        this."""
        raise NotImplementedError


class Values(Spec):
    """An explicit list: a grid takes every value; samplers pick one with equal chance."""

    values: list[Number] = Field(min_length=1, max_length=MAX_VALUES)

    @model_validator(mode="before")
    @classmethod
    def _from_list(cls, data):
        return {"values": data} if isinstance(data, list) else data

    def grid_values(self, levels: int | None) -> np.ndarray:
        """Every listed value: an explicit list is its own grid."""
        return np.asarray(self.values, dtype=float)

    def ppf(self, u: np.ndarray) -> np.ndarray:
        """The value whose equal-width slice of [0, 1] holds ``u``, so each value is equally likely."""
        k = len(self.values)
        index = np.clip(np.floor(np.asarray(u) * k).astype(np.int64), 0, k - 1)
        return np.asarray(self.values, dtype=float)[index]


class Range(Spec):
    """``{low, high}``: uniform between the bounds (geometric with ``log: true``); a grid spaces ``levels`` evenly."""

    low: Number
    high: Number
    levels: int | None = Field(None, ge=1, le=MAX_LEVELS)
    log: bool = False

    @model_validator(mode="after")
    def _ordered(self):
        if not self.low < self.high:
            raise ValueError("low must be below high")
        if self.log and self.low <= 0:
            raise ValueError("a log range needs low > 0")
        return self

    def grid_values(self, levels: int | None) -> np.ndarray:
        """``levels`` evenly spaced values from ``low`` to ``high`` inclusive (the mid-point for one level), so
        a grid covers the bounds."""
        n = self.levels or levels
        if n is None:
            raise ValueError("a grid needs the number of levels: set design.size or this parameter's levels")
        if n == 1:
            return self.ppf(np.array([0.5]))
        return self.ppf(np.linspace(0.0, 1.0, n))

    def ppf(self, u: np.ndarray) -> np.ndarray:
        """Linear (or, with ``log``, geometric) interpolation between the bounds."""
        u = np.asarray(u, dtype=float)
        if self.log:
            return np.exp(np.log(self.low) + u * (np.log(self.high) - np.log(self.low)))
        return self.low + u * (self.high - self.low)


class Uniform(Range):
    """``{dist: uniform, low, high}``: the same as a range."""

    dist: Literal["uniform"]


class LogUniform(Range):
    """``{dist: loguniform, low, high}``: uniform in log space (thresholds spanning orders of magnitude)."""

    dist: Literal["loguniform"]
    log: bool = True

    @model_validator(mode="after")
    def _is_log(self):
        if not self.log:
            raise ValueError("loguniform is always on a log scale; use a range for a linear one")
        return self


class Normal(Spec):
    """``{dist: normal, mean, sd}``, cut at the 0.1% and 99.9% quantiles so every design value is finite."""

    dist: Literal["normal"]
    mean: Number
    sd: Number = Field(gt=0)
    levels: int | None = Field(None, ge=1, le=MAX_LEVELS)

    def ppf(self, u: np.ndarray) -> np.ndarray:
        """Normal quantiles, ``u`` clipped to the 0.1% and 99.9% quantiles so no value is infinite."""
        u = np.clip(np.asarray(u, dtype=float), NORMAL_CLIP, 1 - NORMAL_CLIP)
        from scipy import stats

        return stats.norm.ppf(u, loc=self.mean, scale=self.sd)


class TruncNormal(Spec):
    """``{dist: truncnormal, mean, sd, low, high}``: a normal kept inside a parameter's bounds."""

    dist: Literal["truncnormal"]
    mean: Number
    sd: Number = Field(gt=0)
    low: Number
    high: Number
    levels: int | None = Field(None, ge=1, le=MAX_LEVELS)

    @model_validator(mode="after")
    def _ordered(self):
        if not self.low < self.high:
            raise ValueError("low must be below high")
        return self

    def ppf(self, u: np.ndarray) -> np.ndarray:
        """Quantiles of the normal truncated to [low, high]."""
        a, b = (self.low - self.mean) / self.sd, (self.high - self.mean) / self.sd
        from scipy import stats

        return stats.truncnorm.ppf(np.asarray(u, dtype=float), a, b, loc=self.mean, scale=self.sd)


class Triangular(Spec):
    """``{dist: triangular, low, mode, high}``: an expert's range with a most likely value."""

    dist: Literal["triangular"]
    low: Number
    mode: Number
    high: Number
    levels: int | None = Field(None, ge=1, le=MAX_LEVELS)

    @model_validator(mode="after")
    def _ordered(self):
        if not (self.low <= self.mode <= self.high and self.low < self.high):
            raise ValueError("need low <= mode <= high and low < high")
        return self

    def ppf(self, u: np.ndarray) -> np.ndarray:
        """Quantiles of the triangular distribution on [low, high] peaking at ``mode``."""
        from scipy import stats

        width = self.high - self.low
        return stats.triang.ppf(np.asarray(u, dtype=float), (self.mode - self.low) / width, loc=self.low, scale=width)


PARAMETER_KINDS = ("values", "range", "uniform", "loguniform", "normal", "truncnormal", "triangular")


def _kind(value: Any) -> str | None:
    if isinstance(value, list):
        return "values"
    if isinstance(value, dict):
        if "dist" in value:
            return str(value["dist"])
        return "values" if "values" in value else "range"
    if isinstance(value, Spec):
        return getattr(value, "dist", None) or ("values" if isinstance(value, Values) else "range")
    return None


ParamSpec = Annotated[
    Annotated[Values, Tag("values")]
    | Annotated[Range, Tag("range")]
    | Annotated[Uniform, Tag("uniform")]
    | Annotated[LogUniform, Tag("loguniform")]
    | Annotated[Normal, Tag("normal")]
    | Annotated[TruncNormal, Tag("truncnormal")]
    | Annotated[Triangular, Tag("triangular")],
    Discriminator(
        _kind,
        custom_error_type="parameter_spec",
        custom_error_message="must be a list of values, {low, high} or {dist: uniform|loguniform|normal|truncnormal|"
                             "triangular, ...}",
    ),
]
