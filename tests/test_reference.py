"""The vectorized engine against plain formulations of the same rules: the per-agent mesa reference in
benchmarks/reference.py, and the engine's fast paths (option-major utilities, compiled argmax, incremental counts,
geometric-gap sampling) against the readable functions they stand in for."""

from __future__ import annotations

import numpy as np
import pytest

from benchmarks.reference import ReferenceMarket
from sim import kernels
from sim.catalog import IS_LLAMA, IS_META, IS_OPEN, IS_SELF, LLAMA_SELF, META_API, OPEN_SELF, K
from sim.choice import (
    Coefficients,
    OptionTable,
    add_utilities,
    bernoulli_indices,
    logit_choice,
    logsum,
    sample_choices,
    utilities,
)
from sim.config import Event
from sim.market import LLMMarket
from sim.population import Tally
from tests.helpers import run_model, small

N, MONTHS, SEEDS = 2000, 24, 16
# baseline: leaving LLMs is rare (u0 far below the options); leaving: u0 = 6 makes re-choosers leave often enough that
# adoption at 24 months falls from ~0.49 to ~0.38, so the outside option's handling shows in the outcomes.
SCENARIOS = {"baseline": {}, "leaving": {"choice__outside_utility": 6.0}}


def scenario(name: str, **change):
    return small(n=N, horizon=MONTHS, **{**SCENARIOS[name], **change})


def outcomes(cls, scenario, seeds) -> np.ndarray:
    """One row per seed: the adoption path (one value a month), the final share of adopters of each option, and the
    mean monthly switch rate (adopters who moved, leaving included)."""
    rows = []
    for seed in seeds:
        model = cls(scenario, "open", seed=seed)
        model.run()
        rows.append([r["adopted_frac"] for r in model.rows]
                    + [model.rows[-1][f"share_users.{o}"] for o in model.catalog.OPTIONS]
                    + [np.mean([r["switch_rate"] for r in model.rows])])
    return np.array(rows)


def worst_deviation(a: np.ndarray, b: np.ndarray) -> float:
    """Largest |mean difference| over the metrics, in units of that metric's tolerance 4.5 SE + 0.002, where SE is
    the seed-to-seed standard error of the difference (runs are paired by seed: same population, same providers)."""
    d = a - b
    se = d.std(axis=0, ddof=1) / np.sqrt(len(d))
    return float(np.max(np.abs(d.mean(axis=0)) / (4.5 * se + 0.002)))


@pytest.fixture(scope="module")
def engine_outcomes():
    """The engine's outcomes on a named scenario, 16 seeds, computed once per module."""
    cache = {}

    def get(name: str) -> np.ndarray:
        if name not in cache:
            cache[name] = outcomes(LLMMarket, scenario(name), range(SEEDS))
        return cache[name]

    return get


@pytest.mark.parametrize("name", SCENARIOS)
def test_reference_matches_engine(engine_outcomes, name):
    """Meta open, 2,000 developers (stratified: weighted rows), 24 months, 16 seeds, engine and per-agent reference
    run on the same seeds. For each of the 24 monthly adoption fractions, the 8 final user shares and the mean switch
    rate, the mean engine - reference difference must lie within 4.5 standard errors of that difference (SE =
    seed-to-seed sd / sqrt(16), about 0.005-0.013 for adoption and 0.002-0.02 for the shares) plus 0.002 for metrics
    with no spread (e.g. the Meta API share, always 0 here). 4.5 SE keeps the chance of a false alarm across the 33
    metrics near 1% (t with 15 degrees of freedom)."""
    reference = outcomes(ReferenceMarket, scenario(name), range(SEEDS))
    assert worst_deviation(engine_outcomes(name), reference) < 1.0


@pytest.mark.parametrize("name, path, factor, shift", [("baseline", "adoption.bass_q", 1.4, 0.0),
                                                        ("baseline", "choice.noise_scale", 1.3, 0.0),
                                                        ("leaving", "choice.outside_utility", 1.0, 2.0)])
