"""Market realism: price competition that lasts, an outside option, Jevons demand, stratified firms, a live data race.

Each test fails if its mechanism is removed (a linear cost term, no outside option, fixed token use, equal row
weights, a flywheel that saturates at once).
"""

from __future__ import annotations

import numpy as np
import pytest

from sim.catalog import OPTIONS, K
from sim.choice import Coefficients, OptionTable, box_cox, utilities
from sim.config import Event
from sim.loading import load_scenario
from sim.market.curves import nash_price
from sim.population import Tally, draw_population, tail_cut
from sim.runner import simulate
from tests.helpers import run_model, small

N = 3000


def test_log_cost_values_a_halving_the_same_at_any_price_level_and_linear_cost_does_not():
    assert box_cox(np.float32(20.0), 0.0) - box_cox(np.float32(10.0), 0.0) == pytest.approx(
        box_cox(np.float32(0.02), 0.0) - box_cox(np.float32(0.01), 0.0), rel=1e-5)
    linear = (box_cox(np.float32(20.0), 1.0) - box_cox(np.float32(10.0), 1.0),
              box_cox(np.float32(0.02), 1.0) - box_cox(np.float32(0.01), 1.0))
    assert linear[0] > 100 * linear[1]


def _two_option_table(two_prices):
    k = K
    price, available = np.zeros(k, np.float32), np.zeros(k, bool)
    price[:2], available[:2] = two_prices, True
    return OptionTable(base=np.zeros(k, np.float32), price=price,
                       fixed_cost=np.zeros(k, np.float32), ownership=np.zeros(k, np.float32),
                       leak=np.zeros(k, np.float32), private_cap=np.full(k, np.inf, np.float32),
                       available=available, outside=-3.0)


def test_utilities_use_the_box_cox_cost_of_the_bill_relative_to_the_reference_bill():
    co = Coefficients(alpha=2.0, budget_per_mtok=10.0, beta_own=0, beta_leak=0, switching_cost=0, mu=1.0,
                      selfhost_capability=0.5, capability_discount=0.5, trust_by_segment=np.zeros(4, np.float32),
                      cost_lambda=0.0)
    m = 3
    ones = np.ones(m, np.float32)
    args = (ones * 50, ones * 0.5, ones * 0.9, np.zeros(m, np.int8), np.full(m, -1, np.int8), np.zeros(m, bool))
    for level in (1.0, 0.001):  # a 50% undercut is worth alpha ln 2 at any price level
        v = utilities(_two_option_table([10 * level, 5 * level]), co, *args)
        assert v[0, 1] - v[0, 0] == pytest.approx(2.0 * np.log(2.0), rel=1e-5)
    v = utilities(_two_option_table([10, 5]), co, *args, outside_ok=np.array([1, 0, 1], bool))
    assert v.shape == (m, K + 1) and v[0, K] == pytest.approx(-3.0) and v[1, K] == -np.inf


def test_nash_markup_is_a_constant_lerner_index_under_log_cost():
    s = small(n=100, choice__cost_lambda=0.0, population__price_elasticity=0.0, choice__alpha_price=3.0)
    lerner = [1 - c / nash_price(s, c, 0.4, 1e6) for c in (10.0, 1.0, 0.01)]
    assert np.allclose(lerner, 1.0 / (3.0 * 0.6))
    linear = small(n=100, choice__cost_lambda=1.0, population__price_elasticity=0.0, choice__alpha_price=3.0)
    markups = [nash_price(linear, c, 0.4, 1e6) - c for c in (10.0, 0.01)]
    assert markups[0] == pytest.approx(markups[1], rel=1e-6)  # linear cost: a constant markup in $/M


def test_price_cuts_keep_moving_share_in_2027():
    """A paired 20% cut by OpenAI for three months moves its adopter share in 2027 too (log cost; at a cost weight
    of 1.5, inside the range the fits have found, 0.4-1.5), more than under the linear cost."""
    def gain(year, lam):
        base = small(n=6000, horizon=60, choice__cost_lambda=lam, choice__alpha_price=1.5)
        cut = base.model_copy(deep=True)
        cut.events = [Event(date=f"{year}-06", multiply={"providers.openai.price.multiplier": 0.8}),
                      Event(date=f"{year}-09", multiply={"providers.openai.price.multiplier": 1.25})]
        month = (year - 2023) * 12 + 7
        shares = [simulate(sc, "open", seed)["share_users.openai"].iloc[month] for sc in (base, cut)
                  for seed in (1, 2)]
        return (shares[2] + shares[3] - shares[0] - shares[1]) / 2
    assert gain(2027, 0.0) > 0.001
    assert gain(2027, 0.0) > 1.5 * gain(2027, 1.0)


