"""Validation 6: users sum to N, revenue is price x tokens, NPV is the discounted sum of monthly profit."""

from sim.validation import check_accounting
from tests.validation.helpers import assert_all_pass


def test_accounting_identities_hold_for_every_strategy():
    assert_all_pass(check_accounting("small"))
