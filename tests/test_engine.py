"""The market engine: accounting, reproducibility, pairing, the licence clause, trust, Bass adoption."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sim.catalog import IS_LLAMA, IS_META, OPTIONS, K
from sim.channels import STRATEGIC
from sim.choice import Coefficients, OptionTable, bernoulli_indices, gumbel, logit_probabilities, sample_choices
from sim.cli import main
from sim.market import LLMMarket
from sim.population import SEGMENT_CODE
from sim.runner import run_scenario
from tests.helpers import run_model, small


@pytest.fixture(scope="module")
def baseline_runs():
    return run_scenario(small(n=4000, horizon=30), replications=2)


def test_user_shares_sum_to_one_and_users_sum_to_n(baseline_runs):
    ts, _ = baseline_runs
    options = [c.split(".", 1)[1] for c in ts if c.startswith("share_users.")]  # the baseline's catalogue
    assert set(OPTIONS) < set(options)
    shares = ts[[f"share_users.{o}" for o in options]].sum(axis=1)
    adopted = ts["adopted_frac"] > 0
    assert np.allclose(shares[adopted], 1.0)
    tokens = ts[[f"share_tokens.{o}" for o in options]].sum(axis=1)
    assert np.allclose(tokens[adopted], 1.0)
    users = ts[[f"users.{o}" for o in options] + ["users.none"]].sum(axis=1)
    assert np.allclose(users, baseline_runs[0].attrs.get("represents", users.iloc[0])) and np.allclose(users, 1e7)


def test_unavailable_options_have_zero_share(baseline_runs):
    ts, _ = baseline_runs
    assert (ts.loc[ts.strategy != "closed", "share_users.meta_api"] == 0).all()
    assert (ts.loc[ts.strategy != "open", ["share_users.llama_hosted", "share_users.llama_self"]] == 0).all().all()
    assert (ts.loc[ts.strategy == "open", "share_users.llama_hosted"].iloc[-1] > 0)


def test_profit_is_the_sum_of_meta_lines_and_npv_discounts_it(baseline_runs):
    ts, summary = baseline_runs
    lines = [f"meta.{c}" for c in STRATEGIC]  # the strategic lens: capex in cash, not its depreciation
    assert np.allclose(ts[lines].sum(axis=1), ts["profit.meta"])
    run = ts[(ts.strategy == "open") & (ts.replicate == 0)]
    rate = small().market.discount_rate
    npv = (run["profit.meta"] * (1 + rate) ** (-run["month"] / 12)).sum()
    got = summary[(summary.strategy == "open") & (summary.replicate == 0)]["npv.meta"].iloc[0]
    assert got == pytest.approx(npv, rel=1e-9)


def test_revenue_is_price_times_tokens_for_closed_labs(baseline_runs):
    ts, _ = baseline_runs
    for lab in ("openai", "anthropic", "google"):
        expected = (ts[f"price.{lab}"] * ts[f"tokens.{lab}"]).fillna(0.0)  # no price before a lab enters
        assert np.allclose(ts[f"api_revenue.{lab}"], expected, rtol=1e-9)
        parts = ts[[f"{line}.{lab}" for line in ("api_revenue", "consumer_revenue", "meta_contract")]].sum(axis=1)
        assert np.allclose(ts[f"revenue.{lab}"], parts, rtol=1e-9)


def test_same_seed_gives_identical_parquet(tmp_path):
    args = ["run", "baseline", "--population", "1500", "--set", "horizon_months=12", "--strategies", "open,absent"]
    assert main(args + ["--out", str(tmp_path / "a")]) == 0
    assert main(args + ["--out", str(tmp_path / "b")]) == 0
    a = pd.read_parquet(tmp_path / "a" / "timeseries.parquet")
    b = pd.read_parquet(tmp_path / "b" / "timeseries.parquet")
    pd.testing.assert_frame_equal(a, b)
    assert set(a.columns) >= {"scenario", "strategy", "replicate", "seed", "month", "date", "adopted_frac",
                              "commoditization", "dev_surplus", "profit.meta", "revenue.cloud_host"}
    for name in ("summary.csv", "adoption.png", "scenario.yaml"):
        assert (tmp_path / "a" / name).stat().st_size > 0
    assert not list((tmp_path / "a").glob("*.tmp"))
    c = main(args + ["--out", str(tmp_path / "c"), "--seed", "99"])
    assert c == 0
    assert not pd.read_parquet(tmp_path / "c" / "timeseries.parquet").equals(a)


def test_paired_strategies_share_the_population_and_draws():
    s = small(n=2000, horizon=6)
    models = {k: LLMMarket(s, k, seed=7) for k in ("open", "closed", "absent")}
    ref = models["open"].devs
    for m in models.values():
        for field in ("segment", "mau", "tokens", "sensitivity", "capability"):
            assert np.array_equal(getattr(m.devs, field), getattr(ref, field))
    for m in models.values():
        while m.running:
            m.step()
    # Bass adoption does not depend on the options, so adopters coincide month by month.
    adopted = [m.devs.choice >= 0 for m in models.values()]
    assert all(np.array_equal(a, adopted[0]) for a in adopted)


def test_license_clause_keeps_unapproved_giants_off_llama():
    s = small(n=3000, horizon=30, license__mau_threshold=2e4, license__approval_probability=0.3,
              adoption__rechoice_rate=0.5)
    state = {"approved_on_llama": 0}

    def check(m):
        above = m.devs.mau > s.license.mau_threshold
        on_llama = m.catalog.IS_LLAMA[m.devs.choice] & (m.devs.choice >= 0)
        assert not (on_llama & above & ~m.licence.approved).any()
        state["approved_on_llama"] += int((on_llama & above & m.licence.approved).sum())

    model = run_model(s, "open", each_month=check)
    assert (model.devs.mau > s.license.mau_threshold).sum() > 100
    assert state["approved_on_llama"] > 0  # approvals do let firms through

    off = small(n=3000, horizon=30, license__enabled=False, license__mau_threshold=2e4)
    m_off = run_model(off, "open")
    above = m_off.devs.mau > 2e4
    assert (m_off.catalog.IS_LLAMA[m_off.devs.choice] & (m_off.devs.choice >= 0) & above).sum() > 0


def _one_option_table(quality_llama=1300.0):
    base = np.zeros(K, dtype=np.float32)
    base[IS_LLAMA] = 0.5
    return OptionTable(base=base, price=np.ones(K, dtype=np.float32), fixed_cost=np.zeros(K, dtype=np.float32),
                       ownership=np.zeros(K, dtype=np.float32), leak=np.zeros(K, dtype=np.float32),
                       private_cap=np.full(K, np.inf, dtype=np.float32), available=np.ones(K, dtype=bool))


def test_regulated_firm_picks_llama_less_often_than_identical_startup(rng):
    """GAO chose other models over Llama: the Meta trust penalty of the regulated segment."""
    m = 40_000
    seg = np.where(np.arange(m) < m // 2, SEGMENT_CODE["startup"], SEGMENT_CODE["regulated"]).astype(np.int8)
    trust = np.zeros(4, dtype=np.float32)
    trust[SEGMENT_CODE["regulated"]] = 0.8
    co = Coefficients(alpha=1.0, budget_per_mtok=10.0, beta_own=0, beta_leak=0, switching_cost=0, mu=1.0,
                      selfhost_capability=0.0, capability_discount=0.0, trust_by_segment=trust)
    from sim.choice import utilities

    v = utilities(_one_option_table(), co, np.full(m, 100, np.float32), np.full(m, .5, np.float32),
                  np.full(m, .9, np.float32), seg, np.full(m, -1, np.int8), np.zeros(m, bool))
    picks = sample_choices(v, 1.0, gumbel(rng, v.shape))
    llama = IS_LLAMA[picks]
    start, reg = llama[: m // 2].mean(), llama[m // 2:].mean()
    p = logit_probabilities(v, 1.0)
    assert p[0, IS_LLAMA].sum() > p[-1, IS_LLAMA].sum()
    assert reg < start - 0.05
    assert (p[-1, IS_META] < p[0, IS_META]).all()


def test_regulated_segment_uses_llama_less_in_the_market():
    s = small(n=6000, horizon=30, choice__meta_trust_penalty__regulated=2.0)
    m = run_model(s, "open")
    d = m.devs
    on = (d.choice >= 0)
    llama = m.catalog.IS_LLAMA[d.choice] & on
    startup = d.segment == SEGMENT_CODE["startup"]
    regulated = d.segment == SEGMENT_CODE["regulated"]
    assert llama[regulated].sum() / on[regulated].sum() < llama[startup].sum() / on[startup].sum()


def test_bass_adoption_in_expectation():
    """With choices irrelevant, the mean adoption path follows F' = F + (p + q F)(1 - F) (monthly rates)."""
    p, q, f0 = 0.3, 1.2, 0.05
    s = small(n=5000, horizon=36, adoption__bass_p=p, adoption__bass_q=q, adoption__initial_adopted=f0,
              adoption__entry_outside=False, choice__outside_utility=-40)  # every firm reached adopts, none leaves
    paths = []
    for seed in range(20):
        m = run_model(s, "absent", seed=seed)
        paths.append([r["adopted_frac"] for r in m.rows])
    mean = np.mean(paths, axis=0)
    f, expected = f0, []
    for _ in range(36):
        expected.append(f)
        f = f + (p + q * f) / 12.0 * (1 - f)
    se = np.sqrt(np.array(expected) * (1 - np.array(expected)) / (5000 * 20))
    assert np.all(np.abs(mean - expected) < 4 * se + 0.004)