def test_comparison_detects_a_mis_specified_reference(engine_outcomes, name, path, factor, shift):
    """The same tolerance flags a reference whose imitation rate is off by 40%, its taste-shock scale by 30%, or the
    utility of leaving LLMs by 2 (twice the switching cost S = 1 that leaving carries), on the same 16 seeds: the
    comparison above has the power to catch real differences in the dynamics, the outside option's included (on 8
    seeds a 15% taste-shock error can pass, and on 16 since the history's quality gaps and entrants who may stay out
    weigh more than the shocks; with the fitted innovation rate imitation weighs less in the first two years, and a
    30% error in q moves the outcomes by about the tolerance)."""
    section, field = path.split(".")
    change = {f"{section}__{field}": getattr(getattr(scenario(name), section), field) * factor + shift}
    reference = outcomes(ReferenceMarket, scenario(name, **change), range(SEEDS))
    assert worst_deviation(engine_outcomes(name), reference) > 1.0


# ---- fast paths against the plain functions -------------------------------------------------------------------------


def random_choice_problem(rng, m: int = 20_000, cost_lambda: float = 0.0):
    """An option table and choosers exercising every term: the Box-Cox cost with fixed costs, ownership, leak with a
    private-tier cap, trust by segment, switching, an unavailable option, capability and licence masks, and an outside
    option offered to a random half of the choosers (``outside_ok``)."""
    available = np.ones(K, dtype=bool)
    available[META_API] = False
    private_cap = np.full(K, np.inf, dtype=np.float32)
    private_cap[1] = 0.3
    opt = OptionTable(base=rng.normal(size=K).astype(np.float32), price=rng.uniform(0, 5, K).astype(np.float32),
                      fixed_cost=np.where(IS_SELF, 500.0, 0.0).astype(np.float32),
                      ownership=np.where(IS_OPEN, rng.uniform(0.5, 1, K), 0).astype(np.float32),
                      leak=np.where(IS_OPEN, 0, 1).astype(np.float32), private_cap=private_cap, available=available,
                      outside=0.5)
    co = Coefficients(alpha=1.5, budget_per_mtok=10.0, beta_own=1.2, beta_leak=0.8, switching_cost=1.0, mu=0.9,
                      selfhost_capability=0.5, capability_discount=0.5,
                      trust_by_segment=np.array([0.0, 0.1, 0.8, 0.0], dtype=np.float32), cost_lambda=cost_lambda)
    devs = dict(tokens=rng.lognormal(3, 2, m).astype(np.float32), sensitivity=rng.random(m, dtype=np.float32),
                capability=rng.random(m, dtype=np.float32), segment=rng.integers(0, 4, m).astype(np.int8),
                current=rng.integers(-1, K, m).astype(np.int8), license_blocked=rng.random(m) < 0.05)
    devs["current"][devs["current"] == META_API] = -1
    devs["outside_ok"] = rng.random(m) < 0.5
    return opt, co, devs


def gumbel_max_of_utilities(opt, co, devs, uniforms, outside_ok):
    """The readable rule: :func:`utilities` (with the outside column) plus mu times the standard Gumbel that
    :func:`logit_choice` makes of the same uniforms, argmax; the outside column (K) and no option at all give -1."""
    gumbel = -np.log(-np.log(uniforms + np.float32(2.0**-26)))  # the transform logit_choice applies
    v = utilities(opt, co, devs["tokens"], devs["sensitivity"], devs["capability"], devs["segment"], devs["current"],
                  devs["license_blocked"], outside_ok=outside_ok)
    expected = sample_choices(v, co.mu, gumbel.T.copy())
    expected[expected == K] = -1
    return expected


def engine_choices(opt, co, devs, uniforms, outside_ok):
    return logit_choice(opt, co, devs["tokens"], devs["sensitivity"], devs["capability"], devs["segment"],
                        devs["current"], devs["license_blocked"], uniforms.copy(), outside_ok)