def test_outside_option_lets_adoption_answer_prices():
    """Doubling every closed price lowers the adopted share (firms leave and fewer adopt); with u0 -> -inf it
    cannot."""
    def adopted(mult, u0):
        s = small(n=N, horizon=36, choice__outside_utility=u0, **{
            f"providers__{lab}__price__multiplier": mult for lab in ("openai", "anthropic", "google")})
        return np.mean([simulate(s, "absent", seed)["adopted_frac"].iloc[-1] for seed in (1, 2)])
    assert adopted(3.0, 1.0) < adopted(1.0, 1.0) - 0.01
    assert adopted(3.0, -50.0) == pytest.approx(adopted(1.0, -50.0), abs=0.01)


def test_jevons_demand_scales_tokens_by_price_and_zero_elasticity_is_fixed_use():
    for eps in (0.0, 0.5):
        m = run_model(small(n=N, horizon=12, population__price_elasticity=eps, population__tasks__agentic_share=0.0),
                      "open", seed=1)
        tokens = m.developers.tally.tokens * m.usage
        price = np.where(m.offer.price > 0, m.offer.price, m.cfg.choice.budget_per_mtok)  # no price: no tokens
        factor = (price / m.cfg.choice.budget_per_mtok) ** -eps
        got = np.array([m.rows[-1][f"tokens.{o}"] for o in m.catalog.OPTIONS])
        on = tokens > 0
        expected = tokens[on] if eps == 0 else tokens[on] * factor[on]
        assert np.allclose(got[on], expected, rtol=1e-9)
        hosted = OPTIONS.index("llama_hosted")  # priced below the reference: cheap tokens mean more use
        assert tokens[hosted] > 0 and m.offer.price[hosted] < m.cfg.choice.budget_per_mtok
        assert (got[hosted] > tokens[hosted]) == (eps > 0)  # the same firms, within one run


def test_stratified_population_puts_the_largest_token_users_on_rows_of_weight_one():
    cfg = load_scenario("baseline", population=50000).population  # the tail's rows stay under tail_rows_max
    devs = draw_population(cfg, np.random.default_rng(1))
    cut = tail_cut(cfg, cfg.represents - len(cfg.giants), cfg.n - len(cfg.giants))
    body, tail = slice(0, devs.body_rows), slice(devs.body_rows, cfg.n - len(cfg.giants))
    assert (devs.weight[tail] == 1).all() and (devs.weight[body] > 1).all()
    # The cut is on a firm's token use (size and noise together), so no body row is a large token user.
    assert devs.tokens[body].max() <= cut * (1 + 1e-5) <= devs.tokens[tail].min() * (1 + 2e-5)
    assert devs.weight.astype(float).sum() == pytest.approx(cfg.represents, rel=1e-6)
    share = float(devs.volume[tail].sum() / devs.volume.sum())
    assert share == pytest.approx(cfg.tail_token_share, abs=0.03)  # stratified draws hit the stated share
    assert Tally(devs).total == pytest.approx(cfg.represents, rel=1e-6)
    flat = cfg.model_copy(update={"tail_token_share": 0.0})
    assert np.unique(draw_population(flat, np.random.default_rng(1)).weight[: -len(cfg.giants)]).size == 1


def test_the_kept_grid_cdfs_give_the_same_draw_as_fresh_ones():
    """The stratum CDFs kept between draws are read-only and change no draw (their settings are their key)."""
    from sim import population

    cfg = load_scenario("baseline", population=3000).population
    population._GRID_CDFS.clear()
    fresh = draw_population(cfg, np.random.default_rng(5))
    assert population._GRID_CDFS and not any(c.flags.writeable for c in population._GRID_CDFS.values())
    again = draw_population(cfg, np.random.default_rng(5))
    assert all(np.array_equal(getattr(fresh, f), getattr(again, f)) for f in ("mau", "tokens", "weight", "segment"))
    steeper = cfg.model_copy(update={"mau_tail": cfg.mau_tail * 1.2, "tokens_sigma": cfg.tokens_sigma * 1.1})
    kept = draw_population(steeper, np.random.default_rng(5))  # the baseline's CDFs are kept, but not its key
    population._GRID_CDFS.clear()
    assert np.array_equal(kept.tokens, draw_population(steeper, np.random.default_rng(5)).tokens)


