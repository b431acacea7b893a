"""Run a scenario: each Meta strategy x replicate, paired on the same seeds, into tidy tables.

``timeseries``: one row per scenario x strategy x replicate x month. ``summary``: one row per strategy x replicate with
NPVs (discounted monthly profit) and final shares. Both have stable column names; plots and reports only read them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

import numpy as np
import pandas as pd

from sim.breakeven import add_breakeven
from sim.catalog import DEFAULT, Catalog, catalog_of
from sim.config import STRATEGIES, Scenario
from sim.market import LLMMarket
from sim.outcomes import columns_read, discount_factors, evaluate  # noqa: F401 - discount_factors: re-exported (validation, tests)

SEED_MASK = (1 << 63) - 1


def derive_seed(*keys: int) -> int:
    """A run seed from integer keys (scenario seed, replicate, ...) via SeedSequence: independent of where and in what
    order runs execute. The number of keys is appended because SeedSequence pads its entropy with zeros, which would
    make (s), (s, 0) and (s, 0, 0) the same seed."""
    entropy = [int(k) for k in keys] + [len(keys)]
    return int(np.random.SeedSequence(entropy).generate_state(1, np.uint64)[0]) & SEED_MASK


def month_dates(start: str, horizon: int) -> pd.DatetimeIndex:
    """The first day of each simulated month from ``start`` (YYYY-MM), for dated time series."""
    return pd.date_range(pd.Timestamp(f"{start}-01"), periods=horizon, freq="MS")


def simulate(scenario: Scenario, strategy: str, seed: int, on_step: Callable[[], object] | None = None) -> pd.DataFrame:
    """One run: the model's monthly records as a DataFrame (no id columns)."""
    model = LLMMarket(scenario, strategy=strategy, seed=seed)
    return records_frame(model.run(on_step))


def records_frame(rows: list[dict]) -> pd.DataFrame:
    """Monthly records (dicts with the same keys) as a DataFrame: the numbers go in as one float block, then the
    integer and text columns get their types back. The same frame as ``from_records``, several times cheaper, which
    matters to sweeps of many small runs."""
    keys = list(rows[0])
    first = rows[0]
    text = [k for k in keys if isinstance(first[k], str)]
    numbers = [k for k in keys if k not in text]
    block = np.array([[row[k] for k in numbers] for row in rows], dtype=np.float64)
    df = pd.DataFrame(block, columns=numbers)
    for j, k in enumerate(numbers):
        if isinstance(first[k], (bool, np.bool_)):
            df[k] = block[:, j].astype(bool)
        elif isinstance(first[k], (int, np.integer)):
            df[k] = block[:, j].astype(np.int64)
    for k in text:
        df.insert(keys.index(k), k, [row[k] for row in rows])
    return df


def run_once(scenario: Scenario, strategy: str, replicate: int, seed: int,
             on_step: Callable[[], object] | None = None) -> pd.DataFrame:
    """One run with its id columns, in the timeseries layout."""
    df = simulate(scenario, strategy, seed, on_step)
    for at, (name, value) in enumerate((("scenario", scenario.name), ("strategy", strategy),
                                        ("replicate", replicate), ("seed", seed))):
        df.insert(at, name, value)
    df.insert(5, "date", month_dates(scenario.start, len(df)))
    return df


def summarize(run: pd.DataFrame, annual_rate: float, cat: Catalog = DEFAULT) -> dict:
    """One run's ids and key outcomes (:func:`outcomes`) from its timeseries rows."""
    out: dict = {c: run[c].iloc[0] for c in ("scenario", "strategy", "replicate", "seed")}
    out.update(outcomes(run, annual_rate, cat))
    return out


class RecordColumns(Mapping):
    """A run's monthly records read by column (``columns["profit.meta"]`` is a float64 array over months), built only
    for the columns asked for: a sweep keeps a few dozen numbers of a run, not its whole frame."""

    def __init__(self, rows: list[dict]):
        self.rows = rows

    def __getitem__(self, column: str) -> np.ndarray:
        return np.array([row[column] for row in self.rows], dtype=np.float64)

    def __iter__(self):
        return iter(self.rows[0])

    def __len__(self) -> int:
        return len(self.rows[0])


def outcomes(run: Mapping, annual_rate: float, cat: Catalog = DEFAULT) -> dict:
    """A run's key outcomes (declared in :mod:`sim.outcomes`: NPV of each provider and of each Meta line, final and
    month-24 shares...). ``run`` maps column names to monthly values (a timeseries DataFrame, or
    :class:`RecordColumns`); ``cat`` the scenario's catalogue (:func:`sim.catalog.catalog_of`)."""
    return evaluate(run, annual_rate, cat)


def run_outcomes(scenario: Scenario, strategy: str, seed: int, names: Iterable[str] | None = None) -> dict:
    """One run's :func:`outcomes` (``names``: only these, and the model records only the columns they read), read
    straight from the model's records without building its DataFrame (what a sweep keeps of a run)."""
    cat = catalog_of(scenario)
    keep = None if names is None else columns_read(names, cat)
    rows = LLMMarket(scenario, strategy=strategy, seed=seed, keep=keep).run()
    return evaluate(RecordColumns(rows), scenario.market.discount_rate, cat, names)


def run_scenario(scenario: Scenario, strategies: Iterable[str] = STRATEGIES, replications: int = 1,
                 progress: Callable[[], object] | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """All strategies x replicates; replicate r of every strategy uses the same seed (paired counterfactuals).
    ``progress`` is called once per simulated month."""
    strategies = list(strategies)
    runs, rows = [], []
    for r in range(replications):
        seed = derive_seed(scenario.seed, r)
        for strategy in strategies:
            run = run_once(scenario, strategy, r, seed, progress)
            runs.append(run)
            rows.append(summarize(run, scenario.market.discount_rate, catalog_of(scenario)))
    timeseries = pd.concat(runs, ignore_index=True)
    return timeseries, add_breakeven(pd.DataFrame(rows), scenario)