@pytest.mark.parametrize("cost_lambda", [0.0, 0.5, 1.0])
def test_logit_choice_picks_what_utilities_and_gumbel_max_pick(rng, cost_lambda):
    """Every term, the Box-Cox cost at log, square-root and linear lambda, and the outside option offered to half of
    the choosers that have no option yet (adopters' outside option: the next test)."""
    opt, co, devs = random_choice_problem(rng, cost_lambda=cost_lambda)
    outside_ok = devs["outside_ok"] & (devs["current"] < 0)
    uniforms = rng.random((K + 1, devs["tokens"].size), dtype=np.float32)
    expected = gumbel_max_of_utilities(opt, co, devs, uniforms, outside_ok)
    got = engine_choices(opt, co, devs, uniforms, outside_ok)
    assert (got == expected).mean() > 0.999  # float32 rounding may flip exact near-ties only
    left = got == -1
    assert left.any() and not (left & ~outside_ok).any()  # only those offered the outside option leave
    assert not (IS_SELF[got] & (got >= 0) & (devs["capability"] < co.selfhost_capability)).any()
    assert not (IS_LLAMA[got] & (got >= 0) & devs["license_blocked"]).any()
    assert not (got == META_API).any()
    none = engine_choices(opt, co, devs, uniforms, None)  # no outside option: the same as offering it to nobody
    assert np.array_equal(none, engine_choices(opt, co, devs, uniforms, np.zeros_like(outside_ok)))
    assert (none >= 0).all()


def test_logit_choice_outside_option_of_adopters_matches_utilities(rng):
    """Adopters re-choosing may leave: the hot path must pick what utilities(..., outside_ok) + Gumbel-max picks.
    add_utilities adds the switching cost S to the current option instead of subtracting it from the others, which
    changes no choice among options only if the outside row is shifted by S as well."""
    opt, co, devs = random_choice_problem(rng)
    outside_ok = devs["outside_ok"] & (devs["current"] >= 0)
    uniforms = rng.random((K + 1, devs["tokens"].size), dtype=np.float32)
    got = engine_choices(opt, co, devs, uniforms, outside_ok)
    assert (got == gumbel_max_of_utilities(opt, co, devs, uniforms, outside_ok)).mean() > 0.999


def test_outside_option_is_taken_with_the_logit_probability(rng):
    """200,000 identical choosers with no option yet, all offered the outside option: the frequency of each option
    and of leaving (-1) lies within 4 SE of the softmax of V_j / mu with u0 / mu appended, V_j written out by hand
    (base - alpha g(bill / reference price), g the Box-Cox transform at lambda = 0.5, the fixed cost spread over the
    firm's tokens for self-hosting). Choosers not offered it never leave."""
    m, lam = 200_000, 0.5
    opt, co, _ = random_choice_problem(rng, m=10, cost_lambda=lam)
    opt.available[:] = True
    co.mu = 1.3
    tokens, capability = 40.0, 0.9
    bill = opt.price.astype(float) + (1 - co.capability_discount * capability) * opt.fixed_cost / tokens
    v = opt.base - co.alpha * ((bill / co.budget_per_mtok) ** lam - 1) / lam + co.beta_own * opt.ownership * 0.5
    v -= np.minimum(co.beta_leak * opt.leak * 0.5, opt.private_cap) + co.trust_by_segment[1] * IS_META
    opt.outside = float(co.mu * (np.log(np.exp(v / co.mu).sum()) - np.log(3.0)))  # leaving: probability 1/4
    z = np.append(v, opt.outside) / co.mu
    p = np.exp(z - z.max())
    p /= p.sum()
    devs = dict(tokens=np.full(m, tokens, np.float32), sensitivity=np.full(m, 0.5, np.float32),
                capability=np.full(m, capability, np.float32), segment=np.full(m, 1, np.int8),
                current=np.full(m, -1, np.int8), license_blocked=np.zeros(m, dtype=bool))
    got = engine_choices(opt, co, devs, rng.random((K + 1, m), dtype=np.float32), np.ones(m, dtype=bool))
    freq = np.bincount(got.astype(np.intp) + 1, minlength=K + 1) / m  # -1 (left) first
    expected = np.append(p[K], p[:K])
    assert 0.05 < expected[0] < 0.5  # leaving is neither negligible nor certain here
    assert (np.abs(freq - expected) < 4 * np.sqrt(expected * (1 - expected) / m) + 1e-9).all()
    stay = engine_choices(opt, co, devs, rng.random((K + 1, m), dtype=np.float32), np.zeros(m, dtype=bool))
    assert (stay >= 0).all()


