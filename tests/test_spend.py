"""Meta's AI spend (:mod:`sim.market.spend`): paths from history, capex as cash in the strategic lens and by vintage
in the reported lens, no rental charge for training on Meta's own clusters, and the value after the horizon."""

from __future__ import annotations

import numpy as np
import pytest

from sim.channels import BENEFITS, REPORTED, STRATEGIC
from sim.config import AmountPoint
from sim.market.spend import annual, annuity
from sim.runner import simulate
from tests.helpers import small

CASH = {"meta__spend__capex_as_cash": True}


def test_a_path_holds_each_value_from_its_date_on():
    points = [AmountPoint(date="2024-01", value=2.0), AmountPoint(date="2023-01", value=1.0)]
    assert [annual(points, "2023-01", t, 9.0) for t in (0, 11, 12, 40)] == [1.0, 1.0, 2.0, 2.0]
    assert annual([], "2023-01", 5, 9.0) == 9.0


def test_capex_is_cash_in_the_strategic_lens_and_depreciated_by_vintage_in_the_reported_lens():
    """Constant capex C a month, life L months: the reported line is C (t + 1) / L until the first vintage is fully
    depreciated, then C; npv.meta sums the strategic lines only, the reported P&L the reported ones."""
    s = small(horizon=72, **CASH)
    s.meta.spend.capex_path = []  # constant capex: capex_per_year
    df = simulate(s, "open", 1)
    cash, booked = -df["meta.capex_cost"].to_numpy(), -df["meta.capex_depreciation"].to_numpy()
    life = int(s.meta.spend.capex_life_years * 12)
    assert np.allclose(cash, cash[0]) and cash[0] > 0
    assert np.allclose(booked[:life], cash[0] * np.arange(1, life + 1) / life)
    assert np.allclose(booked[life:], cash[0])
    assert np.allclose(df[[f"meta.{c}" for c in STRATEGIC]].sum(axis=1), df["profit.meta"])
    assert np.allclose(df[[f"meta.{c}" for c in REPORTED]].sum(axis=1), df["meta_reported"])
    assert "capex_depreciation" not in STRATEGIC and "capex_cost" not in REPORTED
    absent = simulate(s, "absent", 1)
    assert (absent[["meta.capex_cost", "meta.capex_depreciation"]] == 0).all().all()


def test_training_on_metas_clusters_is_inside_the_capex():
    """No rental charge for training runs; only the quality investment's extra compute is charged."""
    inside = {"meta__spend__training_inside_capex": True}
    assert (simulate(small(**inside), "open", 1)["meta.training_cost"] == 0).all()
    extra = simulate(small(meta__investment__extra_elo=50, **inside), "open", 1)["meta.training_cost"]
    rented = simulate(small(meta__investment__extra_elo=50, meta__spend__training_inside_capex=False), "open",
                      1)["meta.training_cost"]
    assert (extra <= 0).all() and extra.sum() < 0 and rented.sum() < extra.sum()


@pytest.mark.parametrize("strategy", ["open", "closed", "absent"])
def test_the_terminal_value_extends_the_last_years_channel_values(strategy):
    """In the last month only: the mean of the last 12 months' channel values (spend excluded) times the
    discounted months of ``terminal_years``; none at 0 years."""
    s = small(horizon=24, meta__spend__terminal_years=3)
    df = simulate(s, strategy, 1)
    tv = df["meta.terminal_value"]
    assert (tv.iloc[:-1] == 0).all()
    benefits = df[[f"meta.{c}" for c in BENEFITS]].sum(axis=1).iloc[-12:].mean()
    assert tv.iloc[-1] == pytest.approx(benefits * annuity(3, s.market.discount_rate))
    assert (simulate(small(horizon=24, meta__spend__terminal_years=0), strategy, 1)["meta.terminal_value"] == 0).all()
    assert annuity(3, 0.1) == pytest.approx(sum(1.1 ** (-k / 12) for k in range(1, 37)))
