"""Validation 3: two equal options with a strong network effect lock in (Arthur 1989; Brock-Durlauf 2001)."""

import numpy as np
import pytest

from sim.validation import brock_durlauf_high_share, brock_durlauf_threshold, check_lockin
from tests.validation.helpers import assert_all_pass


def test_strong_network_effect_locks_in_symmetrically_and_weak_one_does_not():
    """40 runs of 2,000 developers per gamma; see sim.validation.check_lockin for the tolerances."""
    assert_all_pass(check_lockin("small"))


def test_mean_field_threshold_and_fixed_point():
    mu, s0 = 1.0, 0.05
    g = brock_durlauf_threshold(mu, s0)
    assert g == pytest.approx(1.1)
    s_star = brock_durlauf_high_share(3.0, mu, s0)
    x = 3.0 * (np.log1p(s_star / s0) - np.log1p((1 - s_star) / s0))
    assert s_star == pytest.approx(1 / (1 + np.exp(-x)), abs=1e-9)
    assert s_star > 0.99
    # the asymmetric fixed point appears at the threshold and moves out as gamma grows; below it there is none
    assert 0.5 < brock_durlauf_high_share(1.05 * g, mu, s0) < brock_durlauf_high_share(1.5 * g, mu, s0) < s_star
    s = np.linspace(0.51, 0.999, 200)
    below = 0.9 * g * (np.log1p(s / s0) - np.log1p((1 - s) / s0))
    assert np.all(1 / (1 + np.exp(-below)) < s)