def test_logit_choice_returns_minus_one_when_nothing_is_available(rng):
    opt, co, devs = random_choice_problem(rng, m=1000)
    opt.available[:] = False
    opt.available[[LLAMA_SELF, OPEN_SELF]] = True
    devs["license_blocked"][:] = False
    got = logit_choice(opt, co, devs["tokens"], devs["sensitivity"], devs["capability"], devs["segment"],
                       devs["current"], devs["license_blocked"], rng.random((K + 1, 1000), dtype=np.float32))
    low = devs["capability"] < co.selfhost_capability
    assert (got[low] == -1).all() and np.isin(got[~low], [LLAMA_SELF, OPEN_SELF]).all()
    opt.available[:] = False  # nothing at all: -1 whether or not the outside option is offered
    for outside_ok in (None, devs["outside_ok"]):
        got = logit_choice(opt, co, devs["tokens"], devs["sensitivity"], devs["capability"], devs["segment"],
                           devs["current"], devs["license_blocked"], rng.random((K + 1, 1000), dtype=np.float32),
                           outside_ok)
        assert (got == -1).all()


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


@pytest.mark.parametrize("k", [1, 2, 3, 5, 8, 12])
def test_pick_best_is_the_first_best_offered_option(rng, k):
    """The compiled argmax: numpy's argmax over the offered rows (first index on ties); -1 where the best is -inf
    or the outside option (the last row), which is shifted by u0 and barred where not ``outside_ok``."""
    z = rng.integers(0, 4, (k, 5000)).astype(np.float32)  # many ties
    z[:, :50] = -np.inf
    z[rng.random(z.shape) < 0.2] = -np.inf
    offered = rng.random(k) < 0.7
    offered[0] = True
    outside_ok = rng.random(5000) < 0.5
    expected = np.where(offered[:, None], z, -np.inf)
    if offered[-1]:
        expected[-1] = np.where(outside_ok, expected[-1] + np.float32(0.5), -np.inf)
    want = expected.argmax(axis=0)
    want[(expected.max(axis=0) == -np.inf) | (want == k - 1)] = -1
    got = kernels.pick_best(z.copy(), offered, np.float32(0.5), outside_ok)
    assert got.dtype == np.int8 and np.array_equal(got, want)


def test_choosers_and_settle_do_what_the_array_code_says(rng):
    """kernels.choosers keeps adoption candidates that have not adopted and re-choice candidates that have (those may
    leave); kernels.settle writes the picks, stamps the month on firms that changed, and returns the weights of the
    adopters that changed and transitions whose flows match a recount."""
    n = 5000
    choice = rng.integers(-1, K, n).astype(np.int8)
    adopting = np.sort(rng.choice(n, 400, replace=False))
    rechoosing = np.sort(rng.choice(n, 700, replace=False))
    who, old, may_leave = kernels.choosers(adopting, rechoosing, choice, False)
    new, voluntary = adopting[choice[adopting] < 0], rechoosing[choice[rechoosing] >= 0]
    assert np.array_equal(who, np.concatenate((new, voluntary))) and np.array_equal(old, choice[who])
    assert np.array_equal(may_leave, np.arange(who.size) >= new.size)
    assert kernels.choosers(adopting, rechoosing, choice, True)[2].all()  # entrants may stay out too

    picked = np.where(rng.random(who.size) < 0.5, old, rng.integers(-1, K, who.size)).astype(np.int8)
    segment = rng.integers(0, 5, who.size).astype(np.int8)
    volume, weight = rng.random(who.size).astype(np.float32), rng.random(who.size).astype(np.float32)
    chosen_at = np.zeros(n, dtype=np.int16)
    after = choice.copy()
    flow, vol, rows_out, rows_in, switched = kernels.settle(who, picked, old, segment, volume, weight, 7, after,
                                                            chosen_at, K + 1, 5)
    changed = picked != old
    assert np.array_equal(after[who], picked) and np.array_equal(np.delete(after, who), np.delete(choice, who))
    assert np.array_equal(np.flatnonzero(chosen_at), np.sort(who[changed])) and (chosen_at[who[changed]] == 7).all()
    assert np.array_equal(switched, weight[changed & (old >= 0)])
    assert np.array_equal(rows_out, np.bincount(old[changed] + 1, minlength=K + 1))
    assert np.array_equal(rows_in, np.bincount(picked[changed] + 1, minlength=K + 1))
    into = np.zeros((K + 1, 5))
    np.add.at(into, (picked[changed] + 1, segment[changed]), weight[changed])
    assert np.allclose(flow.sum(axis=0), into) and np.isclose(vol.sum(), volume[changed].sum(dtype=np.float64))


