"""Validation 2: with no switching cost, no network effect and everyone re-choosing, shares are softmax(V/mu)."""

import numpy as np
import pytest

from sim.choice import box_cox
from sim.validation import box_cox_ref, check_logit, cost_utility, reduced, softmax
from tests.validation.helpers import assert_all_pass


def test_shares_match_the_analytic_logit():
    """One run of 20,000 developers per case; every option within 3 multinomial SEs."""
    rows = check_logit("small")
    assert_all_pass(rows)
    assert sum("(a)" in r["check"] for r in rows) == 3  # the three closed APIs, V computed from attributes
    assert sum("(b)" in r["check"] for r in rows) >= 5  # the full market incl. Llama and other open options
    outside = [r for r in rows if "(c)" in r["check"]]
    assert len(outside) == 4 and "leaving" in outside[-1]["check"]  # three APIs + the outside option
    assert outside[-1]["expected"] > 0.01  # leaving is a real choice in (c), not a vanishing share


def test_softmax_scale():
    v = np.array([1.0, 0.0])
    assert np.allclose(softmax(v, 1.0), [1 / (1 + np.exp(-1)), 1 / (1 + np.exp(1))])
    assert softmax(v, 0.5)[0] > softmax(v, 1.0)[0]  # less noise, sharper choice


@pytest.mark.parametrize("lam", [0.0, 0.5, 1.0])
def test_written_out_cost_term_agrees_with_the_engine(lam):
    x = np.array([0.05, 0.5, 1.0, 3.0], dtype=np.float32)
    assert np.allclose(box_cox_ref(x, lam), box_cox(x, lam), rtol=1e-5, atol=1e-6)
    ch = reduced("cost", {"choice": {"cost_lambda": lam}}).choice
    # log cost: halving the price is worth alpha (1 - eps) ln 2 at any price level
    if lam == 0.0:
        gain = cost_utility(10.0, ch, 0.3) - cost_utility(5.0, ch, 0.3)
        assert gain == pytest.approx(ch.alpha_price * 0.7 * np.log(2.0))
        assert cost_utility(1.0, ch, 0.3) - cost_utility(0.5, ch, 0.3) == pytest.approx(gain)
