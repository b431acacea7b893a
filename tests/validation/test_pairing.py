"""Validation 7: Meta absent and Meta open with a Llama nobody chooses give identical non-Meta outputs."""

from sim.runner import simulate
from sim.validation import check_pairing, meta_column, reduced, seeds
from tests.validation.helpers import assert_all_pass


def test_unchosen_llama_equals_no_meta_model():
    assert_all_pass(check_pairing("small"))


def test_pairing_comparison_detects_a_real_llama():
    """Negative control: with an ordinary Llama the same comparison finds differences (it is not vacuous)."""
    s = reduced("pairing_control", {"horizon_months": 24, "population": {"n": 2000}})
    seed = seeds(1, 50)[0]
    a, o = simulate(s, "absent", seed), simulate(s, "open", seed)
    assert int(o["users.llama_hosted"].sum()) > 0
    differing = [c for c in a.columns if not meta_column(c) and not a[c].equals(o[c])]
    assert "users.openai" in differing