def test_settle_and_count_is_settle_then_the_counts_then_the_entry_sums(rng):
    """The pick's one compiled call does what the three kernels it strings together do, bit for bit."""
    n, k1 = 3000, K + 1
    choice = rng.integers(-1, K, n).astype(np.int8)
    who = np.sort(rng.choice(n, 600, replace=False))
    old = choice[who]
    picked = np.where(rng.random(who.size) < 0.5, old, rng.integers(-1, K, who.size)).astype(np.int8)
    group = rng.integers(0, 10, who.size).astype(np.int8)
    segment = (group % 5).astype(np.int8)
    volume, weight = rng.random(who.size).astype(np.float32), rng.random(who.size).astype(np.float32)
    may_leave = rng.random(who.size) < 0.5
    counts = [rng.random((k1, 5)) * 100, rng.random(K) * 100, rng.integers(5, 50, k1)]
    fused_choice, fused_at, fused_counts = choice.copy(), np.zeros(n, dtype=np.int16), [c.copy() for c in counts]
    moved, agentic, reached, declined = kernels.settle_and_count(
        who, picked, old, segment, group, volume, weight, may_leave, True, 4, fused_choice, fused_at, *fused_counts,
        k1, 5)
    *flows, switched = kernels.settle(who, picked, old, segment, volume, weight, 4, choice, np.zeros(n, np.int16), k1,
                                      5)
    kernels.apply_transitions(*counts, *flows)
    expected = kernels.agentic_and_entry(picked, old, group, volume, weight, may_leave, True, 5, k1)
    assert np.array_equal(fused_choice, choice) and np.array_equal(moved, switched)
    assert all(a.tobytes() == b.tobytes() for a, b in zip(fused_counts, counts, strict=True))
    assert agentic.tobytes() == expected[0].tobytes() and (reached, declined) == expected[1:]
    assert np.flatnonzero(fused_at).size == int((picked != old).sum())


