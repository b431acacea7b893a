"""Validation 5: the 700M-MAU clause keeps unapproved firms above the threshold off Llama; without it some use it."""

from sim.validation import check_license
from tests.validation.helpers import assert_all_pass


def test_license_clause_blocks_unapproved_firms_above_threshold():
    """3 runs of 4,000 firms, every month inspected; counts are exact."""
    rows = check_license("small")
    assert_all_pass(rows)
    off = next(r for r in rows if r["check"].startswith("license off"))
    assert off["got"] > 0
