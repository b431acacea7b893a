"""Meta's AI spend (docs/model.md, "The spend a model must justify"; design §9 item 9): the AI shares of its R&D and
capex along their paths from history, capex as cash in the strategic lens and by vintage in the reported lens, and
the value of the last vintages after the horizon.

Capex bought in 2025–27 serves beyond 2027; counted as cash with nothing after the horizon, it would count against
building only. So the strategic lens adds a terminal value: the last year's channel values (spend excluded) going on
for ``terminal_years``, discounted, under every strategy.
"""

from __future__ import annotations

from collections import deque

from sim.config import month_index


def annual(points, start: str, t: int, default: float) -> float:
    """$ a year at month ``t`` from a dated path (each value from its date on; before the first, the first); the
    scalar ``default`` without a path."""
    if not points:
        return default
    ordered = sorted(points, key=lambda p: p.date)
    value = ordered[0].value
    for p in ordered:
        if month_index(start, p.date) <= t:
            value = p.value
    return value


def rd_month(cfg, t: int, programme: bool) -> float:
    """AI R&D a month at f_R = 1: all of Meta's R&D while it runs a programme, the kept share f_abs without one."""
    spend = cfg.meta.spend
    return annual(spend.rd_path, cfg.start, t, spend.rd_per_year) / 12.0 * (1.0 if programme else
                                                                           spend.kept_share_absent)


def capex_month(cfg, t: int, programme: bool) -> float:
    """AI capex a month at f_K = 1 while Meta runs a programme: the cash spent (``capex_as_cash``) or one year's
    capex depreciated over its life."""
    spend = cfg.meta.spend
    yearly = annual(spend.capex_path, cfg.start, t, spend.capex_per_year)
    return yearly / 12.0 * programme if spend.capex_as_cash else yearly / spend.capex_life_years / 12.0 * programme


class Vintages:
    """Capex by vintage: each month's cash depreciated straight-line over ``capex_life_years`` (the reported lens).
    Vintages start with the run: earlier ones are sunk under every strategy."""

    def __init__(self, life_years: float):
        self.months = max(int(round(life_years * 12)), 1)
        self.cash: deque = deque(maxlen=self.months)

    def depreciation(self, cash: float) -> float:
        """This month's depreciation after spending ``cash``."""
        self.cash.append(cash)
        return sum(self.cash) / self.months


def annuity(years: float, annual_rate: float) -> float:
    """Months of value after the horizon, discounted from it: sum over k = 1..12 years of (1 + r)^(-k/12)."""
    months = int(round(years * 12))
    return sum((1.0 + annual_rate) ** (-k / 12.0) for k in range(1, months + 1))
