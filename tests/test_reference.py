"""The vectorized engine against plain formulations of the same rules: the per-agent mesa reference in
benchmarks/reference.py, and the engine's fast paths (option-major utilities, tournament argmax, incremental counts,
geometric-gap sampling) against the readable functions they stand in for."""

from __future__ import annotations

import numpy as np
import pytest

from benchmarks.reference import ReferenceMarket
from sim.choice import (
    Coefficients,
    OptionTable,
    add_utilities,
    argmax_rows,
    bernoulli_indices,
    logit_choice,
    logsum,
    sample_choices,
    utilities,
)
from sim.config import Event
from sim.model import LLMMarket
from sim.options import IS_LLAMA, IS_OPEN, IS_SELF, LLAMA_SELF, META_API, OPEN_SELF, OPTIONS, K
from sim.population import Tally
from tests.helpers import run_model, small

N, MONTHS, SEEDS = 2000, 24, 16


def outcomes(cls, scenario, seeds) -> np.ndarray:
    """One row per seed: the adoption path (one value a month), then the final share of adopters of each option."""
    rows = []
    for seed in seeds:
        model = cls(scenario, "open", seed=seed)
        model.run()
        rows.append([r["adopted_frac"] for r in model.rows] + [model.rows[-1][f"share_users.{o}"] for o in OPTIONS])
    return np.array(rows)


def worst_deviation(a: np.ndarray, b: np.ndarray) -> float:
    """Largest |mean difference| over the metrics, in units of that metric's tolerance 4.5 SE + 0.002, where SE is
    the seed-to-seed standard error of the difference (runs are paired by seed: same population, same providers)."""
    d = a - b
    se = d.std(axis=0, ddof=1) / np.sqrt(len(d))
    return float(np.max(np.abs(d.mean(axis=0)) / (4.5 * se + 0.002)))


@pytest.fixture(scope="module")
def engine_outcomes():
    return outcomes(LLMMarket, small(n=N, horizon=MONTHS), range(SEEDS))


def test_reference_matches_engine(engine_outcomes):
    """Baseline, Meta open, 2,000 developers, 24 months, 16 seeds, engine and per-agent reference run on the same seeds.
    For each of the 24 monthly adoption fractions and the 8 final user shares, the mean engine - reference difference
    must lie within 4.5 standard errors of that difference (SE = seed-to-seed sd / sqrt(16), about 0.005 for adoption
    and 0.003-0.005 for the main shares) plus 0.002 for metrics with no spread (e.g. the Meta API share, always 0 here).
    4.5 SE keeps the chance of a false alarm across the 32 metrics near 1% (t with 15 degrees of freedom)."""
    reference = outcomes(ReferenceMarket, small(n=N, horizon=MONTHS), range(SEEDS))
    assert worst_deviation(engine_outcomes, reference) < 1.0


@pytest.mark.parametrize("path, factor", [("adoption.bass_q", 1.3), ("choice.noise_scale", 1.15)])
def test_comparison_detects_a_mis_specified_reference(engine_outcomes, path, factor):
    """The same tolerance flags a reference whose imitation rate is off by 30%, or its taste-shock scale by 15%,
    with only 8 seeds: the comparison above has the power to catch real differences in the dynamics."""
    scenario = small(n=N, horizon=MONTHS)
    section, field = path.split(".")
    change = {f"{section}__{field}": getattr(getattr(scenario, section), field) * factor}
    reference = outcomes(ReferenceMarket, small(n=N, horizon=MONTHS, **change), range(8))
    assert worst_deviation(engine_outcomes[:8], reference) > 1.0


# ---- fast paths against the plain functions -------------------------------------------------------------------------


