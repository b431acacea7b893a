"""Meta's value channels: one formula under every strategy, each moving Meta's payoff the way its argument says.

Each test fails if its channel is removed: they compare paired runs (same seeds) that differ in one parameter.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sim import consumer
from sim.channels import CHANNEL_NAMES, CHANNELS, REPORTED, STRATEGIC, MetaMonth, book
from sim.config import Switch
from sim.runner import discount_factors, simulate, summarize
from tests.helpers import small

SEEDS = (1, 2)
N = 3000


def npv(df: pd.DataFrame, column: str, rate: float = 0.10) -> float:
    return float((df[column].to_numpy() * discount_factors(df["month"].to_numpy(), rate)).sum())


def paired(strategies=("open", "closed", "absent"), seeds=SEEDS, horizon=48, **sets) -> dict[str, list[pd.DataFrame]]:
    s = small(n=N, horizon=horizon, **sets)
    return {k: [simulate(s, k, seed) for seed in seeds] for k in strategies}


def mean_npv(runs, column="profit.meta") -> float:
    return float(np.mean([npv(df, column) for df in runs]))


def test_every_channel_is_one_formula_of_the_month_inputs():
    zero = MetaMonth(**{f: 0.0 for f in MetaMonth._fields} | {"price_ratio": 1.0})
    assert set(book(zero)) == set(CHANNEL_NAMES) and all(v == 0 for v in book(zero).values())
    assert set(REPORTED) < set(CHANNEL_NAMES) and len({c.label for c in CHANNELS}) == len(CHANNELS)


def test_meta_lines_sum_to_profit_and_npv_is_the_discounted_sum_under_every_strategy():
    runs = paired(seeds=(1,), horizon=24)
    for strategy, (df,) in runs.items():
        lines = df[[f"meta.{c}" for c in STRATEGIC]].sum(axis=1)  # the reported-only depreciation left out
        assert np.allclose(lines, df["profit.meta"], rtol=1e-12, atol=1e-3)
        reported = df[[f"meta.{c}" for c in REPORTED]].sum(axis=1)
        assert np.allclose(reported, df["meta_reported"], rtol=1e-12, atol=1e-3)
        ids = pd.DataFrame({"scenario": "x", "strategy": strategy, "replicate": 0, "seed": 1}, index=df.index)
        out = summarize(pd.concat([ids, df], axis=1), 0.10)
        assert out["npv.meta"] == pytest.approx(npv(df, "profit.meta"))
        assert out["npv.meta_reported"] == pytest.approx(npv(df, "meta_reported"))
        assert out["npv.meta"] == pytest.approx(sum(out[f"npv.meta.{c}"] for c in STRATEGIC))


def test_ai_as_the_product_makes_meta_ai_follow_quality_not_reach():
    """v high: consumers follow model quality, so better models in rival apps (an open Llama arming them, or closed
    APIs) take Meta AI's users, and Meta's reach no longer protects it; v low: reach decides. Which strategy gains
    from a high v is left to the run: open Llama arms the apps only where it beats what they would use instead (in
    the small paired runs, v = 0.9 against 0.1 moved open - closed by -55 $M on 8 seeds, but attention by +47: the
    closed APIs that apps use when Meta is closed arm them more)."""
    q = np.array([1300.0, 1300.0, 1300.0, 1300.0, 1300.0, 1300.0])
    reach = np.array([3.3e9, 3e8, 3e7, 3e9, 1e9, 5e8])
    on = np.ones(6, dtype=bool)
    loss = {}
    for v in (0.1, 0.9):
        s = small(n=100, market__ai_is_the_product=v)
        better_apps = q.copy()
        better_apps[consumer.APPS] += 150.0
        base, armed = consumer.shares(s, q, reach, on), consumer.shares(s, better_apps, reach, on)
        loss[v] = base[consumer.META_AI] - armed[consumer.META_AI]
    assert loss[0.9] > 5 * loss[0.1] > 0
    s = small(n=100, market__ai_is_the_product=0.1)
    bigger = reach.copy()
    bigger[consumer.META_AI] *= 2
    assert consumer.shares(s, q, bigger, on)[consumer.META_AI] > consumer.shares(s, q, reach, on)[consumer.META_AI]


def test_no_licence_clause_costs_meta_consumer_share_through_rival_platforms():
    """The clause keeps the giants off Llama; without it they build on it and their AI features take Meta AI users
    (with a Llama worth building on: the only open model, and the best through the quality investment lever;
    with better models elsewhere the clause protects nothing: it pushes the giants onto those)."""
    sets = dict(market__ai_is_the_product=0.9, consumer__meta_ad_yield=1.5, meta__investment__extra_elo=300,
                providers__open_rival__enabled=False, providers__china_open__enabled=False,
                consumer__sourcing__licensed_weights=False, meta__serving_efficiency=0.1)  # Meta AI on Llama
    clause = paired(("open",), **sets)["open"]
    none = paired(("open",), license__enabled=False, **sets)["open"]
    platforms = lambda runs: np.mean([df["consumer_share.platforms"].iloc[-24:].mean() for df in runs])  # noqa: E731
    assert platforms(none) > platforms(clause)
    assert mean_npv(none, "meta.attention") < mean_npv(clause, "meta.attention")


def test_a_better_branded_meta_api_raises_closed_npv():
    low = paired(("closed",), choice__brand__meta_api=-2.0)["closed"]
    high = paired(("closed",), choice__brand__meta_api=1.0)["closed"]
    assert mean_npv(high, "meta.api_revenue") > mean_npv(low, "meta.api_revenue")
    assert mean_npv(high) > mean_npv(low)


def test_absent_meta_pays_to_run_its_products():
    """Without a programme Meta pays for what its products run on and keeps only f_abs of its AI R&D; a lab that
    sells it an API books what Meta pays (no switching costs here)."""
    (df,) = paired(("absent",), seeds=(1,), consumer__sourcing__switch_cost=0.0)["absent"]
    assert (df["meta.own_products"].iloc[9:] < 0).all()  # Meta AI launches in 2023-09
    assert df[[f"meta.{c}" for c in ("training_cost", "capex_cost", "api_revenue")]].abs().sum().sum() == 0
    assert (df["meta.rd_cost"] < 0).all()  # f_abs of AI R&D is kept
    api = df["meta_ai_source"].str.startswith("api:")
    bought = df[[f"meta_contract.{lab}" for lab in ("openai", "anthropic", "google")]].sum(axis=1)
    assert api.any()
    assert np.allclose(bought[api], -df["meta.own_products"][api])  # the seller books what Meta pays


def test_a_higher_host_margin_raises_the_host_fee_per_token():
    """Hosts charge cost x (1 + margin) and pay Meta a share of that revenue, so the fee per hosted Llama token rises
    with the margin (the total may not: dearer Llama loses tokens)."""
    def fee_per_token(margin):
        runs = paired(("open",), providers__cloud_host__margin=margin)["open"]
        return np.mean([df["meta.host_fee"].sum() / df["tokens.llama_hosted"].sum() for df in runs])
    assert fee_per_token(1.0) > 1.2 * fee_per_token(0.5) > 0


def test_misuse_hazard_lowers_open_only():
    base = paired(horizon=24, meta__misuse__hazard_open_per_year=0.0)
    risky = paired(horizon=24, meta__misuse__hazard_open_per_year=0.2)
    assert mean_npv(risky["open"]) < mean_npv(base["open"])
    for strategy in ("closed", "absent"):
        assert mean_npv(risky[strategy]) == pytest.approx(mean_npv(base[strategy]))


def test_switch_to_closed_is_identical_to_open_before_its_date_and_sells_an_api_after():
    s = small(n=N, horizon=36)
    s.meta.switch = Switch(date="2024-10", to="closed")
    switched = simulate(s, "open", 1)
    plain = simulate(small(n=N, horizon=36), "open", 1)
    before = 21  # months 0..20 precede 2024-10
    pd.testing.assert_frame_equal(switched.iloc[:before], plain.iloc[:before])
    assert (switched["strategy_now"].iloc[before:] == "closed").all()
    assert switched["meta.api_revenue"].iloc[before + 1:].sum() > 0
    assert switched["quality.llama_hosted"].iloc[before:].notna().all()  # released weights stay usable
    assert switched["quality.llama_hosted"].iloc[-1] == switched["quality.llama_hosted"].iloc[before]
    closed = simulate(s, "closed", 1)  # the switch applies only to the scenario's own strategy's run
    assert (closed["strategy_now"] == "closed").all()


def test_spillover_lifts_the_other_open_models_only_when_llama_is_out():
    """Off the release history (no listed scores to net) and with Llama the only other open weights, released Llama
    weights that lead (the investment lever) lift the other family's releases; without Llama nothing does."""
    def rival_quality(strategy, spill):
        s = small(n=N, horizon=48, providers__open_rival__spillover=spill, meta__investment__extra_elo=200,
                  providers__china_open__enabled=False)  # Llama the only other open weights
        s.providers.open_rival.releases = []
        return np.mean([simulate(s, strategy, seed)["quality.open_hosted"].iloc[-1] for seed in SEEDS])
    assert rival_quality("open", 0.5) > rival_quality("open", 0.0)
    assert rival_quality("absent", 0.5) == pytest.approx(rival_quality("absent", 0.0), abs=2.0)  # via shares only


