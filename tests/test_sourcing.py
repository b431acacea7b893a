"""What Meta's products run on (:mod:`sim.market.sourcing`): one rule under every strategy, sellers that compete and
may refuse, cut-offs drawn whatever Meta does."""

from __future__ import annotations

import inspect
from types import SimpleNamespace

import numpy as np
import pytest

from sim.market import sourcing
from sim.market.sourcing import Source, appraise, best, price
from tests.helpers import run_model, small

USERS, TAU = 1.0e8, 0.1
LAB_PRODUCT = 1  # index of a lab's assistant in the toy share vector


def toy_cfg(lab_revenue: float = 0.0, lag: int = 0):
    """The few parameters appraise() reads."""
    return SimpleNamespace(consumer=SimpleNamespace(
        tokens_per_user_month=TAU, sourcing=SimpleNamespace(lag_months=lag),
        a=SimpleNamespace(revenue_per_user_month=lab_revenue), b=SimpleNamespace(revenue_per_user_month=lab_revenue)))


def shares_with(quality: float, unit_cost: float = np.nan) -> np.ndarray:
    """Meta AI's share rises with the quality it runs on; the lab's assistant loses what Meta AI gains."""
    meta = 0.2 + 0.001 * quality
    return np.array([meta, 0.5 - meta / 2])


def worth(s: np.ndarray) -> float:
    return 1.0e9 * s[0]


def shares_and_worth(qualities, costs):
    """What appraise() asks of the consumer layer: the toy shares on each source (a row each) and their worth."""
    shares = np.array([shares_with(q, c) for q, c in zip(qualities, costs, strict=True)])
    return shares, np.array([worth(s) for s in shares])


def lab(key: str):
    return SimpleNamespace(key=key)


def test_two_identical_labs_price_at_their_floor():
    a, b = lab("a"), lab("b")
    sources = [Source("api:a", 100.0, 2.0, a, False, 0.0), Source("api:b", 100.0, 2.0, b, False, 0.0)]
    deals = appraise(toy_cfg(), sources, shares_and_worth, USERS, {})
    chosen = best(deals)
    assert price(chosen, deals, theta_b=0.8) == pytest.approx(chosen.floor)


def test_a_single_seller_recovers_the_bilateral_bargain():
    """One lab against self-hosting: P = F + theta_b (W_buy - W_self)."""
    seller = lab("a")
    sources = [Source("api:a", 200.0, 2.0, seller, False, 0.0), Source("self", 50.0, 1.0, None, True, 0.0)]
    deals = appraise(toy_cfg(), sources, shares_and_worth, USERS, {})
    buy, own = deals
    assert best(deals) is buy
    assert price(buy, deals, 0.5) == pytest.approx(buy.floor + 0.5 * (buy.surplus - own.surplus))
    alone = appraise(toy_cfg(), sources[:1], shares_and_worth, USERS, {})  # nothing else: disagreement is 0
    assert price(alone[0], alone, 0.5) == pytest.approx(alone[0].floor + 0.5 * alone[0].surplus)


def test_a_seller_whose_floor_exceeds_metas_value_makes_no_deal():
    dear = [Source("api:a", 100.0, 1.0e4, lab("a"), False, 0.0)]
    deals = appraise(toy_cfg(), dear, shares_and_worth, USERS, {})
    assert deals[0].surplus < 0 and best(deals) is None
    with_self = dear + [Source("self", 20.0, 1.0, None, True, 0.0)]
    assert best(appraise(toy_cfg(), with_self, shares_and_worth, USERS, {})).source.key == "self"


def test_a_sellers_consumer_revenue_raises_its_floor():
    """Arming Meta AI costs the seller's own assistant users: its floor rises with their revenue."""
    sources = [Source("api:a", 200.0, 2.0, lab("a"), False, 0.0), Source("self", 50.0, 1.0, None, True, 0.0)]
    floors = [appraise(toy_cfg(r), sources, shares_and_worth, USERS, {"a": LAB_PRODUCT})[0].floor
              for r in (0.0, 1.0, 2.0)]
    assert floors[0] < floors[1] < floors[2]


def test_a_cut_off_risk_lowers_what_a_bought_source_is_worth():
    sources = [Source("api:a", 200.0, 2.0, lab("a"), False, 0.1), Source("self", 50.0, 1.0, None, True, 0.0)]
    safe = [s._replace(hazard=0.0) for s in sources]
    risky_value = appraise(toy_cfg(lag=3), sources, shares_and_worth, USERS, {})[0].value
    assert risky_value < appraise(toy_cfg(lag=3), safe, shares_and_worth, USERS, {})[0].value


def sources_over_run(strategy: str, horizon: int = 36, **sets) -> list[str]:
    seen = []
    run_model(small(n=3000, horizon=horizon, **sets), strategy,
              each_month=lambda m: seen.append(m.rows[-1]["meta_ai_source"]))
    return seen