def test_apply_transitions_is_the_array_formula_bit_for_bit(rng):
    """kernels.apply_transitions adds in-flows minus out-flows to the tally's float64 counts in numpy's summation
    order (checked bit for bit on flows spread over 16 orders of magnitude, where any other order rounds
    differently) and resets options left with no row to exactly 0."""
    k1, n_seg = K + 1, 5
    for _ in range(200):
        flow = np.where(rng.random((k1, k1, n_seg)) < 0.3, np.exp(rng.normal(0, 8, (k1, k1, n_seg))), 0.0)
        vol = np.where(rng.random((k1, k1)) < 0.4, np.exp(rng.normal(0, 8, (k1, k1))), 0.0)
        rows_out, rows_in = rng.integers(0, 3, k1), rng.integers(0, 3, k1)
        users_seg, tokens = np.exp(rng.normal(0, 8, (k1, n_seg))), np.exp(rng.normal(0, 8, k1 - 1))
        rows = rows_out + rng.integers(0, 2, k1)  # some options end with no row
        want_seg = users_seg + (flow.sum(axis=0) - flow.sum(axis=1))
        want_tokens = tokens + (vol.sum(axis=0) - vol.sum(axis=1))[1:]
        want_rows = rows - rows_out + rows_in
        want_seg[want_rows == 0] = 0.0
        want_tokens[want_rows[1:] == 0] = 0.0
        kernels.apply_transitions(users_seg, tokens, rows, flow, vol, rows_out, rows_in)
        assert np.array_equal(rows, want_rows)
        assert np.array_equal(users_seg, want_seg) and np.array_equal(tokens, want_tokens)


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
    self-hosting), then open weights banned (everyone on them is forced, and may leave LLMs)."""
    s = small(n=4000, horizon=16, providers__selfhost__fixed_cost=0.0, choice__beta_ownership=3.0,
              license__mau_threshold=2e4, adoption__rechoice_rate=0.2, choice__selfhost_capability=0.3)
    s.events = [Event(date="2023-05", set={"choice.selfhost_capability": 0.5}),
                Event(date="2023-11", set={"regulation.banned": True})]
    return s


def test_tally_matches_a_recount_and_forced_firms_leave():
    """The incremental tally (real firms, rows and token volumes by option) equals a recount every month, with rows
    of different weights (stratified population) moving in and out, the outside option included."""
    state = {"misfits": 0, "on_self": 0, "left": 0, "choice": None}

    def check(m):
        d, cat = m.devs, m.catalog
        recount = Tally(d, cat.K)
        assert np.allclose(m.developers.tally.users_seg, recount.users_seg, rtol=1e-9, atol=1e-6)
        assert np.array_equal(m.developers.tally.rows, recount.rows)
        assert np.allclose(m.developers.tally.tokens, recount.tokens, rtol=1e-9, atol=1e-6)
        firms = [d.weight[d.choice == j].astype(np.float64).sum() for j in range(-1, cat.K)]  # plain recount
        assert np.allclose(m.developers.tally.users_seg.sum(axis=1), firms, rtol=1e-9)
        assert m.developers.tally.total == pytest.approx(d.weight.astype(np.float64).sum(), rel=1e-12)
        row = m.rows[-1]
        assert np.allclose([row[f"users.{o}"] for o in cat.OPTIONS], firms[1:], rtol=1e-9)
        agentic = d.task == 1  # two tasks: agentic work's token volume, kept by the movers, equals a recount
        volume = [d.volume[agentic & (d.choice == j)].astype(np.float64).sum() for j in range(-1, cat.K)]
        assert np.allclose(m.developers.agentic_volume, volume, rtol=1e-6, atol=1e-3)
        if state["choice"] is not None:
            state["left"] += int(((state["choice"] >= 0) & (d.choice < 0)).sum())
        state["choice"] = d.choice.copy()
        choice = m.devs.choice
        on_self = cat.IS_SELF[choice] & (choice >= 0)
        assert not (on_self & (m.devs.capability < m.cfg.choice.selfhost_capability)).any()
        state["on_self"] += int(on_self.sum())
        if m.month == 3:  # the month before the capability bar rises: some firms sit below the new bar
            state["misfits"] = int((on_self & (m.devs.capability < 0.5)).sum())
        blocked_on_llama = m.licence.blocked & cat.IS_LLAMA[choice] & (choice >= 0)
        assert not blocked_on_llama.any()
        if m.month >= 10:  # open weights banned from 2023-11
            assert not (cat.IS_OPEN[choice] & (choice >= 0)).any()

    model = run_model(forced_choice_scenario(), "open", each_month=check)
    assert state["on_self"] > 0 and state["misfits"] > 0  # both forced paths were exercised
    assert state["left"] > 0  # adopters left LLMs (outside option)
    assert np.unique(model.devs.weight).size > 1  # rows of different weights


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
    blocked = rng.random(d.n) < 0.3
    *got, got_blocked = d.attributes_of(who, blocked, usage=1.7)
    for name, values in zip(("tokens", "sensitivity", "capability", "volume", "weight", "segment", "segment"), got,
                            strict=True):
        expected = getattr(d, name)[who] * (np.float32(1.7) if name == "tokens" else 1)
        assert values.dtype == expected.dtype and np.array_equal(values, expected) and values.flags.c_contiguous
    assert np.array_equal(got_blocked, blocked[who])
    # two tasks: an agentic firm's group code is its segment + N_SEG, and its tokens grow faster (float32, as numpy)
    from sim.population import N_SEG
    codes = (d.segment + N_SEG * d.task).astype(np.int8)
    tokens, *_, group, segment, _ = d.attributes_of(who, blocked, 1.7, codes, growth=1.3)
    agentic = d.task[who] == 1
    assert agentic.any() and np.array_equal(group, codes[who]) and np.array_equal(segment, d.segment[who])
    plain = d.tokens[who] * np.float32(1.7)
    assert np.array_equal(tokens, np.where(agentic, plain * np.float32(1.3), plain))
