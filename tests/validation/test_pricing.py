"""Validation 4: best-response pricing converges to the logit-Nash fixed point, falling as the open gap shrinks."""

import pytest
from scipy.special import expit

from sim.market.curves import nash_price
from sim.validation import PRICING_GAPS, analytic_nash_price, check_pricing, cost_utility, pricing_scenario
from tests.validation.helpers import assert_all_pass


def test_best_response_prices_converge_to_the_analytic_fixed_point():
    """4 runs of 3,000 developers per case; tolerance max(3 SE, 0.5% of p*)."""
    rows = check_pricing("small")
    assert_all_pass(rows)
    assert any("lambda=1" in r["check"] for r in rows)  # the Box-Cox term x^lambda is exercised, not only log cost


@pytest.mark.parametrize("lam", [0.0, 1.0])
def test_analytic_price_solves_the_first_order_condition(lam):
    s = pricing_scenario(60.0, 1000, lam)
    ch, eps = s.choice, s.population.price_elasticity
    p, share = analytic_nash_price(s)
    cost = s.market.serving_cost_ref  # lead 0, cost independent of quality in this reduction
    a = ch.alpha_price / ch.noise_scale * (1 - share) * (1 - eps)
    x = (p / ch.budget_per_mtok) ** (1 - eps)
    assert p / (p - cost) == pytest.approx(eps + a * x**lam, rel=1e-9)
    # the closed share at the fixed point is the logit share at that price, with the Jevons-adjusted Box-Cox cost
    p_open = cost * (1 + s.providers.cloud_host.margin)
    dv = ch.beta_quality * 60.0 / 100 - cost_utility(p, ch, eps) + cost_utility(p_open, ch, eps)
    assert share == pytest.approx(float(expit(dv / ch.noise_scale)), rel=1e-9)
    # the engine's best response at that share is the same price (its FOC, solved its own way)
    assert nash_price(s, cost, share, s.providers.openai.price.cap) == pytest.approx(p, rel=1e-6)


def test_analytic_price_falls_as_the_gap_shrinks():
    for lam in (0.0, 1.0):
        prices = [analytic_nash_price(pricing_scenario(g, 1000, lam))[0] for g in PRICING_GAPS]
        assert prices == sorted(prices, reverse=True)