def test_a_weak_meta_release_makes_meta_ai_buy_under_open_and_closed():
    """The rule that makes absent buy also moves open and closed off Meta's own model when it is weak (Meta's
    serving made cheap, so that its own model is worth running when it is not weak)."""
    cheap = {"meta__serving_efficiency": 0.3}
    for strategy in ("open", "closed"):
        weak = sources_over_run(strategy, meta__investment__extra_elo=-200, **cheap)
        usual = sources_over_run(strategy, **cheap)
        assert weak[12:].count("own") < usual[12:].count("own"), strategy
        assert any(s != "own" for s in weak[12:])
    assert "own" not in sources_over_run("absent", **cheap)


def test_the_sourcing_rule_names_no_strategy():
    """One code path under every strategy: the rule reads whether Meta has a model, never which strategy it is."""
    text = inspect.getsource(sourcing)
    for name in ('"open"', '"closed"', '"absent"', "strategy.name", "releases_weights", "serves_api"):
        assert name not in text


def test_cut_off_draws_are_paired_across_strategies():
    """One draw a lab every month whatever Meta runs on, so the stream ends in the same state under every
    strategy; with a high hazard, what Meta buys is cut off and it falls back."""
    s = small(n=2000, horizon=36, consumer__sourcing__cutoff_hazard_per_year=1.0)
    states = {strategy: run_model(s, strategy).consumers.sourcing.rng.bit_generator.state["state"]
              for strategy in ("open", "closed", "absent")}
    assert len({str(v) for v in states.values()}) == 1
    no_open = {"providers__open_rival__enabled": False, "providers__china_open__enabled": False,
               "consumer__sourcing__licence_hazard_ratio": 1.0}
    calm = sources_over_run("absent", 60, **no_open)
    stormy = sources_over_run("absent", 60, consumer__sourcing__cutoff_hazard_per_year=1.0, **no_open)
    changes = [sum(a != b for a, b in zip(x, x[1:], strict=False)) for x in (calm, stormy)]
    assert changes[1] > changes[0]


def test_internal_use_values_the_best_internal_model_over_the_best_open_one():
    """AR chi (Q_int - Q_ref) / 100, one formula under every strategy: Q_ref the best open model Meta may run,
    Q_int the best of its own model and psi of a bought lab model's lead; nothing at chi = 0."""
    from sim.market.sourcing import internal_gain

    cfg = small(consumer__sourcing__customisation=0.0, meta__internal__bought_share=0.5)
    own, ref = Source("own", 1300.0, 1.0, None, True, 0.0), Source("self", 1250.0, 1.0, None, True, 0.0)
    lab_api = Source("api:a", 1400.0, 2.0, lab("a"), False, 0.0)
    assert internal_gain(cfg, [ref, lab_api]) == pytest.approx(0.5 * 150)
    assert internal_gain(cfg, [own, ref, lab_api]) == pytest.approx(75.0)  # psi halves the lab's 150
    assert internal_gain(cfg, [own, ref]) == pytest.approx(50.0)
    assert internal_gain(cfg, [Source("own", 1200.0, 1.0, None, True, 0.0), ref]) == 0.0  # never below the open one
    for strategy in ("open", "closed", "absent"):
        on = run_model(small(horizon=24, meta__internal__value_per_100_elo=0.005), strategy)
        off = run_model(small(horizon=24, meta__internal__value_per_100_elo=0.0), strategy)
        assert sum(r["meta.internal_use"] for r in on.rows) > 0
        assert all(r["meta.internal_use"] == 0 for r in off.rows)


def test_a_meta_api_beside_open_weights_sells_at_the_hosts_price():
    """The Llama API lever: under open Meta also sells its model as an API priced against the hosts of the same
    weights (in Llama's nest); it earns API revenue and carries a served API's misuse hazard; off, no API."""
    lever = run_model(small(horizon=24, meta__api_with_open_weights=True), "open")
    plain = run_model(small(horizon=24), "open")
    last = lever.rows[-1]
    assert last["price.meta_api"] == pytest.approx(last["price.llama_hosted"])
    assert sum(r["meta.api_revenue"] for r in lever.rows) > 0
    assert all(r["meta.api_revenue"] == 0 for r in plain.rows)
    assert sum(r["meta.misuse"] for r in lever.rows) < sum(r["meta.misuse"] for r in plain.rows)
    cat = lever.catalog
    assert cat.FAMILY_OF[cat.META_API] == cat.FAMILY_OF[cat.LLAMA_HOSTED]
    dear = run_model(small(horizon=24, meta__api_with_open_weights=True, meta__api_open_premium=1.0), "open")
    assert dear.rows[-1]["price.meta_api"] == pytest.approx(2.0 * dear.rows[-1]["price.llama_hosted"])


