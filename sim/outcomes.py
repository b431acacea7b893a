"""The run outcomes, each declared once: name, the record columns it reads, how it reduces them, label, unit, direction.

Modelled on EMA Workbench's ``ScalarOutcome(name, function, kind)``: :func:`sim.runner.outcomes` evaluates this list,
and sweeps, discovery and decision files take their metric names (and money units) from it instead of running a probe
model or repeating names. The list follows the option, provider, product and ledger-line lists of the engine, so a new
provider or channel gets its outcomes without an edit here.

``python -m sim.outcomes`` prints the markdown table of docs/outcomes.md.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

import numpy as np

from sim.catalog import DEFAULT, Catalog
from sim.channels import CHANNEL_NAMES
from sim.channels import LABELS as CHANNEL_LABELS

MONTH = 24  # the month the "_m24" outcomes are read at (a run needs MONTH + 1 months to reach it)
LLAMA_SHARE = f"llama_token_share_m{MONTH}"  # the headline adoption outcome, kept beside any decision objective
MAXIMIZE, MINIMIZE = "maximize", "minimize"
MONEY = "$"


def discount_factors(months: np.ndarray, annual_rate: float) -> np.ndarray:
    """Monthly discount factors (1 + annual rate) ** (-month / 12), by which NPVs weight each month."""
    return (1.0 + annual_rate) ** (-np.asarray(months, dtype=float) / 12.0)


def skipna_mean(values: np.ndarray) -> float:
    """pandas' Series.mean: NaNs skipped (summed as 0, not counted), NaN when nothing is left."""
    missing = np.isnan(values)
    count = values.size - int(missing.sum())
    return float(np.where(missing, 0.0, values).sum() / count) if count else float("nan")


# Reductions: a column's monthly float64 values (and the run's discount factors) -> one number.
REDUCTIONS: dict[str, tuple[str, Callable[[np.ndarray, np.ndarray], float]]] = {
    "npv": ("discounted sum over the months (the market's discount rate)",
            lambda values, disc: float((values * disc).sum())),
    "total": ("sum over the months, NaN months skipped", lambda values, disc: float(np.nansum(values))),
    "final": ("value in the last month", lambda values, disc: float(values[values.size - 1])),
    f"month{MONTH}": (f"value in month {MONTH} (NaN when the run is shorter)",
                      lambda values, disc: float(values[MONTH]) if values.size > MONTH else float("nan")),
    "mean": ("mean over the months, NaN months skipped", lambda values, disc: skipna_mean(values)),
}


@dataclass(frozen=True)
class Outcome:
    """One scalar outcome of a run. Several ``columns`` are added month by month before the reduction."""

    name: str
    columns: tuple[str, ...]
    reduction: str  # a key of REDUCTIONS
    label: str
    unit: str = ""
    direction: str | None = None  # MAXIMIZE, MINIMIZE or None (no side is better)

    def __post_init__(self):
        if self.reduction not in REDUCTIONS:
            raise ValueError(f"{self.name}: unknown reduction {self.reduction!r}")

    @property
    def money(self) -> bool:
        """Whether the outcome is in dollars (tables show it in $B)."""
        return self.unit == MONEY

    @property
    def month(self) -> int | None:
        """The month the outcome is read at, when it is read at a fixed month."""
        return MONTH if self.reduction == f"month{MONTH}" else None

    def evaluate(self, column: Callable[[str], np.ndarray], disc: np.ndarray) -> float:
        """The outcome of one run: its columns added month by month, then reduced to one number."""
        values = column(self.columns[0])
        for more in self.columns[1:]:
            values = values + column(more)
        return REDUCTIONS[self.reduction][1](values, disc)


def _money_outcomes(cat: Catalog) -> list[Outcome]:
    out = []
    for p in cat.PROVIDERS:
        out.append(Outcome(f"npv.{p}", (f"profit.{p}",), "npv", f"NPV of {p}'s profit", MONEY, MAXIMIZE))
        out.append(Outcome(f"revenue_total.{p}", (f"revenue.{p}",), "total", f"{p}'s total revenue", MONEY))
    for line in CHANNEL_NAMES:
        out.append(Outcome(f"npv.meta.{line}", (f"meta.{line}",), "npv", f"NPV of Meta's {CHANNEL_LABELS[line]}",
                           MONEY, MAXIMIZE))
    out.append(Outcome("npv.meta_reported", ("meta_reported",), "npv", "NPV of Meta's reported AI P&L", MONEY,
                       MAXIMIZE))
    return out


