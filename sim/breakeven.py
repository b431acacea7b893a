"""The break-even spend share f* (docs/model.md, "The spend a model must justify"; design §9 item 9).

The spend lines (the AI shares f_R of R&D and f_K of capex) decide open − absent by their size, and f_R, f_K are
the least known numbers of the ledger. So every paired comparison against absent reports the share f (f_R = f_K = f)
at which building breaks even with staying out:

    f* = (ΔNPV before spend) / NPV of the spend a programme adds per unit share,

the spend a programme adds being (1 − f_abs) of AI R&D (absent keeps the share f_abs) and the AI capex. Above f*
staying out pays; below it building does. ``breakeven_spend.*`` is the same in dollars: the most a programme may cost
beyond what absent keeps (NPV) for building to pay.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sim.market.spend import capex_month, rd_month
from sim.outcomes import discount_factors
from sim.strategies import BY_NAME

SPEND_LINES = ("npv.meta.rd_cost", "npv.meta.capex_cost")
BUILDERS = tuple(name for name, s in BY_NAME.items() if s.runs_programme)  # open, closed
STAYING_OUT = next(name for name, s in BY_NAME.items() if not s.runs_programme)  # absent


# What the spend per unit share reads besides meta.spend.*: a decision file that moves one of these per policy, world
# or menu item has no single spend per share, and reports no f* rather than a wrong one.
SPEND_INPUTS = ("meta.spend.", "horizon_months", "start", "market.discount_rate")


def moves_spend(paths) -> bool:
    """Whether any of these parameter paths changes :func:`spend_per_share`."""
    return any(p == i or p.startswith(i) for p in paths for i in SPEND_INPUTS)


def describe_breakeven(shares) -> str:
    """``0.3% (open), building loses even at f = 0 (closed)``: f* per building strategy in words."""
    return ", ".join(f"{100 * f:.1f}% ({s})" if f > 0 else f"none: building loses even with no spend ({s})"
                     for s, f in shares.items())


def spend_per_share(scenario) -> float:
    """NPV of the spend a programme adds over absent at f_R = f_K = 1, in the strategic lens ($)."""
    months = np.arange(scenario.horizon_months)
    added = np.array([rd_month(scenario, t, True) - rd_month(scenario, t, False) + capex_month(scenario, t, True)
                      for t in months])
    return float((added * discount_factors(months, scenario.market.discount_rate)).sum())


def before_spend(frame: pd.DataFrame) -> pd.Series:
    """Meta's NPV of each run before the f-scaled spend lines."""
    return frame["npv.meta"] - frame[list(SPEND_LINES)].sum(axis=1)


def add_breakeven(summary: pd.DataFrame, scenario) -> pd.DataFrame:
    """``summary`` (one row per strategy and replicate) with ``breakeven_spend_share.<s>_vs_absent`` and
    ``breakeven_spend.<s>_vs_absent`` on the rows of each building strategy s, from the absent run of the same
    replicate (NaN without one)."""
    out = summary.copy()
    per_share = spend_per_share(scenario)
    before = before_spend(out)
    out_of_it = before[out["strategy"] == STAYING_OUT].groupby(out["replicate"]).first()
    for s in BUILDERS:
        gain = before - out["replicate"].map(out_of_it)
        mine = out["strategy"] == s
        out[f"breakeven_spend.{s}_vs_{STAYING_OUT}"] = gain.where(mine)
        out[f"breakeven_spend_share.{s}_vs_{STAYING_OUT}"] = (gain / per_share).where(mine) if per_share > 0 else np.nan
    return out


def sweep_breakeven(results: pd.DataFrame, base) -> pd.DataFrame:
    """f* at every design point of a sweep that ran absent and a building strategy, from the per-run metrics
    ``npv.meta`` and the spend lines (means over paired replicates): columns point, builder, breakeven_spend (the
    gain before spend, $), breakeven_spend_share. The spend per unit share is read from ``base`` (the sweep's
    scenario) with the point's own ``meta.spend.*`` values where they were swept."""
    needed = {"npv.meta", *SPEND_LINES}
    if not needed <= set(results.columns) or STAYING_OUT not in set(results["strategy"]):
        return pd.DataFrame(columns=["point", "builder", "breakeven_spend", "breakeven_spend_share"])
    spend_params = [c for c in results.columns if c.startswith("param.meta.spend.")]
    frame = results.assign(before=before_spend(results))
    wide = frame.pivot_table(index=["point", "replicate"], columns="strategy", values="before")
    points = frame.groupby("point")[spend_params].first()
    per_share = {}
    for point in wide.index.get_level_values("point").unique():  # the spend per unit share, once a point
        scenario = base.model_copy(deep=True)
        for column in spend_params:
            setattr(scenario.meta.spend, column.removeprefix("param.meta.spend."), float(points.loc[point, column]))
        per_share[point] = spend_per_share(scenario)
    rows = []
    for builder in (b for b in BUILDERS if b in wide.columns):
        gain = (wide[builder] - wide[STAYING_OUT]).groupby(level="point").mean()
        for point, g in gain.items():
            rows.append({"point": int(point), "builder": builder, "breakeven_spend": float(g),
                         "breakeven_spend_share": float(g / per_share[point]) if per_share[point] > 0 else np.nan})
    return pd.DataFrame(rows)