def random_choice_problem(rng, m: int = 20_000):
    """An option table and choosers exercising every term: fixed costs, ownership, leak with a private-tier cap,
    trust by segment, switching, an unavailable option, capability and licence masks."""
    available = np.ones(K, dtype=bool)
    available[META_API] = False
    private_cap = np.full(K, np.inf, dtype=np.float32)
    private_cap[1] = 0.3
    opt = OptionTable(base=rng.normal(size=K).astype(np.float32), price=rng.uniform(0, 5, K).astype(np.float32),
                      fixed_cost=np.where(IS_SELF, 500.0, 0.0).astype(np.float32),
                      ownership=np.where(IS_OPEN, rng.uniform(0.5, 1, K), 0).astype(np.float32),
                      leak=np.where(IS_OPEN, 0, 1).astype(np.float32), private_cap=private_cap, available=available)
    co = Coefficients(alpha=1.5, budget_per_mtok=10.0, beta_own=1.2, beta_leak=0.8, switching_cost=1.0, mu=0.9,
                      selfhost_capability=0.5, capability_discount=0.5,
                      trust_by_segment=np.array([0.0, 0.1, 0.8, 0.0], dtype=np.float32))
    devs = dict(tokens=rng.lognormal(3, 2, m).astype(np.float32), sensitivity=rng.random(m, dtype=np.float32),
                capability=rng.random(m, dtype=np.float32), segment=rng.integers(0, 4, m).astype(np.int8),
                current=rng.integers(-1, K, m).astype(np.int8), license_blocked=rng.random(m) < 0.05)
    devs["current"][devs["current"] == META_API] = -1
    return opt, co, devs


def test_logit_choice_picks_what_utilities_and_gumbel_max_pick(rng):
    opt, co, devs = random_choice_problem(rng)
    uniforms = rng.random((K, devs["tokens"].size), dtype=np.float32)
    gumbel = -np.log(-np.log(uniforms + np.float32(2.0**-26)))  # the transform logit_choice applies
    v = utilities(opt, co, devs["tokens"], devs["sensitivity"], devs["capability"], devs["segment"], devs["current"],
                  devs["license_blocked"])
    expected = sample_choices(v, co.mu, gumbel.T.copy())
    got = logit_choice(opt, co, devs["tokens"], devs["sensitivity"], devs["capability"], devs["segment"],
                       devs["current"], devs["license_blocked"], uniforms.copy())
    assert (got == expected).mean() > 0.999  # float32 rounding may flip exact near-ties only
    assert not (IS_SELF[got] & (devs["capability"] < co.selfhost_capability)).any()
    assert not (IS_LLAMA[got] & devs["license_blocked"]).any()
    assert not (got == META_API).any()


def test_logit_choice_returns_minus_one_when_nothing_is_available(rng):
    opt, co, devs = random_choice_problem(rng, m=1000)
    opt.available[:] = False
    opt.available[[LLAMA_SELF, OPEN_SELF]] = True
    devs["license_blocked"][:] = False
    got = logit_choice(opt, co, devs["tokens"], devs["sensitivity"], devs["capability"], devs["segment"],
                       devs["current"], devs["license_blocked"], rng.random((K, 1000), dtype=np.float32))
    low = devs["capability"] < co.selfhost_capability
    assert (got[low] == -1).all() and np.isin(got[~low], [LLAMA_SELF, OPEN_SELF]).all()


def test_option_major_utilities_differ_from_utilities_only_by_the_switching_constant(rng):
    """add_utilities adds S to the current option where utilities subtracts S from the others: the same utility
    differences, so the same choices; with no current option (the surplus) they are equal, and so are the log-sums."""
    opt, co, devs = random_choice_problem(rng, m=3000)
    args = (devs["tokens"], devs["sensitivity"], devs["capability"], devs["segment"])
    slow = utilities(opt, co, *args, devs["current"], devs["license_blocked"])
    fast = np.zeros((K, 3000), dtype=np.float32)
    add_utilities(fast, opt, co, *args, devs["current"], devs["license_blocked"])
    stays = devs["current"] >= 0
    shift = np.where(stays, co.switching_cost, 0.0)[:, None]
    finite = np.isfinite(slow)
    assert (np.isfinite(fast.T) == finite).all()
    assert np.allclose(fast.T[finite], (slow + shift)[finite], atol=1e-4)

    none = np.full(3000, -1, dtype=np.int8)
    fast = np.zeros((K, 3000), dtype=np.float32)
    add_utilities(fast, opt, co, *args, None, devs["license_blocked"])
    slow = utilities(opt, co, *args, none, devs["license_blocked"])
    assert np.allclose(logsum(fast, co.mu, axis=0), logsum(slow, co.mu), atol=1e-4)


@pytest.mark.parametrize("k", [1, 2, 3, 5, 8, 9])
def test_argmax_rows_is_argmax_with_first_index_on_ties(rng, k):
    z = rng.integers(0, 4, (k, 5000)).astype(np.float32)  # many ties
    z[:, :50] = -np.inf
    z[rng.random(z.shape) < 0.2] = -np.inf
    before = z.copy()
    best, pick = argmax_rows(z)
    assert (pick == z.argmax(axis=0)).all() and (best == z.max(axis=0)).all() and pick.dtype == np.int8
    assert np.array_equal(z, before)


