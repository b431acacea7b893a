"""Validation 7: Meta absent and Meta open with a Llama nobody chooses give the same developer market."""

from sim.runner import simulate
from sim.validation import check_pairing, reduced, seeds, strategy_dependent
from tests.validation.helpers import assert_all_pass


def test_unchosen_llama_equals_no_meta_model():
    assert_all_pass(check_pairing("small"))


def test_only_meta_and_the_consumer_layer_may_differ():
    for col in ("meta.attention", "meta_contract.openai", "consumer_share.openai", "consumer_revenue.google",
                "revenue.openai", "profit.anthropic", "users.llama_hosted", "price.meta_api", "revenue.meta"):
        assert strategy_dependent(col), col
    for col in ("users.openai", "users.none", "price.openai", "tokens.open_hosted", "api_revenue.openai",
                "data_captured.google", "flywheel_gain.openai", "revenue.cloud_host", "profit.cloud_host",
                "avg_price_paid", "commoditization", "dev_surplus", "consumer_users", "adopted_frac"):
        assert not strategy_dependent(col), col


def test_pairing_comparison_detects_a_real_llama():
    """Negative control: with an ordinary Llama the same comparison finds differences (it is not vacuous)."""
    s = reduced("pairing_control", {"horizon_months": 24, "population": {"n": 2000}})
    seed = seeds(1, 50)[0]
    a, o = simulate(s, "absent", seed), simulate(s, "open", seed)
    assert o["users.llama_hosted"].sum() > 0
    differing = [c for c in a.columns if not strategy_dependent(c) and not a[c].equals(o[c])]
    assert "users.openai" in differing and "api_revenue.openai" in differing
