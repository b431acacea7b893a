"""Validation 4: best-response pricing converges to the logit-Nash fixed point, falling as the open gap shrinks."""

import pytest
from scipy.special import expit

from sim.validation import PRICING_GAPS, check_pricing, nash_price, pricing_scenario
from tests.validation.helpers import assert_all_pass


def test_best_response_prices_converge_to_the_analytic_fixed_point():
    """4 runs of 3,000 developers per gap; tolerance max(3 SE, 0.5% of p*)."""
    assert_all_pass(check_pricing("small"))


def test_nash_price_solves_the_first_order_condition():
    s = pricing_scenario(60.0, 1000)
    p, share = nash_price(s)
    a = s.choice.alpha_price / s.choice.budget_per_mtok
    cost = s.market.serving_cost_ref  # lead 0: the closed model serves at the reference cost
    assert p == pytest.approx(cost + s.choice.noise_scale / (a * (1 - share)), rel=1e-9)
    prices = [nash_price(pricing_scenario(g, 1000))[0] for g in PRICING_GAPS]
    assert prices == sorted(prices, reverse=True)
    # the closed share at the fixed point is the logit share at that price
    q_gap = s.providers.openai.lead + s.market.open_gap[0].elo
    p_open = s.market.serving_cost_ref * s.market.cost_per_100_elo ** (-60.0 / 100) * 1.3
    dv = s.choice.beta_quality * q_gap / 100 - a * (p - p_open)
    assert share == pytest.approx(float(expit(dv)), rel=1e-9)
