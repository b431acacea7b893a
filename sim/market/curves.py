"""Market-wide curves: pure functions of the scenario and the month (docs/model.md, "Providers").

The frontier and the open-model gap (Arena history), the cost of serving a model (a16z "LLMflation"), community
gains of open families, the Jevons response of token use to price, the logit-Nash price of a single-product firm
and the labs' dated list prices. Nothing here holds state, so each curve is tested alone.
"""

from __future__ import annotations

import math

import numpy as np

from sim.config import month_index


def frontier(cfg, t: int) -> float:
    """Best achievable quality (Elo): rises linearly, ``frontier_growth`` Elo per month."""
    return cfg.market.frontier_start_elo + cfg.market.frontier_growth * t


def open_gap(cfg, t: int) -> float:
    """Open-model gap behind the frontier (Elo), linear between the scenario's dated points (Arena history)."""
    pts = cfg.market.open_gap
    months = [month_index(cfg.start, p.date) for p in pts]
    return float(np.interp(t, months, [p.elo for p in pts]))


def serving_cost(cfg, t: int, quality: float) -> float:
    """$/M tokens to serve a model of ``quality`` at month ``t``: falls ``cost_decline_per_year`` x a year at constant
    capability (a16z "LLMflation") and rises ``cost_per_100_elo`` x per 100 Elo above the starting frontier."""
    m = cfg.market
    return (m.serving_cost_ref * m.cost_decline_per_year ** (-t / 12.0)
            * m.cost_per_100_elo ** ((quality - m.frontier_start_elo) / 100.0))


def community_gain(cfg, devs_share: float) -> float:
    """ln(1 + devs / n0): fine-tunes, tooling and efficiency work grow with the open model's developer base."""
    return math.log1p(devs_share / cfg.community.n0_share)


def open_community_gain(cfg, family_share: float, open_share: float) -> float:
    """Community gains of one open family: a share phi follows the family's own developers, the rest (tooling, serving
    kernels) lifts every open model with the whole open community (model-agnostic gains)."""
    phi = cfg.community.llama_share
    return phi * community_gain(cfg, family_share) + (1.0 - phi) * community_gain(cfg, open_share)


def talent(cfg, mindshare: float, factor: float = 1.0) -> float:
    """Talent as quality: a base for doing frontier work at all, plus delta_T x Meta's developer mindshare, of which a
    closed programme earns ``factor`` (open work earns all of it)."""
    tal = cfg.meta.talent
    return tal.base_elo + tal.per_mindshare * mindshare * factor


def jevons(cfg, price):
    """Tokens a firm uses per token of base demand at this price: (price / reference)^-epsilon (Jevons); elementwise
    for an array of prices."""
    x = np.maximum(np.asarray(price, dtype=np.float64) / cfg.choice.budget_per_mtok, 1e-12)
    eps = cfg.population.price_elasticity
    return np.ones_like(x) if eps == 0.0 else x ** (-eps)


_BOX_COX_FLOOR = float(np.float32(1e-12))


def box_cox_scalar(x: float, lam: float) -> float:
    """:func:`sim.choice.box_cox` of one float64 (its floor and lambda are float32 numbers), without array overhead."""
    x = max(x, _BOX_COX_FLOOR)
    if lam == 0.0:
        return math.log(x)
    lam = float(np.float32(lam))
    return (x**lam - 1.0) / lam