def test_body_strata_sample_the_heavier_token_users_more_finely():
    cfg = load_scenario("baseline", population=50000).population
    devs = draw_population(cfg, np.random.default_rng(2))
    body = slice(0, devs.body_rows)
    starts = np.flatnonzero(np.diff(devs.weight[body], prepend=np.float32(-1)))
    weights, tokens = devs.weight[starts], devs.tokens[body]
    assert starts.size == 4 and (np.diff(weights) < 0).all()  # heavier strata: each row stands for fewer firms
    ends = [*starts[1:], devs.body_rows]
    top = [tokens[a:b].max() for a, b in zip(starts, ends, strict=True)]
    low = [tokens[a:b].min() for a, b in zip(starts, ends, strict=True)]
    assert all(hi <= lo * (1 + 1e-5) for hi, lo in zip(top[:-1], low[1:], strict=True))  # strata of token use
    # No body row may carry a visible share of the market's tokens.
    assert devs.volume[body].max() / devs.volume.astype(float).sum() < 1e-3


def test_stratified_draws_keep_the_expected_population_and_vary_little_between_seeds():
    cfg = load_scenario("baseline", population=20000).population
    m0, cap, a, eta = cfg.mau_min, cfg.mau_cap, cfg.mau_tail, cfg.tokens_exponent
    k = eta - a  # E[mau^eta] of Pareto sizes with the cap's mass at the cap; the lognormal noise has mean 1
    firms = cfg.represents - len(cfg.giants)
    mau_eta = a * m0**a * (cap**k - m0**k) / k + (m0 / cap) ** a * cap**eta
    expected = cfg.tokens_per_mau * (firms * mau_eta + sum(x.mau**eta for x in cfg.giants))
    big = firms * (m0 / 1e5) ** a + len(cfg.giants)  # firms above 100k MAU
    draws = [draw_population(cfg, np.random.default_rng(seed)) for seed in range(30)]
    volume = np.array([d.volume.astype(float).sum() for d in draws])
    counts = np.array([(d.weight.astype(float) * (d.mau > 1e5)).sum() for d in draws])
    for x, target in ((volume, expected), (counts, big)):
        assert abs(x.mean() - target) < 4 * x.std(ddof=1) / np.sqrt(x.size)  # unbiased
    # Independent draws with one size cut vary by ~4% a seed in total tokens (the giants' own noise aside).
    assert volume.std(ddof=1) / volume.mean() < 0.015


def test_flywheel_stays_live_and_open_llama_slows_it():
    def gains(strategy):
        runs = [simulate(small(n=6000, horizon=60), strategy, seed) for seed in (1, 2)]
        return (np.mean([df["flywheel_gain.openai"].iloc[24] for df in runs]),
                np.mean([df["flywheel_gain.openai"].iloc[-1] for df in runs]))
    strength = load_scenario("baseline").providers.openai.flywheel.strength
    open_m24, open_end = gains("open")
    absent_m24, absent_end = gains("absent")
    assert 0 < open_m24 < 0.9 * strength and open_end > open_m24  # still rising
    assert open_m24 < absent_m24 and open_end <= absent_end  # tokens on Llama are data OpenAI does not see


def test_a_meta_api_that_matches_prices_with_the_labs():
    """``price.mode: match``: a closed Meta API with no price list asks the mean of the labs' prices this month, so it
    never prices at its cap as a logit-Nash monopolist of a niche would at a low cost weight."""
    s = small(n=1000, horizon=24, meta__price__mode="match")
    df = simulate(s, "closed", 1)
    labs = df[["price.openai", "price.anthropic", "price.google"]].mean(axis=1, skipna=True)
    sold = df["price.meta_api"].notna()
    assert sold.sum() > 12 and np.allclose(df.loc[sold, "price.meta_api"], labs[sold] * s.meta.price.multiplier)
    nash = simulate(small(n=1000, horizon=24, meta__price__mode="best_response"), "closed", 1)
    assert nash["price.meta_api"].max() > 3 * df["price.meta_api"].max()
