"""Validation 2: with no switching cost, no network effect and everyone re-choosing, shares are softmax(V/mu)."""

import numpy as np

from sim.validation import check_logit, softmax
from tests.validation.helpers import assert_all_pass


def test_shares_match_the_analytic_logit():
    """One run of 20,000 developers, months 12-23 pooled; every option within 3 multinomial SEs."""
    rows = check_logit("small")
    assert_all_pass(rows)
    assert sum("(a)" in r["check"] for r in rows) == 3  # the three closed APIs, V computed from attributes
    assert sum("(b)" in r["check"] for r in rows) >= 5  # the full market incl. Llama and other open options


def test_softmax_scale():
    v = np.array([1.0, 0.0])
    assert np.allclose(softmax(v, 1.0), [1 / (1 + np.exp(-1)), 1 / (1 + np.exp(1))])
    assert softmax(v, 0.5)[0] > softmax(v, 1.0)[0]  # less noise, sharper choice