def nash_price(cfg, cost: float, share: float, cap: float) -> float:
    """The logit-Nash price of a single-product firm with share s (Anderson, de Palma & Thisse 1992), under the
    Box-Cox cost term and Jevons demand: maximising (p - c) p^-eps s(p) gives p / (p - c) = eps + A x(p)^lambda with
    A = (alpha / mu)(1 - s)(1 - eps) and x = (p / p_ref)^(1 - eps). With lambda = 0 the Lerner index is the constant
    1 / (eps + A); with lambda = 1 and eps = 0 it is the textbook p = c + mu p_ref / (alpha (1 - s)). Solved by
    bisection on log p in (c, cap]; ``cap`` when the firm would price above it."""
    ch, eps = cfg.choice, cfg.population.price_elasticity
    a_term = ch.alpha_price / ch.noise_scale * max(1.0 - share, 1e-6) * (1.0 - eps)
    lam, ref = ch.cost_lambda, ch.budget_per_mtok
    cost = max(cost, 1e-12)
    if cap <= cost:
        return cap

    def excess(p: float) -> float:  # (p - c)(eps + A x^lambda) - p: negative below the optimum
        return (p - cost) * (eps + a_term * (p / ref) ** ((1.0 - eps) * lam)) - p

    if excess(cap) <= 0:
        return cap
    lo, hi = math.log(cost), math.log(cap)
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if excess(math.exp(mid)) < 0 else (lo, mid)
    return math.exp(hi)


def dated_prices(pricing, start: str) -> list[tuple[int, float]]:
    """A price schedule's (month, list price) points in date order."""
    return sorted(((month_index(start, p.date), p.price) for p in pricing.schedule), key=lambda x: x[0])


def scheduled_price(pricing, start: str, t: int, dated: list[tuple[int, float]] | None = None) -> float:
    """The latest dated list price, drifting by ``trend_per_year`` from that point (until the next point, and after the
    last one), times the multiplier. ``dated``: the schedule's :func:`dated_prices`, if the caller keeps them."""
    dated = dated_prices(pricing, start) if dated is None else dated
    last, price = dated[0]
    for month, listed in dated:
        if month <= t:
            last, price = month, listed
    return price * pricing.trend_per_year ** (max(t - last, 0) / 12.0) * pricing.multiplier


def ad_revenue(cfg, t: int) -> float:
    """AR(t): Meta's advertising revenue per month."""
    led = cfg.meta.ledger
    return led.ad_revenue_per_year / 12.0 * (1.0 + led.ad_growth_per_year) ** (t / 12.0)


REGULATION_COVERS = {"open": (True, False), "closed": (False, True), "all": (True, True)}  # open weights, closed APIs


def regulation_covers(cfg) -> tuple[bool, bool]:
    """Whether the regulation (``regulation.applies_to``) covers open weights, and whether it covers closed APIs."""
    return REGULATION_COVERS[cfg.regulation.applies_to]


def open_extra_cost(cfg) -> float:
    """Compliance charge per M tokens on open weights (0 when the rules cover only closed APIs)."""
    return cfg.regulation.extra_cost if regulation_covers(cfg)[0] else 0.0


def fee_paying_share(cfg) -> float:
    """Share of Llama hosting revenue earned by hosts the licence makes pay: hosts whose own products have more
    monthly active users than ``license.mau_threshold`` (the host classes), or ``large_host_share``; 0 without the
    clause (no clause, no fee)."""
    host = cfg.providers.cloud_host
    if not cfg.license.enabled:
        return 0.0
    if not host.hosts:
        return host.large_host_share
    return sum(h.share for h in host.hosts if h.mau > cfg.license.mau_threshold)


def llama_fee_markup(cfg) -> float:
    """Factor on hosted Llama's price: fee-paying hosts pass ``pass_through`` of the fee on (1 + rho theta_h s)."""
    host = cfg.providers.cloud_host
    return 1.0 + host.pass_through * host.meta_revenue_share * fee_paying_share(cfg)


def reference_cost_term(cfg, t: int, quality: float) -> float:
    """g(c / c_ref) of an option priced at the serving cost of a model of ``quality`` at month ``t``, per base token
    after Jevons demand (:func:`jevons` in scalar form): the cost term the outside option's expectations follow."""
    cost, ref, eps = serving_cost(cfg, t, quality), cfg.choice.budget_per_mtok, cfg.population.price_elasticity
    paid = cost * max(cost / ref, 1e-12) ** -eps if eps else cost
    return box_cox_scalar(paid / ref, cfg.choice.cost_lambda)