def test_bernoulli_indices_rate(rng):
    counts = [bernoulli_indices(rng, 10_000, 0.1).size for _ in range(200)]
    assert abs(np.mean(counts) - 1000) < 3 * np.sqrt(10_000 * 0.09 / 200)
    idx = bernoulli_indices(rng, 1000, 0.5)
    assert np.all(np.diff(idx) > 0) and idx.max() < 1000
    assert bernoulli_indices(rng, 100, 1.0).size == 100 and bernoulli_indices(rng, 100, 0.0).size == 0


def test_derived_seeds_do_not_collide_on_trailing_zeros():
    from sim.runner import derive_seed

    seeds = {derive_seed(7), derive_seed(7, 0), derive_seed(7, 0, 0), derive_seed(7, 1), derive_seed(7, 0, 1)}
    assert len(seeds) == 5
    assert derive_seed(7, 3) == derive_seed(7, 3)


def test_month_streams_do_not_depend_on_earlier_months_draws():
    """A month's block of each stream is the same whatever earlier months drew (so paired runs stay paired), and
    different months and purposes get different numbers."""
    from sim.streams import MonthStreams
    quiet, busy = MonthStreams(np.random.default_rng(3), 2), MonthStreams(np.random.default_rng(3), 2)
    for t in range(4):
        busy_draw = [g.random(100 * (t + 1)) for g in busy.at(t)]  # the busy run draws more every month
        quiet_draw = [g.random(5) for g in quiet.at(t)]
        for a, b in zip(quiet_draw, busy_draw, strict=True):
            assert np.array_equal(a, b[:5])
    month0, month1 = (MonthStreams(np.random.default_rng(3), 2).at(t)[0].random(5) for t in (0, 1))
    purposes = MonthStreams(np.random.default_rng(3), 2).at(0)
    assert not np.array_equal(month0, month1)
    assert not np.array_equal(purposes[0].random(5), purposes[1].random(5))
    alone = MonthStreams(np.random.default_rng(3), 2)  # positioning one purpose draws what positioning all does
    alone.at(0)[1].random(7)
    assert np.array_equal(alone.at(1, 1)[0].random(5), MonthStreams(np.random.default_rng(3), 2).at(1)[1].random(5))