def _share_outcomes(cat: Catalog) -> list[Outcome]:
    out = []
    for o in cat.OPTIONS:
        out.append(Outcome(f"final_share_users.{o}", (f"share_users.{o}",), "final",
                           f"{cat.OPTION_LABELS[o]}: share of adopted developers, final", "share"))
        out.append(Outcome(f"final_share_tokens.{o}", (f"share_tokens.{o}",), "final",
                           f"{cat.OPTION_LABELS[o]}: share of tokens, final", "share"))
    out.append(Outcome(LLAMA_SHARE, ("share_tokens.llama_hosted", "share_tokens.llama_self"),
                       f"month{MONTH}", f"Llama's share of tokens (hosted + self-hosted), month {MONTH}", "share"))
    out += [Outcome(f"flywheel_gain_m{MONTH}.{lab}", (f"flywheel_gain.{lab}",), f"month{MONTH}",
                    f"{lab}'s data-flywheel quality gain, month {MONTH}", "Elo") for lab in cat.FLYWHEEL_LABS]
    out += [Outcome(f"final_flywheel_gain.{lab}", (f"flywheel_gain.{lab}",), "final",
                    f"{lab}'s data-flywheel quality gain, final", "Elo") for lab in cat.FLYWHEEL_LABS]
    out += [Outcome(f"final_consumer_share.{name}", (f"consumer_share.{name}",), "final",
                    f"{name}: share of consumer AI users, final", "share") for name in cat.PRODUCTS]
    return out


def _market_outcomes() -> list[Outcome]:
    return [
        Outcome("final_adopted_frac", ("adopted_frac",), "final", "developers who adopted an LLM, final", "share"),
        Outcome("final_commoditization", ("commoditization",), "final",
                "commoditization (1 - HHI of model families' token shares), final", "0-1"),
        Outcome("mean_dev_surplus", ("dev_surplus",), "mean", "developer surplus, mean over months",
                "$ per firm-month", MAXIMIZE),
        Outcome("mean_avg_price_paid", ("avg_price_paid",), "mean", "token-weighted price paid, mean over months",
                "$/M tokens"),
    ]


@functools.lru_cache(maxsize=64)
def declared(cat: Catalog = DEFAULT) -> tuple[Outcome, ...]:
    """The outcomes of a scenario's catalogue (a provider the scenario adds gets its NPV, shares and flywheel)."""
    return (*_money_outcomes(cat), *_share_outcomes(cat), *_market_outcomes())


OUTCOMES: tuple[Outcome, ...] = declared(DEFAULT)
BY_NAME: dict[str, Outcome] = {o.name: o for o in OUTCOMES}
NAMES: tuple[str, ...] = tuple(BY_NAME)


def evaluate(run: Mapping, annual_rate: float, cat: Catalog = DEFAULT,
             names: Iterable[str] | None = None) -> dict[str, float]:
    """The declared outcomes of one run (``names``: only these), in declaration order; ``run`` maps record columns to
    monthly values."""
    def column(name: str) -> np.ndarray:
        return np.asarray(run[name], dtype=np.float64)

    wanted = None if names is None else frozenset(names)
    disc = discount_factors(column("month"), annual_rate)
    return {o.name: o.evaluate(column, disc) for o in declared(cat) if wanted is None or o.name in wanted}


def columns_read(names: Iterable[str], cat: Catalog = DEFAULT) -> frozenset[str]:
    """The record columns the named outcomes read (and ``month``, which discounting reads): what a run that keeps
    only these outcomes must record."""
    wanted = frozenset(names)
    return frozenset(("month", *(c for o in declared(cat) if o.name in wanted for c in o.columns)))


def reading(column: str) -> frozenset[str]:
    """The names of the outcomes that read ``column`` (a run may skip computing a column none of its metrics read)."""
    return frozenset(o.name for o in OUTCOMES if column in o.columns)


def markdown_table(outcomes: tuple[Outcome, ...] = OUTCOMES) -> str:
    """The outcomes as a Markdown table, as docs list them (``python -m sim.outcomes`` prints it)."""
    lines = ["| outcome | reads | reduction | unit | better | meaning |", "|---|---|---|---|---|---|"]
    for o in outcomes:
        reads = " + ".join(f"`{c}`" for c in o.columns)
        lines.append(f"| `{o.name}` | {reads} | {REDUCTIONS[o.reduction][0]} | {o.unit} | {o.direction or ''} | "
                     f"{o.label} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(markdown_table(), end="")


# Fewer paired replicates than this: a difference between strategies is shown without an interval and no verdict is
# drawn from it (the run and sweep reports, sim run's printout, the game's headline, the brief).
MIN_CI_REPLICATES = 3

# Metrics read at a fixed month: the month a run must reach for the value to exist.
MONTH_METRICS = {"llama_token_share_m24": 24}


def without_unsimulated(summary, horizon_months: int):
    """NaN for a metric read at a month the run never reached (``--set horizon_months=1`` has no month 24): what
    ``sim run`` and ``sim brief`` write in summary.csv."""
    summary = summary.copy()
    for col, month in MONTH_METRICS.items():
        if col in summary and horizon_months <= month:
            summary[col] = np.nan
    return summary
