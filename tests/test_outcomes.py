"""The declared outcomes (sim.outcomes) are exactly what a run reports, reduce as declared, and name the metrics of
sweeps and decision files without running a model."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from sim import outcomes
from sim.catalog import catalog_of
from sim.outcomes import BY_NAME, MONTH, NAMES, OUTCOMES
from sim.runner import run_outcomes
from tests.helpers import small

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("horizon", [MONTH + 2, 3])
def test_a_run_reports_every_declared_outcome_and_nothing_else(horizon):
    scenario = small(n=200, horizon=horizon)
    mine = outcomes.declared(catalog_of(scenario))  # the baseline adds a Chinese open family to the built-ins
    got = run_outcomes(scenario, "open", 7)
    assert tuple(got) == tuple(o.name for o in mine) and set(NAMES) < set(got)  # in declaration order
    at_month = [o.name for o in mine if o.month is not None]
    assert at_month and all(math.isnan(got[n]) == (horizon <= MONTH) for n in at_month)


def synthetic_record(months: int) -> dict[str, np.ndarray]:
    """Every column the outcomes read, each a different simple series; one NaN month in the averaged ones."""
    columns = sorted({c for o in OUTCOMES for c in o.columns})
    record = {c: np.linspace(1.0 + i, 2.0 + 3 * i, months) for i, c in enumerate(columns)}
    record["month"] = np.arange(months, dtype=float)
    for c in ("dev_surplus", "avg_price_paid", "revenue.openai"):
        record[c][1] = np.nan
    return record


def test_reductions_match_a_hand_computation():
    record, rate = synthetic_record(30), 0.10
    got = outcomes.evaluate(record, rate)
    profit = record["profit.openai"]
    npv = sum(profit[m] / 1.10 ** (m / 12) for m in range(30))
    assert got["npv.openai"] == pytest.approx(npv, rel=1e-13)
    revenue = record["revenue.openai"]
    assert got["revenue_total.openai"] == pytest.approx(sum(v for v in revenue if not math.isnan(v)), rel=1e-13)
    assert got["final_share_users.llama_self"] == record["share_users.llama_self"][-1]
    llama = record["share_tokens.llama_hosted"][24] + record["share_tokens.llama_self"][24]
    assert got["llama_token_share_m24"] == llama
    assert got["flywheel_gain_m24.google"] == record["flywheel_gain.google"][24]
    surplus = [v for v in record["dev_surplus"] if not math.isnan(v)]
    assert got["mean_dev_surplus"] == pytest.approx(sum(surplus) / len(surplus), rel=1e-13)


def test_short_records_leave_month_outcomes_empty_and_all_nan_means_are_nan():
    record = synthetic_record(MONTH)
    record["avg_price_paid"][:] = np.nan
    got = outcomes.evaluate(record, 0.05)
    assert math.isnan(got["llama_token_share_m24"]) and math.isnan(got["mean_avg_price_paid"])
    assert got["final_adopted_frac"] == record["adopted_frac"][-1]


def test_declarations_are_unique_and_described():
    assert len(BY_NAME) == len(OUTCOMES)
    for o in OUTCOMES:
        assert o.label and o.columns and o.reduction in outcomes.REDUCTIONS
        assert o.direction in (None, outcomes.MAXIMIZE, outcomes.MINIMIZE)
    assert BY_NAME["npv.meta"].money and BY_NAME["npv.meta"].direction == outcomes.MAXIMIZE
    assert outcomes.reading("dev_surplus") == {"mean_dev_surplus"}
    with pytest.raises(ValueError, match="unknown reduction"):
        outcomes.Outcome("x", ("y",), "median", "x")


def test_experiment_metrics_come_from_the_declarations_without_a_model(monkeypatch):
    import sim.market.model
    from sim.experiments.schema import load_experiment, summary_metrics

    def refuse(*args, **kwargs):
        raise AssertionError("a model was built to list metric names")

    monkeypatch.setattr(sim.market.model.LLMMarket, "__init__", refuse)
    assert summary_metrics() == NAMES
    experiment = load_experiment(ROOT / "experiments" / "smoke.yaml")
    assert set(experiment.metrics) <= set(NAMES)


def test_docs_outcome_table_matches_the_declarations():
    text = (ROOT / "docs" / "outcomes.md").read_text()
    assert outcomes.markdown_table() in text, "regenerate it: python -m sim.outcomes"