def test_old_boolean_v_reads_as_one_or_zero_and_bad_new_keys_are_one_line_errors(tmp_path, capsys):
    from sim.cli import main
    from sim.loading import load_scenario

    for text, v in (("true", 1.0), ("false", 0.0), ("0.4", 0.4)):
        path = tmp_path / f"v{v}.yaml"
        path.write_text(f"extends: baseline\nname: v\nmarket: {{ai_is_the_product: {text}}}\n")
        assert load_scenario(str(path)).market.ai_is_the_product == v
    for body, field in (("meta: {switch: {date: 2025-04, to: sideways}}", "meta.switch.to"),
                        ("market: {ai_is_the_product: 1.5}", "market.ai_is_the_product"),
                        ("consumer: {meta_ai: {reach_typo: 1}}", "consumer.meta_ai.reach_typo")):
        path = tmp_path / "bad.yaml"
        path.write_text(f"extends: baseline\nname: bad\n{body}\n")
        assert main(["validate", str(path)]) == 2
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1 and field in err and "bad.yaml" in err


def test_meta_ai_quality_is_the_model_meta_ai_runs_on_when_bought_or_self_hosted():
    """Without a model of its own, Meta AI's quality is that of the source it runs on (no customisation here): the
    open model it self-hosts, or the lab whose API or licensed weights it buys."""
    (df,) = paired(("absent",), seeds=(1,), consumer__sourcing__customisation=0.0)["absent"]
    live = df["month"] >= 9  # Meta AI launches in 2023-09
    source = df["meta_ai_source"]
    kinds = set()
    for month in df.index[live]:
        kind, _, maker = source[month].partition(":")
        kinds.add(kind)
        hosted = {"open_rival": "open_hosted", "china_open": "china_open_hosted", "meta": "llama_hosted"}
        option = hosted.get(maker, f"{maker}_open") if kind == "self" else maker  # a lab's own open weights
        assert df.loc[month, "meta_ai_quality"] == pytest.approx(df.loc[month, f"quality.{option}"]), month
    assert kinds & {"api", "weights"} and "self" in kinds


