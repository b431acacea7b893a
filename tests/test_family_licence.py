"""An open family's own MAU clause (``providers.<family>.mau_threshold``), as Llama's: firms above the threshold that
the family's owner did not approve may not use its hosted or self-hosted weights (Qwen's licence asked firms above
100M monthly users to apply). A scenario without such a clause draws and chooses exactly as before."""

from __future__ import annotations

import numpy as np

from sim.catalog import catalog_of
from sim.market.licence import LLAMA_BIT, option_bits
from tests.helpers import run_model, small

FAMILY = "china_open"


def routes_of(model):
    return model.catalog.family_routes(FAMILY)


def firms_on_family_above(model, threshold: float) -> int:
    """Adopters above ``threshold`` users whose current option is one of the family's routes."""
    d = model.devs
    on = np.isin(d.choice, routes_of(model))
    return int((on & (d.mau > threshold)).sum())


def test_a_family_clause_keeps_unapproved_large_firms_off_its_weights():
    """With a threshold and no approvals, no firm above it is ever on the family's routes, while without the clause
    such firms do pick it; firms below the threshold still may."""
    threshold = 1.0e6
    kept_off = []
    clause = small(n=20_000, horizon=36, **{f"providers__{FAMILY}__mau_threshold": threshold,
                                            f"providers__{FAMILY}__approval_probability": 0.0})
    run_model(clause, each_month=lambda m: kept_off.append(firms_on_family_above(m, threshold)))
    assert max(kept_off) == 0
    free = []
    run_model(small(n=20_000, horizon=36), each_month=lambda m: free.append(firms_on_family_above(m, threshold)))
    assert max(free) > 0
    below = []
    run_model(clause, each_month=lambda m: below.append(int(np.isin(m.devs.choice, routes_of(m)).sum())))
    assert max(below) > 0


def test_the_clause_covers_the_family_routes_only():
    """Llama's options carry Llama's bit, the licensed family's both routes its own bit, every other option none."""
    s = small(**{f"providers__{FAMILY}__mau_threshold": 1.0e8})
    cat = catalog_of(s)
    bits = option_bits(cat, s.providers)
    assert (bits[cat.IS_LLAMA] == LLAMA_BIT).all()
    family = cat.family_routes(FAMILY)
    assert (bits[family] > LLAMA_BIT).all() and len(set(bits[family].tolist())) == 1
    others = np.ones(cat.K, dtype=bool)
    others[family], others[cat.IS_LLAMA] = False, False
    assert (bits[others] == 0).all()
    assert (option_bits(cat, small().providers)[family] == 0).all()  # the baseline's families: no clause


def test_an_approved_firm_keeps_the_family():
    """Approval probability 1: the clause binds nobody."""
    s = small(n=5_000, horizon=24, **{f"providers__{FAMILY}__mau_threshold": 0.0,
                                      f"providers__{FAMILY}__approval_probability": 1.0})
    model = run_model(s)
    assert not (model.licence.blocked & ~np.uint16(LLAMA_BIT)).any()


def test_one_access_policy_covers_a_meta_api_too():
    """license.applies_to_api: the clause that keeps unapproved firms above the threshold off Llama's weights keeps
    them off a closed Meta API as well; without it the API is open to all."""
    def large_on_api(**sets):
        seen = []
        s = small(n=20_000, horizon=36, license__approval_probability=0.0, license__mau_threshold=1.0e6, **sets)

        def count(m):
            d = m.devs
            seen.append(int(((d.choice == m.catalog.META_API) & (d.mau > 1.0e6)).sum()))
        run_model(s, "closed", each_month=count)
        return max(seen)
    assert large_on_api(license__applies_to_api=True) == 0
    assert large_on_api() > 0


def test_a_blocked_firm_is_looked_at_only_when_a_block_is_new():
    """Blocked firms are forced off a covered model in the month their block starts (or the options' clauses
    change); a blocked firm never picks what blocks it, so other months skip the check."""
    model = run_model(small(n=3000, horizon=14), "open")
    dm, lic, d = model.developers, model.licence, model.devs
    assert lic.blocked_rows.size
    row = int(lic.blocked_rows[0])
    d.choice[row] = model.catalog.LLAMA_HOSTED  # by hand: what a new block would find
    nobody = (np.empty(0, np.intp), np.empty(0, np.int8), np.empty(0, bool))
    assert dm.forced_choosers(nobody, model.cfg, model.offer, lic).size == 0  # no new block since the last look
    lic.version += 1
    assert row in dm.forced_choosers(nobody, model.cfg, model.offer, lic)