def test_customisation_reaches_every_product_whose_owner_holds_the_weights():
    """kappa_c for each lab's assistant (the lab holds its model) and apps on open weights, psi_c kappa_c for apps
    on an API; none at kappa_c = 0."""
    model = run_model(small(horizon=12, consumer__sourcing__customisation=0.0), "open")
    cm, cat = model.consumers, model.catalog
    users = np.zeros((cat.K + 1, 5))
    users[1 + int(np.flatnonzero(cat.IS_OPEN)[0]), :] = 10.0  # platform firms on one open option ...
    users[1 + int(np.flatnonzero(~cat.IS_OPEN)[0]), :] = 10.0  # ... and as many on one API
    sourcing_terms = model.cfg.consumer.sourcing.model_copy(update={"customisation": 40.0,
                                                                    "api_customisation_share": 0.5})
    platform = cm.platform_choices(users)
    plain, _ = cm.qualities(model.labs, model.offer.quality, platform, np.ones(len(cat.PRODUCTS)))
    tuned, _ = cm.qualities(model.labs, model.offer.quality, platform, np.ones(len(cat.PRODUCTS)), sourcing_terms)
    for lab in model.labs:
        if lab.key in cat.PRODUCT and lab.enabled:
            assert tuned[cat.PRODUCT[lab.key]] == pytest.approx(plain[cat.PRODUCT[lab.key]] + 40.0)
    assert tuned[cm.apps] == pytest.approx(plain[cm.apps] + 0.5 * (40.0 + 20.0))  # half on open, half on an API


def test_with_the_new_terms_off_absent_is_the_old_make_or_buy():
    """With kappa_c = chi = 0, psi = 1, no cut-offs and sellers whose assistants earn nothing (their floor is their
    cost), the absent run is the old make or buy: each month Meta AI runs on the best closed model, bought from its
    lab, or on the best open model it may self-host; never on a weaker lab's model. (The price differs from the old
    fixed markup by design: it is the competing sellers' bargain, tested above.)"""
    labs = ("openai", "anthropic", "google")
    scenario = small(n=2000, horizon=36, consumer__sourcing__customisation=0,
                     consumer__sourcing__cutoff_hazard_per_year=0, meta__internal__value_per_100_elo=0,
                     meta__internal__bought_share=1, consumer__sourcing__review_months=1,
                     **{f"consumer__{k}__revenue_per_user_month": 0 for k in labs})
    from sim.runner import run_once

    ts = run_once(scenario, "absent", 0, 5)
    quality = ts[[f"quality.{k}" for k in labs]]
    paid = ts[[f"meta_contract.{k}" for k in labs]].to_numpy()
    buying = paid.sum(axis=1) > 0
    assert buying.any() and (~buying).any()  # both sources occur in this run
    best_lab = quality.to_numpy().argmax(axis=1)
    assert (paid[buying].argmax(axis=1) == best_lab[buying]).all()  # from the best lab only
    np.testing.assert_allclose(ts["meta_ai_quality"][buying], quality.max(axis=1)[buying])
    on_open = ~buying & (ts["month"] >= 12)  # Meta AI launches 2023-09; the first reviews may still buy
    q = ts.loc[on_open, "meta_ai_quality"].to_numpy()
    opens = ts.loc[on_open, ["quality.open_self", "quality.china_open_self"]].to_numpy()
    assert np.isclose(q[:, None], opens).any(axis=1).all()  # the open model it self-hosts


def test_the_compiled_consumer_shares_are_the_scalar_ones_bit_for_bit():
    """Meta's sources are weighed in one compiled pass: the same shares and share of use, bit for bit, as the
    scalar utility, softmax and use shares (products used unequally, a cost term, sources without a cost or a
    quality, and Meta AI not yet launched)."""
    from sim.catalog import catalog_of
    from sim.consumer import META_AI, ConsumerTerms

    scenario = small()
    terms = ConsumerTerms(scenario, catalog_of(scenario))
    assert not terms.uniform_use and scenario.consumer.cost_weight > 0
    rng = np.random.default_rng(3)
    base = [terms.utility(k, q, r, True, c) for k, (q, r, c) in
            enumerate(zip(rng.uniform(1000, 1300, 6), terms.reach, rng.uniform(0.1, 5, 6), strict=False))]
    quality = np.append(rng.uniform(900, 1400, 6), [np.nan, 1200.0])
    cost = np.append(rng.uniform(0.05, 20, 6), [3.0, np.nan])
    for live in (True, False):
        shares, use = terms.shares_on(base, META_AI, quality, cost, 2.0e9, live)
        for row, q, c, mine in zip(shares, quality, cost, use, strict=True):
            u = list(base)
            u[META_AI] = terms.utility(META_AI, q, 2.0e9, live, c)
            expected = terms.softmax(u)
            assert row.tobytes() == expected.tobytes()
            assert mine == terms.use_shares(expected)[META_AI]