def test_bernoulli_indices_has_geometric_gaps_and_no_position_bias(rng):
    p, n = 0.05, 2_000_000
    idx = bernoulli_indices(rng, n, p)
    gaps = np.diff(np.concatenate(([-1], idx)))
    se = np.sqrt(n * p * (1 - p))
    assert abs(idx.size - n * p) < 4 * se
    assert abs((gaps == 1).mean() - p) < 4 * np.sqrt(p * (1 - p) / gaps.size)
    assert abs((gaps == 2).mean() - p * (1 - p)) < 4 * np.sqrt(p / gaps.size)
    assert abs((idx < n / 2).mean() - 0.5) < 4 * 0.5 / np.sqrt(idx.size)
    assert idx[-1] < n and (gaps > 0).all()
    small_p = bernoulli_indices(rng, 10_000_000, 1e-5)
    assert abs(small_p.size - 100) < 4 * 10


def forced_choice_scenario():
    """Self-hosting made attractive with a low capability bar, then the bar raised (firms below it are forced off
    self-hosting), then open weights banned (everyone on them is forced)."""
    s = small(n=4000, horizon=16, providers__selfhost__fixed_cost=0.0, choice__beta_ownership=3.0,
              license__mau_threshold=2e4, adoption__rechoice_rate=0.2, choice__selfhost_capability=0.3)
    s.events = [Event(date="2023-05", set={"choice.selfhost_capability": 0.5}),
                Event(date="2023-11", set={"regulation.open_banned": True})]
    return s


def test_tally_matches_a_recount_and_forced_firms_leave():
    state = {"misfits": 0, "on_self": 0, "months_on": None}

    def check(m):
        recount = Tally(m.devs)
        assert np.array_equal(m.tally.users_seg, recount.users_seg)
        assert np.allclose(m.tally.tokens, recount.tokens, rtol=1e-9, atol=1e-6)
        row = m.rows[-1]
        assert [row[f"users.{o}"] for o in OPTIONS] == m.tally.users_seg[1:].sum(axis=1).tolist()
        choice = m.devs.choice
        on_self = IS_SELF[choice] & (choice >= 0)
        assert not (on_self & (m.devs.capability < m.cfg.choice.selfhost_capability)).any()
        state["on_self"] += int(on_self.sum())
        if m.month == 3:  # the month before the capability bar rises: some firms sit below the new bar
            state["misfits"] = int((on_self & (m.devs.capability < 0.5)).sum())
        blocked_on_llama = m.license_blocked & IS_LLAMA[choice] & (choice >= 0)
        assert not blocked_on_llama.any()
        if m.month >= 10:  # open weights banned from 2023-11
            assert not (IS_OPEN[choice] & (choice >= 0)).any()

    run_model(forced_choice_scenario(), "open", each_month=check)
    assert state["on_self"] > 0 and state["misfits"] > 0  # both forced paths were exercised


def test_months_on_choice_counts_months_since_the_last_change():
    state = {}

    def check(m):
        d = m.devs
        months = d.months_on_choice
        assert (months[d.choice < 0] == 0).all()
        if state:
            stayed = (d.choice == state["choice"]) & (d.choice >= 0)
            changed = (d.choice != state["choice"]) & (d.choice >= 0)
            assert (months[stayed] == state["months"][stayed] + 1).all()  # re-choosing the same option included
            assert (months[changed] == 0).all() and changed.any()
        state["choice"], state["months"] = d.choice.copy(), months.copy()

    run_model(small(n=3000, horizon=12), "open", each_month=check)


def test_packed_attributes_are_the_population_arrays(rng):
    model = LLMMarket(small(n=5000, horizon=2), "open")
    d = model.devs
    who = np.concatenate((np.sort(rng.choice(d.n, 300, replace=False)), np.arange(10)))
    got = d.attributes_of(who)
    for name, values in zip(("tokens", "sensitivity", "capability", "volume", "segment"), got, strict=True):
        expected = getattr(d, name)[who]
        assert values.dtype == expected.dtype and np.array_equal(values, expected) and values.flags.c_contiguous
