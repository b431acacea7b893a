"""The break-even spend share f* (:mod:`sim.breakeven`): the AI share of R&D and capex at which building a model
does exactly as well as staying out."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sim.breakeven import spend_per_share
from sim.runner import run_scenario
from tests.helpers import small

PAIR = ("open", "closed", "absent")


def difference(scenario, builder: str, share: float) -> float:
    """Paired npv.meta of ``builder`` less absent's at f_R = f_K = ``share``."""
    at = scenario.model_copy(deep=True)
    at.meta.spend.rd_share = at.meta.spend.capex_share = share
    _, summary = run_scenario(at, (builder, "absent"), 1)
    npv = summary.set_index("strategy")["npv.meta"]
    return float(npv[builder] - npv["absent"])


def test_building_and_staying_out_tie_at_the_breakeven_share():
    """Open - absent (and closed - absent) is linear in f_R = f_K (nothing but the spend lines reads the shares), and
    the line through two shares crosses zero at the reported f*, positive or not."""
    s = small(n=2000, horizon=24, meta__spend__kept_share_absent=0.3)
    _, summary = run_scenario(s, PAIR, 1)
    for builder in ("open", "closed"):
        f_star = float(summary.loc[summary["strategy"] == builder,
                                   f"breakeven_spend_share.{builder}_vs_absent"].iloc[0])
        d1, d2 = difference(s, builder, 0.1), difference(s, builder, 0.2)
        assert d2 < d1  # more spend, less reason to build
        root = 0.1 + d1 / ((d1 - d2) / 0.1)
        assert root == pytest.approx(f_star, abs=1e-9)


def test_the_breakeven_spend_is_the_gain_before_spend_and_absent_rows_carry_none():
    s = small(n=2000, horizon=24)
    _, summary = run_scenario(s, PAIR, 1)
    rows = summary.set_index("strategy")
    spend = ["npv.meta.rd_cost", "npv.meta.capex_cost"]
    gain = (rows.loc["open", "npv.meta"] - rows.loc["open", spend].sum()) \
        - (rows.loc["absent", "npv.meta"] - rows.loc["absent", spend].sum())
    assert rows.loc["open", "breakeven_spend.open_vs_absent"] == pytest.approx(gain)
    assert np.isnan(rows.loc["absent", "breakeven_spend.open_vs_absent"])
    assert np.isnan(rows.loc["closed", "breakeven_spend_share.open_vs_absent"])


def test_a_kept_team_under_absent_shrinks_the_spend_a_programme_adds():
    """f_abs: absent keeps a share of AI R&D (its R&D line is no longer zero), so a programme adds less spend over
    absent and the same gain before spend breaks even at a share larger in size by that ratio."""
    shares, per_share = [], []
    for kept in (0.0, 0.4):
        s = small(n=2000, horizon=24, meta__spend__kept_share_absent=kept)
        _, summary = run_scenario(s, PAIR, 1)
        shares.append(summary.loc[summary["strategy"] == "open", "breakeven_spend_share.open_vs_absent"].iloc[0])
        per_share.append(spend_per_share(s))
        absent_rd = summary.loc[summary["strategy"] == "absent", "npv.meta.rd_cost"].iloc[0]
        assert (absent_rd < 0) == (kept > 0)
    assert per_share[1] < per_share[0]
    assert shares[1] == pytest.approx(shares[0] * per_share[0] / per_share[1])


def test_a_sweep_reports_the_breakeven_share_of_each_design_point():
    """From the per-run metrics of a sweep: the mean paired gain before spend over absent, divided by the spend a
    programme adds per unit share (with the point's own swept kept share)."""
    from sim.breakeven import sweep_breakeven

    base = small(horizon=24)
    rows = []
    for point, kept in ((0, 0.2), (1, 0.5)):
        for replicate in (0, 1):
            for strategy, npv_meta, spend in (("open", -5.0e9, -6.0e9), ("absent", -1.0e9, -2.0e9)):
                rows.append({"point": point, "replicate": replicate, "strategy": strategy,
                             "param.meta.spend.kept_share_absent": kept,
                             "npv.meta": npv_meta + replicate * 1e8 + (point * 1e9 if strategy == "open" else 0.0),
                             "npv.meta.rd_cost": spend, "npv.meta.capex_cost": 0.0})
    f = sweep_breakeven(pd.DataFrame(rows), base).set_index("point")
    assert (f["builder"] == "open").all()
    assert f.loc[0, "breakeven_spend"] == pytest.approx(0.0)  # -5 + 6 against -1 + 2: no gain before spend
    assert f.loc[1, "breakeven_spend"] == pytest.approx(1.0e9)
    for point, kept in ((0, 0.2), (1, 0.5)):
        at = base.model_copy(deep=True)
        at.meta.spend.kept_share_absent = kept
        assert f.loc[point, "breakeven_spend_share"] == pytest.approx(f.loc[point, "breakeven_spend"]
                                                                      / spend_per_share(at))