def test_consumer_shares_follow_use_and_the_attention_channel_reads_them():
    """An assistant used little per user (Meta AI embedded in the apps) has a smaller share of AI use than of users;
    the attention Meta wins back follows use, its revenue follows users."""
    (base,) = paired(("open",), seeds=(1,), horizon=24, consumer__meta_ai__use_per_user=1.0)["open"]
    (light,) = paired(("open",), seeds=(1,), horizon=24, consumer__meta_ai__use_per_user=0.25)["open"]
    live = base["month"] >= 12
    assert (light.loc[live, "consumer_share.meta_ai"] < base.loc[live, "consumer_share.meta_ai"] - 0.05).all()
    assert np.allclose(light[[c for c in light if c.startswith("consumer_share.")]].sum(axis=1), 1.0)
    assert npv(light, "meta.attention") < npv(base, "meta.attention")  # less of AI use is Meta's
    for df in (light, base):  # revenue is users x revenue per user, whatever the use
        users = df["consumer_user_share.meta_ai"] * df["consumer_users"]
        assert np.allclose(df["meta.consumer_revenue"], users * small().consumer.meta_ai.revenue_per_user_month)


def test_a_consumer_product_on_a_cheaper_model_wins_share_only_with_a_cost_weight():
    """alpha_c: each product's utility loses alpha_c ln(unit cost / reference), so the same product on a cheaper
    model (a free Llama rather than a paid API) takes more of consumer AI; with alpha_c = 0 cost does not matter."""
    from sim.consumer import ConsumerTerms

    s = small(consumer__cost_weight=0.5)
    terms = ConsumerTerms(s)
    k = len(terms.products)
    quality, reach, on = np.full(k, 1200.0), np.full(k, 1.0e8), np.ones(k, dtype=bool)
    apps = terms.products.index("apps")
    dear, cheap = np.full(k, 5.0), np.full(k, 5.0)
    cheap[apps] = 0.5
    assert terms.shares(quality, reach, on, cheap)[apps] > terms.shares(quality, reach, on, dear)[apps]
    flat = ConsumerTerms(small(consumer__cost_weight=0.0))
    assert flat.shares(quality, reach, on, cheap)[apps] == flat.shares(quality, reach, on, dear)[apps]
    odds = [terms.shares(quality, reach, on, c)[apps] / terms.shares(quality, reach, on, c)[0] for c in (cheap, dear)]
    assert odds[0] / odds[1] == pytest.approx(10 ** 0.5)  # a tenth of the cost: the apps gain 0.5 ln 10 in utility
