"""The nested logit by model family (``choice.family_nesting``): sampled shares equal the analytic nested-logit
probabilities, a family split in two draws its share from itself, and lambda = 1 is the plain logit."""

from __future__ import annotations

import numpy as np
import pytest

from sim.choice import Coefficients, OptionTable, logit_probabilities, nested_logit_choice
from tests.helpers import run_model, small

M = 200_000


def table(base, available=None, outside=-np.inf) -> tuple[OptionTable, Coefficients]:
    k = len(base)
    zeros = np.zeros(k, dtype=np.float32)
    opt = OptionTable(base=np.asarray(base, dtype=np.float32), price=zeros, fixed_cost=zeros, ownership=zeros,
                      leak=zeros, private_cap=np.full(k, np.inf, dtype=np.float32),
                      available=np.ones(k, dtype=bool) if available is None else available, outside=outside,
                      is_meta=np.zeros(k, dtype=bool), is_self=np.zeros(k, dtype=bool),
                      licence_bits=np.zeros(k, dtype=np.uint16))
    co = Coefficients(alpha=0.0, budget_per_mtok=10.0, beta_own=0.0, beta_leak=0.0, switching_cost=0.0, mu=0.8,
                      selfhost_capability=0.0, capability_discount=0.0, trust_by_segment=np.zeros(4))
    return opt, co


def shares(opt, co, nest_of, lam, rng, outside_ok=None) -> np.ndarray:
    """Sampled shares of each option (and, last, of the outside option)."""
    f32 = np.ones(M, dtype=np.float32)
    uniforms = rng.random((opt.k + 1, M), dtype=np.float32)
    nest_uniforms = rng.random((int(nest_of.max()) + 2, M), dtype=np.float32)
    pick = nested_logit_choice(opt, co, f32, f32 * 0, f32, np.zeros(M, dtype=np.int8), np.full(M, -1, np.int8),
                               np.zeros(M, dtype=bool), uniforms, nest_uniforms, nest_of, lam, outside_ok)
    return np.bincount(pick + 1, minlength=opt.k + 1)[[*range(1, opt.k + 1), 0]] / M


def analytic(v, nest_of, lam, mu, outside=None) -> np.ndarray:
    """P(j) = P(nest) P(j | nest), IV_f = lam ln sum exp(V_j / (mu lam)); the outside option a nest of its own."""
    x = np.asarray(v) / mu
    iv = np.array([lam * np.log(np.exp(x[nest_of == f] / lam).sum()) for f in range(nest_of.max() + 1)])
    ivs = np.append(iv, outside / mu if outside is not None else -np.inf)
    p_nest = np.exp(ivs - ivs.max()) / np.exp(ivs - ivs.max()).sum()
    within = np.exp(x / lam) / np.array([np.exp(x[nest_of == nest_of[j]] / lam).sum() for j in range(x.size)])
    return np.append(p_nest[nest_of] * within, p_nest[-1])


@pytest.mark.parametrize("lam", [0.3, 0.7, 1.0])
def test_sampled_shares_are_the_nested_logit_probabilities(rng, lam):
    base = [1.0, 0.6, 0.2, 0.9, -0.5]
    nest_of = np.array([0, 0, 0, 1, 2])
    opt, co = table(base, outside=0.4)
    got = shares(opt, co, nest_of, lam, rng, np.ones(M, dtype=bool))
    want = analytic(base, nest_of, lam, co.mu, outside=0.4)
    se = np.sqrt(want * (1 - want) / M)
    assert np.all(np.abs(got - want) < 4.5 * se + 1e-4), (got, want)


def test_lambda_one_is_the_plain_logit(rng):
    base = [1.0, 0.6, 0.2, 0.9]
    opt, co = table(base)
    got = shares(opt, co, np.array([0, 0, 1, 1]), 1.0, rng)[:-1]
    want = logit_probabilities(np.array([base]), co.mu)[0]
    assert np.allclose(got, want, atol=4.5 * np.sqrt(want * (1 - want) / M).max())


@pytest.mark.parametrize("lam, moves", [(0.05, False), (1.0, True)])
def test_a_family_split_in_two_identical_copies_keeps_its_share_when_nested(rng, lam, moves):
    """Family B offered once, then as two identical routes: nested (lambda small), B's share barely moves; in the
    plain logit (IIA) the copy takes share from family A."""
    one = shares(*table([0.5, 0.0]), np.array([0, 1]), lam, rng)
    two = shares(*table([0.5, 0.0, 0.0]), np.array([0, 1, 1]), lam, rng)
    family_b = (one[1], two[1] + two[2])
    if moves:
        assert family_b[1] - family_b[0] > 0.05
    else:
        assert abs(family_b[1] - family_b[0]) < 0.02


def test_the_market_runs_nested_and_its_surplus_follows():
    """The engine with lambda < 1 runs, keeps its accounting (shares sum to 1), and reports a finite surplus."""
    m = run_model(small(n=3000, horizon=12, choice__family_nesting=0.5), "open", seed=2)
    last = m.rows[-1]
    shares_users = sum(v for k, v in last.items() if k.startswith("share_users."))
    assert shares_users == pytest.approx(1.0) and np.isfinite(last["dev_surplus"])


def readable_nested_choice(v, nest_of, lam, mu, option_uniforms, nest_uniforms, outside, outside_ok):
    """The two stages in plain numpy (the rule the compiled kernel must follow)."""
    def gumbel(u):
        return -np.log(-np.log((u + np.float32(2.0**-26)).astype(np.float64)))

    gumbel_options, gumbel_nests = gumbel(option_uniforms[:v.shape[0]]), gumbel(nest_uniforms)
    y = v.astype(np.float64) / (mu * lam)
    nests = int(nest_of.max()) + 1
    score = np.full((nests + 1, v.shape[1]), -np.inf)
    for f in range(nests):
        rows = y[nest_of == f]
        top = rows.max(axis=0)
        safe = np.where(np.isfinite(top), top, 0.0)
        with np.errstate(divide="ignore"):
            score[f] = lam * (safe + np.log(np.exp(rows - safe).sum(axis=0)))
    if np.isfinite(outside):
        score[nests] = np.where(outside_ok, outside / mu, -np.inf)
    nest = np.argmax(score + gumbel_nests, axis=0)
    within = np.where(nest_of[:, None] == nest[None, :], y + gumbel_options, -np.inf)
    pick = np.argmax(within, axis=0).astype(np.int8)
    pick[(nest == nests) | ~np.isfinite(within.max(axis=0)) | ~np.isfinite(score.max(axis=0))] = -1
    return pick


def test_the_compiled_kernel_picks_what_the_readable_rule_picks(rng):
    from sim import kernels

    k, m = 9, 20_000
    nest_of = np.array([0, 0, 1, 1, 1, 2, 3, 3, 4])
    v = rng.normal(size=(k, m)).astype(np.float32)
    v[rng.random((k, m)) < 0.2] = -np.inf  # unavailable or masked for some choosers
    g_opt, g_nest = rng.random((k + 1, m), dtype=np.float32), rng.random((6, m), dtype=np.float32)
    ok = rng.random(m) < 0.5
    got = kernels.nested_pick(v, nest_of, 5, 0.6, 0.9, g_opt, g_nest, 0.3, ok)
    want = readable_nested_choice(v, nest_of, 0.6, 0.9, g_opt, g_nest, 0.3, ok)
    assert (got == want).mean() > 0.999
