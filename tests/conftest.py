"""Fixtures shared by the tests (helpers live in tests/helpers.py)."""

import numpy as np
import pytest


@pytest.fixture
def rng():
    return np.random.default_rng(12345)