def test_records_frame_is_the_frame_from_records():
    """The fast frame of the monthly records keeps every column's order, values and type."""
    from sim.runner import records_frame
    rows = [{"month": t, "strategy_now": "open" if t < 2 else "closed", "x": 0.5 * t, "gone": np.nan,
             "flag": t % 2 == 0, "count": np.int64(3 * t)} for t in range(4)]
    pd.testing.assert_frame_equal(records_frame(rows), pd.DataFrame.from_records(rows))
    model_rows = LLMMarket(small(n=300, horizon=6), "open", seed=2).run()
    pd.testing.assert_frame_equal(records_frame(model_rows), pd.DataFrame.from_records(model_rows))


def test_sweep_outcomes_are_the_frame_summary():
    """A sweep reads a run's outcomes from its records (no DataFrame): the same numbers, bit for bit, as summarizing
    the run's timeseries frame, with the same keys whatever the horizon (month-24 metrics are NaN in shorter runs)."""
    from sim.catalog import catalog_of
    from sim.runner import run_once, run_outcomes, summarize
    scenario = small(n=400, horizon=26)
    for strategy in ("open", "closed", "absent"):
        direct = run_outcomes(scenario, strategy, 4)
        framed = summarize(run_once(scenario, strategy, 0, 4), scenario.market.discount_rate, catalog_of(scenario))
        assert list(framed)[4:] == list(direct)
        assert all(framed[k] == v or (np.isnan(v) and np.isnan(framed[k])) for k, v in direct.items())
    short = run_outcomes(small(n=400, horizon=3), "open", 4)
    assert list(short) == list(direct) and np.isnan(short["flywheel_gain_m24.openai"])



