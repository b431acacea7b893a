"""Assertion helper for the validation checks: every row must pass, and a failure shows the whole row."""

from __future__ import annotations


def assert_all_pass(rows: list[dict]) -> None:
    assert rows, "a check returned no rows"
    failed = [r for r in rows if not r["passed"]]
    assert not failed, "\n".join(f"{r['check']}: expected {r['expected']}, got {r['got']} (tol {r['tolerance']})"
                                 for r in failed)