def test_a_run_that_keeps_some_outcomes_records_only_their_columns():
    """A sweep asks for a few metrics: the run records only the sections holding their columns after the first
    month (which is whole), and the metrics are those of a whole run, bit for bit."""
    from sim.outcomes import columns_read
    from sim.runner import run_outcomes
    scenario = small(n=400, horizon=26)
    names = ("npv.meta", "npv.openai", "llama_token_share_m24", "final_adopted_frac")
    whole = run_outcomes(scenario, "open", 4)
    lean = run_outcomes(scenario, "open", 4, names)
    assert lean == {k: whole[k] for k in names}
    keep = columns_read(names)
    assert {"profit.meta", "share_tokens.llama_self", "adopted_frac", "month"} <= keep
    rows = LLMMarket(scenario, "open", seed=4, keep=keep).run()
    assert "commoditization" in rows[0] and "meta.capex_cost" in rows[0]
    assert keep <= set(rows[1]) and "commoditization" not in rows[1] and "meta.capex_cost" not in rows[1]
    assert "profit.anthropic" not in rows[1] and "price.openai" not in rows[1]  # one provider's, one quantity's
    assert list(rows[0]) == list(LLMMarket(scenario, "open", seed=4).run()[0])  # the whole row, in column order

def test_paired_runs_share_the_population_draw_not_its_state(monkeypatch):
    """Runs of one seed reuse one population draw: the same fixed arrays (read-only, identical to a fresh draw), but
    each run its own choices; another seed or other population settings draw anew; the draws kept are bounded by
    their rows (the last two always kept)."""
    from sim import population
    from sim.population import draw_population
    scenario = small(n=500, horizon=4)
    first, second = LLMMarket(scenario, "open", seed=9), LLMMarket(scenario, "closed", seed=9)
    assert second.devs.tokens is first.devs.tokens and not first.devs.tokens.flags.writeable
    pop_rng = np.random.default_rng(9).spawn(4)[0]
    fresh = draw_population(scenario.population, pop_rng)
    for name in ("tokens", "sensitivity", "capability", "volume", "weight", "segment", "mau"):
        assert np.array_equal(getattr(first.devs, name), getattr(fresh, name))
    first.run()
    assert (first.devs.choice >= 0).any() and (second.devs.choice == -1).all() and second.devs.clock == 0
    assert LLMMarket(scenario, "open", seed=10).devs.tokens is not first.devs.tokens
    other = small(n=500, horizon=4, population__tokens_sigma=1.5)
    assert LLMMarket(other, "open", seed=9).devs.tokens is not first.devs.tokens
    monkeypatch.setattr(population, "_SHARED_ROWS", 1000)
    kept = [LLMMarket(scenario, "open", seed=s).devs.tokens for s in (20, 21, 22)]  # 3 x 500 rows: 20 is dropped
    assert LLMMarket(scenario, "open", seed=22).devs.tokens is kept[2]
    assert LLMMarket(scenario, "open", seed=20).devs.tokens is not kept[0]


def test_scenario_terms_follow_events():
    """The terms read from the scenario once per run (choice coefficients, option columns) are read again after an
    event edits the scenario."""
    from sim.config import Event
    scenario = small(n=300, horizon=6)
    scenario.events = [Event(date="2023-04", set={"choice.switching_cost": 9.0, "choice.brand.anthropic": 3.0})]
    model = LLMMarket(scenario, "open", seed=1)
    seen = []
    while model.running:
        model.step()
        seen.append((model.coefficients().switching_cost, float(model.terms().brand[1])))
    before = (scenario.choice.switching_cost, scenario.choice.brand.anthropic)
    assert seen[:3] == [before] * 3 and seen[3:] == [(9.0, 3.0)] * 3


@pytest.mark.parametrize("shape", [(14, 1751), (3, 5), (1, 2), (13, 1)])
@pytest.mark.parametrize("half_word_held", [False, True])
def test_float32_uniforms_are_numpys_and_leave_the_stream_where_numpy_would(shape, half_word_held):
    """The taste shocks' uniforms come from raw PCG64 words: the same numbers as ``rng.random(dtype=float32)`` and
    the same draws after them, whatever the count and whether the stream holds half a word."""
    from sim.streams import uniform_float32

    for bits in (np.random.PCG64(11), np.random.Philox(11)):
        ours, numpys = np.random.Generator(bits), np.random.Generator(type(bits)(11))
        if half_word_held:
            ours.random(3, dtype=np.float32)
            numpys.random(3, dtype=np.float32)
        assert uniform_float32(ours, shape).tobytes() == numpys.random(shape, dtype=np.float32).tobytes()
        assert ours.random(5, dtype=np.float32).tobytes() == numpys.random(5, dtype=np.float32).tobytes()
        assert ours.random(3).tobytes() == numpys.random(3).tobytes()
