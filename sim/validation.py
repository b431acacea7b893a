"""Scientific validation (docs/validation.md): reductions of the model that must reproduce known results.

Each ``check_xxx(size)`` builds small reduced scenarios from the schema defaults, runs the engine, computes the
expectation independently (closed form, the discrete recursion, or ``scipy.optimize.brentq`` on the analytic
fixed point) and returns result rows ``{check, expected, got, tolerance, passed}``. The tests call them at
``size="small"`` (fast enough for CI); ``sim validate-model`` calls them at ``size="large"``. Statistical
tolerances are a number of standard errors, with the standard error estimated from the runs or from the binomial /
multinomial variance of the choices; each function's docstring states the runs and the standard error it uses.

The checks never change the engine: they only configure it through the scenario schema and read its outputs (and,
for the logit check, the utilities it computed, via a recording subclass). Where the engine's stratified weights
(a row stands for ``Developers.weight`` real firms) would make a binomial standard error wrong, the reduction uses
``unit_rows``: every row one real firm, so ``users.*`` count rows.
"""

from __future__ import annotations

import copy
from collections.abc import Callable

import numpy as np
import pandas as pd
from scipy.optimize import brentq
from scipy.special import expit

from sim.catalog import CLOSED_LABS, IDX, IS_LLAMA, OPTIONS, PROVIDERS, K
from sim.channels import STRATEGIC as META_LINES  # the lines npv.meta sums
from sim.choice import logit_probabilities, utilities
from sim.config import PerOption, Scenario
from sim.loading import validate_scenario
from sim.market import LLMMarket
from sim.paths import deep_merge
from sim.runner import derive_seed, discount_factors, simulate, summarize
from sim.strategies import by_name

SIZES = ("small", "large")
BASE_SEED = 20_240_512


def result(check: str, expected, got, tolerance, passed: bool) -> dict:
    """One row of the validation table."""
    return {"check": check, "expected": expected, "got": got, "tolerance": tolerance, "passed": bool(passed)}


def _pick(size: str, small, large):
    if size not in SIZES:
        raise ValueError(f"size must be one of {SIZES}, got {size!r}")
    return small if size == "small" else large


NO_BRANDS = dict.fromkeys(PerOption.model_fields, 0.0)


def reduced(name: str, sections: dict, seed: int = BASE_SEED) -> Scenario:
    """A scenario from the schema defaults plus ``sections`` (nested mappings, deep-merged), validated."""
    data = deep_merge({"name": f"validation_{name}", "description": f"validation reduction: {name}", "seed": seed},
                      copy.deepcopy(sections))
    return validate_scenario(data, f"(validation {name})")


def seeds(runs: int, key: int) -> list[int]:
    """``runs`` seeds of their own for the check numbered ``key``, so checks do not share random streams."""
    return [derive_seed(BASE_SEED, key, r) for r in range(runs)]


def twin_labs(price: float = 5.0) -> dict:
    """OpenAI and Anthropic made identical (same lead, cadence without jitter, price, no flywheel so captured data
    cannot break the tie); Google and the other open families switched off. Use with Meta ``absent``."""
    lab = {"lead": 20.0, "cadence_months": 6, "jitter_months": 0, "first_release": "2023-03", "quality_bonus": 0.0,
           "serving_efficiency": 1.0, "training_cost": 1.0e8, "flywheel": {"strength": 0.0},
           "price": {"mode": "schedule", "schedule": [{"date": "2023-01", "price": price}], "trend_per_year": 0.6}}
    return {"openai": copy.deepcopy(lab), "anthropic": copy.deepcopy(lab), "google": {"enabled": False},
            "open_rival": {"enabled": False}}


def unit_rows(n: int) -> dict:
    """A population section where every row is one real firm (no named giants, no one-per-firm tail, represents = n):
    ``users.*`` then count rows and binomial / multinomial standard errors over rows apply."""
    return {"n": n, "represents": float(n), "giants": [], "tail_token_share": 0.0}


NO_EXIT = -50.0  # choice.outside_utility that makes leaving LLMs (the outside option) never chosen


def box_cox_ref(x, lam: float):
    """(x^lambda - 1) / lambda, ln x at lambda = 0: written out here, independently of sim.choice.box_cox."""
    x = np.asarray(x, dtype=float)
    return np.log(x) if lam == 0.0 else (x**lam - 1.0) / lam


def cost_utility(price, ch, eps: float):
    """alpha g(bill / reference bill) of an option with no fixed cost: a firm using T base tokens at price p uses
    T (p / p_ref)^-eps (Jevons), so its bill over its reference bill T p_ref is x = (p / p_ref)^(1 - eps)."""
    x = (np.asarray(price, dtype=float) / ch.budget_per_mtok) ** (1.0 - eps)
    return ch.alpha_price * box_cox_ref(x, ch.cost_lambda)


# ---- 1. Bass diffusion ----------------------------------------------------------------------------------------------


def bass_recursion(p_year: float, q_year: float, f0: float, months: int) -> np.ndarray:
    """F(t+1) = F + (p + q F)(1 - F) with monthly rates p/12, q/12, as the engine applies the yearly coefficients."""
    f = np.empty(months)
    f[0] = f0
    for t in range(1, months):
        f[t] = f[t - 1] + min((p_year + q_year * f[t - 1]) / 12.0, 1.0) * (1.0 - f[t - 1])
    return f


def bass_closed_form_half_time(p_year: float, q_year: float) -> float:
    """Years to 50% adoption of continuous Bass from F(0)=0: F = (1 - e^{-(p+q)t}) / (1 + (q/p) e^{-(p+q)t})."""
    return float(np.log((1.0 + 0.5 * q_year / p_year) / 0.5) / (p_year + q_year))


def crossing_years(path: np.ndarray, level: float = 0.5) -> float:
    """First time (years, linear interpolation between months) the path reaches ``level``; nan if never."""
    above = np.flatnonzero(path >= level)
    if above.size == 0 or above[0] == 0:
        return float("nan")
    t = above[0]
    frac = (level - path[t - 1]) / (path[t] - path[t - 1])
    return float((t - 1 + frac) / 12.0)


def check_bass(size: str = "small") -> list[dict]:
    """Two identical options, S=0, gamma=0 reduce to plain Bass diffusion (Bass 1969), p=0.03, q=0.38 per year.

    Runs: small 40 runs of 5,000 developers, large 200 runs of 10,000 (target: 200 x 10k within 0.005), 96 months,
    nobody adopted at the start. The mean path must stay within 0.005 of the recursion at every month *and* within
    4 standard errors, SE_t = (s.d. across runs at month t) / sqrt(runs); at the small size, where 4 SE exceeds
    0.005, the absolute tolerance is max(0.005, 4 max_t SE_t). The month the mean path crosses 50% must be
    6.6 +/- 0.1 years (continuous Bass: 6.55). The twins must split adopters 50/50 within 3 binomial SEs.
    Adoption is the only way in and nobody leaves (outside option u0 = -50, never chosen), and every row is one firm
    (:func:`unit_rows`), so the adopted fraction is the share of rows and the split is binomial over rows.
    """
    runs, n = _pick(size, (40, 5_000), (200, 10_000))
    p, q, months = 0.03, 0.38, 96
    s = reduced("bass", {
        "horizon_months": months, "population": unit_rows(n), "meta": {"strategy": "absent"},
        "providers": twin_labs(),
        "adoption": {"bass_p": p, "bass_q": q, "initial_adopted": 0.0, "rechoice_rate": 0.15},
        "choice": {"switching_cost": 0.0, "gamma_network": 0.0, "brand": NO_BRANDS, "outside_utility": NO_EXIT},
    })
    paths, twin = [], []
    for seed in seeds(runs, 1):
        df = simulate(s, "absent", seed)
        paths.append(df["adopted_frac"].to_numpy())
        last = df.iloc[-1]
        twin.append((last["users.openai"], last["users.openai"] + last["users.anthropic"]))
    paths = np.array(paths)
    mean = paths.mean(axis=0)
    se = paths.std(axis=0, ddof=1) / np.sqrt(runs)
    expected = bass_recursion(p, q, 0.0, months)
    dev = np.abs(mean - expected)
    z = np.max(dev[1:] / np.maximum(se[1:], 1e-12))
    tol = max(0.005, 4 * se.max())
    rows = [result(f"bass: mean adoption path vs F+(p+qF)(1-F), p/12, q/12 ({runs} runs x {n:,})",
                   "max_t |mean - F| <= tol and <= 4 SE_t", f"{dev.max():.4f} ({z:.1f} SE)",
                   f"{tol:.4f} (SE <= {se.max():.4f})", dev.max() <= tol and z <= 4.0)]
    t_engine, t_rec = crossing_years(mean), crossing_years(bass_recursion(p, q, 0.0, 200))
    closed = bass_closed_form_half_time(p, q)
    rows.append(result("bass: 50% adoption time, engine mean path (years)", 6.6, round(t_engine, 3), 0.1,
                       abs(t_engine - 6.6) <= 0.1))
    rows.append(result(f"bass: 50% adoption time, discrete recursion (continuous form {closed:.2f})", 6.6,
                       round(t_rec, 3), 0.1, abs(t_rec - 6.6) <= 0.1))
    k, m = np.array(twin, dtype=float).sum(axis=0)
    share, se_share = k / m, np.sqrt(0.25 / m)
    rows.append(result("bass: identical options split adopters", 0.5, round(share, 4), f"3 SE = {3 * se_share:.4f}",
                       abs(share - 0.5) <= 3 * se_share))
    return rows


# ---- 2. logit shares ------------------------------------------------------------------------------------------------


def softmax(v: np.ndarray, mu: float) -> np.ndarray:
    """Logit shares of utilities ``v`` at noise scale ``mu``, written out here so the check does not use the
    engine's own code."""
    z = (v - np.max(v)) / mu
    e = np.exp(z)
    return e / e.sum()


def check_logit(size: str = "small") -> list[dict]:
    """No switching cost, gamma=0, everyone re-chooses each month: shares are the logit softmax(V/mu) (McFadden 1974).

    (a) Closed APIs only, nobody leaves (u0 = -50), Box-Cox lambda = 0.5 and Jevons epsilon = 0.3 (the data-leak
        penalty is common to all, so it cancels): V_j = beta_q Q_j/100 - alpha g((p_j / p_ref)^(1 - eps)) + brand_j,
        computed here from the options' reported quality and price and the scenario's coefficients, independently of
        the engine's utility code (:func:`cost_utility`).
    (b) The full market (Llama, open, self-hosting, heterogeneous developers, stratified weights, the default outside
        option): the expectation is the mean over adopters of ``logit_probabilities`` of the engine's own utilities.
        Adopters are the firms that picked an option; by IIA their choice among options is the softmax over options
        whether or not leaving was offered, so the outside option does not enter.
    (c) The outside option: closed APIs, no leak term, no new adopters after month 0 (bass p = q = 0), so every chooser
        of month t >= 1 is one of the A(t-1) adopters re-choosing, who may leave (u0 = 0: U_0 = beta_q Q0/100 + u0).
        Shares over (options + leaving) = softmax((V_1..V_3, U_0)/mu), V as in (a); leavers are A(t-1) - A(t).
    (a) and (c) use :func:`unit_rows` so counts are rows. Runs: one run each; (a), (b) months 12..23 pooled, (c)
    months 1..8 (choices are independent across months given V). Standard error of option j:
    sqrt(sum_t sum_i p_ij,t (1 - p_ij,t)) / sum_t A_t (multinomial). Pass: every option within 3 SE.
    """
    n = _pick(size, 20_000, 100_000)
    return _logit_closed(n) + _logit_full(n) + _logit_outside(n)


LOGIT_MONTHS = 24
LOGIT_COMMON = {"switching_cost": 0.0, "gamma_network": 0.0}  # no switching cost or network effect: a pure logit
LOGIT_ADOPTION = {"rechoice_rate": 1.0, "initial_adopted": 0.3}  # everyone re-chooses each month


def _logit_rows(tag: str, names: list[str], obs, exp, var, total) -> list[dict]:
    """One result per option: observed share against the expected one, passing within 3 multinomial SE."""
    rows = []
    for j, o in enumerate(names):
        se = np.sqrt(var[j]) / total
        rows.append(result(f"logit ({tag}): share {o}", round(exp[j] / total, 4), round(obs[j] / total, 4),
                           f"3 SE = {3 * se:.4f}", abs(obs[j] - exp[j]) <= 3 * np.sqrt(var[j]) + 1e-9))
    return rows


def _closed_v(r, ch, eps) -> np.ndarray:
    """The closed labs' utilities from a month's reported quality and price, independently of the engine's code."""
    return np.array([ch.beta_quality * r[f"quality.{o}"] / 100.0 - cost_utility(r[f"price.{o}"], ch, eps)
                     + getattr(ch.brand, o) for o in CLOSED_LABS])


def _logit_closed(n: int) -> list[dict]:
    """(a) independent V from attributes, Box-Cox cost of the Jevons-adjusted bill."""
    labs = CLOSED_LABS
    mu, lam = 0.8, 0.5
    sa = reduced("logit_closed", {
        "horizon_months": LOGIT_MONTHS, "population": unit_rows(n), "meta": {"strategy": "absent"},
        "providers": {"open_rival": {"enabled": False}}, "adoption": LOGIT_ADOPTION,
        "choice": {**LOGIT_COMMON, "noise_scale": mu, "cost_lambda": lam, "outside_utility": NO_EXIT},
    })
    df = simulate(sa, "absent", seeds(1, 2)[0])
    ch, eps = sa.choice, sa.population.price_elasticity
    obs, exp, var = np.zeros(3), np.zeros(3), np.zeros(3)
    adopters = 0.0
    for _, r in df.iloc[12:].iterrows():
        pr = softmax(_closed_v(r, ch, eps), mu)
        a = sum(r[f"users.{o}"] for o in labs)
        obs += [r[f"users.{o}"] for o in labs]
        exp += a * pr
        var += a * pr * (1 - pr)
        adopters += a
    return _logit_rows("a", [f"{o}, V from attributes, mu={mu}, lambda={lam}, eps={eps}" for o in labs], obs, exp,
                       var, adopters)


def _logit_full(n: int) -> list[dict]:
    """(b) the full market, probabilities from the engine's utilities."""
    sb = reduced("logit_full", {"horizon_months": LOGIT_MONTHS, "population": {"n": n}, "adoption": LOGIT_ADOPTION,
                                "choice": LOGIT_COMMON})
    model = LLMMarket(sb, "open", seed=seeds(1, 3)[0])
    obs, exp, var = np.zeros(K), np.zeros(K), np.zeros(K)
    adopters = 0
    while model.running:
        model.step()
        if model.month < 12:
            continue
        idx = np.flatnonzero(model.devs.choice >= 0)
        d = model.devs  # the utilities of the month's option table, without switching costs
        v = utilities(model.offer.table, model.coefficients(), d.tokens[idx] * model.usage, d.sensitivity[idx],
                      d.capability[idx], d.segment[idx], np.full(idx.size, -1, dtype=np.int8),
                      model.licence.blocked[idx])
        pr = logit_probabilities(v.astype(np.float64), sb.choice.noise_scale)
        obs += np.bincount(model.devs.choice[idx], minlength=K)
        exp += pr.sum(axis=0)
        var += (pr * (1 - pr)).sum(axis=0)
        adopters += idx.size
    offered = [j for j in range(K) if exp[j] > 0 or obs[j] > 0]  # meta_api is not offered under Meta open
    return _logit_rows("b", [f"{OPTIONS[j]}, engine utilities" for j in offered], obs[offered], exp[offered],
                       var[offered], adopters)


def _logit_outside(n: int) -> list[dict]:
    """(c) re-choosers may leave: shares over (options + leaving) include u0."""
    labs = CLOSED_LABS
    u0, last = 0.0, 8
    sc = reduced("logit_outside", {
        "horizon_months": last + 1, "population": unit_rows(n), "meta": {"strategy": "absent"},
        "providers": {"open_rival": {"enabled": False}},
        "adoption": {"rechoice_rate": 1.0, "initial_adopted": 0.6, "bass_p": 0.0, "bass_q": 0.0},
        "choice": {**LOGIT_COMMON, "beta_leak": 0.0, "outside_utility": u0},
    })
    df = simulate(sc, "absent", seeds(1, 6)[0])
    ch, eps = sc.choice, sc.population.price_elasticity
    u_out = ch.beta_quality * sc.market.frontier_start_elo / 100.0 + u0
    obs, exp, var = np.zeros(4), np.zeros(4), np.zeros(4)
    choosers = 0.0
    for t in range(1, last + 1):
        prev, r = df.iloc[t - 1], df.iloc[t]
        a_prev = sum(prev[f"users.{o}"] for o in labs)
        pr = softmax(np.append(_closed_v(r, ch, eps), u_out), ch.noise_scale)
        stay = [r[f"users.{o}"] for o in labs]
        obs += [*stay, a_prev - sum(stay)]
        exp += a_prev * pr
        var += a_prev * pr * (1 - pr)
        choosers += a_prev
    return _logit_rows("c", [f"{o}, re-choosers with an outside option (u0={u0})" for o in labs]
                       + ["leaving LLMs (outside)"], obs, exp, var, choosers)


# ---- 3. lock-in ------------------------------------------------------------------------------------------------------


def brock_durlauf_threshold(mu: float, s0: float) -> float:
    """gamma* above which the symmetric share 1/2 of two equal options is unstable: the slope of
    s -> logistic((gamma/mu)[ln(1+s/s0) - ln(1+(1-s)/s0)]) at 1/2 is gamma / (2 mu (s0 + 1/2)), equal to 1 at gamma*."""
    return 2.0 * mu * (s0 + 0.5)


def brock_durlauf_high_share(gamma: float, mu: float, s0: float) -> float:
    """The stable asymmetric fixed point s* > 1/2 of the mean-field map above the threshold (brentq)."""
    def g(s):
        x = (gamma / mu) * (np.log1p(s / s0) - np.log1p((1 - s) / s0))
        return 1.0 / (1.0 + np.exp(-x)) - s
    return float(brentq(g, 0.5 + 1e-6, 1 - 1e-12))


def check_lockin(size: str = "small") -> list[dict]:
    """Two equal options with a strong network effect lock in (Arthur 1989; Brock & Durlauf 2001).

    Above the mean-field threshold gamma* = 2 mu (s0 + 1/2) (= 1.1 for mu=1, s0=0.05) a single option ends with more
    than 90% of adopters in most runs (>= 80% required), each option wins half of the runs (within 3 binomial SEs,
    sqrt(0.25/runs)), and the winner's share sits at the stable fixed point s* (within 0.01). Below the threshold
    (gamma = 0.5) no run locks in (every final share < 0.65). Runs: small 40, large 200, each 2,000 developers,
    48 months, 30% re-choosing a month, S = 0.
    """
    runs = _pick(size, 40, 200)
    n, mu, s0 = 2_000, 1.0, 0.05
    threshold = brock_durlauf_threshold(mu, s0)

    def finals(gamma: float, key: int) -> np.ndarray:
        s = reduced(f"lockin_{gamma}", {
            "horizon_months": 48, "population": {"n": n}, "meta": {"strategy": "absent"}, "providers": twin_labs(),
            "adoption": {"initial_adopted": 0.3, "bass_p": 0.3, "bass_q": 1.0, "rechoice_rate": 0.3},
            "choice": {"switching_cost": 0.0, "gamma_network": gamma, "network_s0": s0, "noise_scale": mu,
                       "brand": NO_BRANDS},
        })
        out = []
        for seed in seeds(runs, key):
            last = simulate(s, "absent", seed).iloc[-1]
            out.append(last["share_users.openai"])
        return np.array(out)

    strong, weak = 3.0, 0.5
    hi = finals(strong, 4)
    winner = np.maximum(hi, 1 - hi)
    locked = (winner > 0.9).mean()
    wins = (hi > 0.5).mean()
    se = np.sqrt(0.25 / runs)
    s_star = brock_durlauf_high_share(strong, mu, s0)
    lo = finals(weak, 5)
    rows = [
        result(f"lock-in: runs ending >90% on one option (gamma={strong} > gamma*={threshold:.2f}, {runs} runs)",
               ">= 0.8 (most runs)", round(locked, 3), "-", locked >= 0.8),
        result("lock-in: share of runs won by option A (symmetric)", 0.5, round(wins, 3), f"3 SE = {3 * se:.3f}",
               abs(wins - 0.5) <= 3 * se),
        result("lock-in: winner's mean final share vs stable fixed point s*", round(s_star, 4),
               round(float(winner.mean()), 4), 0.01, abs(winner.mean() - s_star) <= 0.01),
        result(f"lock-in: below threshold (gamma={weak}) largest final share", "< 0.65 (mixed)",
               round(float(np.maximum(lo, 1 - lo).max()), 3), "-", np.maximum(lo, 1 - lo).max() < 0.65),
    ]
    return rows


# ---- 4. logit-Nash pricing -------------------------------------------------------------------------------------------


PRICING_GAPS = (100.0, 60.0, 30.0, 0.0)
PRICING_ALPHA = 3.0  # cost weight of the pricing reduction: with epsilon = 0.3 the optimum is interior while s < 0.67


def pricing_scenario(gap: float | None, n: int, cost_lambda: float = 0.0) -> Scenario:
    """One closed lab (OpenAI, best response every month) against the other open families' hosted model at a fixed
    quality gap (``None``: no open option). Stationary: no frontier growth, no cost decline, no flywheel, no community,
    no self-hosting, no heterogeneity in the utility difference (no leak or ownership terms, no brands), nobody leaves
    (u0 = -50, so the engine's share of adopters is the logit share of the two options). Serving cost does not depend
    on quality (cost_per_100_elo = 1), so the gap shrinks at an equal open price: with log cost only price ratios
    matter, and a cheaper, worse open model would otherwise compete harder on price. alpha = 3 rather than the
    default 1.5: with log cost (lambda = 0) and Jevons epsilon = 0.3 the demand elasticity is eps + alpha (1 - eps)
    (1 - s) / mu, and at alpha = 1.5 it stays below 1 (the lab would price at its cap) once s > 1/3."""
    rival = {"enabled": gap is not None, "offset": 0.0, "quality_bonus": 0.0}
    return reduced(f"pricing_{gap}_{cost_lambda}", {
        "horizon_months": 36, "population": {"n": n}, "meta": {"strategy": "absent"},
        "providers": {"anthropic": {"enabled": False}, "google": {"enabled": False}, "open_rival": rival,
                      "openai": {"lead": 0.0, "flywheel": {"strength": 0.0},
                                 "price": {"mode": "best_response", "reprice_every": 1}},
                      "cloud_host": {"margin": 0.3}},
        "market": {"frontier_growth": 0.0, "cost_decline_per_year": 1.0, "serving_cost_ref": 2.0,
                   "cost_per_100_elo": 1.0, "open_gap": [{"date": "2023-01", "elo": 0.0 if gap is None else gap}]},
        "community": {"strength": 0.0},
        "adoption": {"rechoice_rate": 1.0, "initial_adopted": 0.5, "bass_p": 0.5, "bass_q": 1.0},
        "choice": {"switching_cost": 0.0, "gamma_network": 0.0, "beta_leak": 0.0, "beta_ownership": 0.0,
                   "selfhost_capability": 1.01, "brand": NO_BRANDS, "alpha_price": PRICING_ALPHA,
                   "cost_lambda": cost_lambda, "outside_utility": NO_EXIT},
    })


def analytic_nash_price(s: Scenario) -> tuple[float, float]:
    """The analytic logit-Nash price of the single closed lab by brentq on the first-order condition of maximising
    (p - c) p^-eps s(p): p / (p - c) = eps + A(p) x(p)^lambda, A = (alpha / mu)(1 - s(p))(1 - eps),
    x = (p / p_ref)^(1 - eps), with the logit share s(p) = expit((V_c(p) - V_o) / mu) and
    V = beta_q Q/100 - alpha g(x) (:func:`cost_utility`). Costs are written out here from the serving-cost curve
    (ref x cost_per_100_elo^((Q - Q0)/100), no decline); the open model is hosted at cost x (1 + margin).
    Returns (price, share)."""
    m, ch, eps = s.market, s.choice, s.population.price_elasticity
    q0 = m.frontier_start_elo
    q_closed = q0 + s.providers.openai.lead
    gap = m.open_gap[0].elo
    q_open = q0 - gap + s.providers.open_rival.offset
    c = m.serving_cost_ref * m.cost_per_100_elo ** ((q_closed - q0) / 100.0) * s.providers.openai.serving_efficiency
    p_open = m.serving_cost_ref * m.cost_per_100_elo ** ((q_open - q0) / 100.0) * (1 + s.providers.cloud_host.margin)

    def share(p):
        dv = ch.beta_quality * (q_closed - q_open) / 100.0 - (cost_utility(p, ch, eps) - cost_utility(p_open, ch, eps))
        return float(expit(dv / ch.noise_scale))

    def foc(p):  # (p - c)(eps + A x^lambda) - p: negative below the optimum
        a = ch.alpha_price / ch.noise_scale * (1.0 - share(p)) * (1.0 - eps)
        x = (p / ch.budget_per_mtok) ** (1.0 - eps)
        return (p - c) * (eps + a * x**ch.cost_lambda) - p

    p = brentq(foc, c * (1 + 1e-9), c + 1e4, xtol=1e-12)
    return float(p), float(share(p))


def check_pricing(size: str = "small") -> list[dict]:
    """One closed lab pricing by best response against a free-weights open model converges to the logit-Nash price.

    Expectation: the fixed point of the first-order condition of :func:`analytic_nash_price` (Box-Cox cost of the
    Jevons-adjusted bill, Anderson, de Palma & Thisse 1992), solved by brentq from the option attributes, at log cost
    (lambda = 0: constant Lerner index given s) for gaps 100, 60, 30, 0 Elo, and at linear cost (lambda = 1) for the
    60 Elo gap. Got: mean price over months 12..35, averaged over runs (small 4 runs of 3,000 developers, large 12 of
    10,000). Tolerance: max(3 SE, 0.5% of p*), SE = s.d. of the run means / sqrt(runs). The price must fall as the
    open model's gap shrinks and be highest with no open option. The engine's repricing uses last month's share;
    damping (``price.adjustment``) makes it converge.
    """
    runs, n = _pick(size, (4, 3_000), (12, 10_000))
    rows, got = [], []
    cases = [(gap, 0.0) for gap in PRICING_GAPS] + [(60.0, 1.0)]
    for i, (gap, lam) in enumerate(cases):
        s = pricing_scenario(gap, n, lam)
        p_star, s_star = analytic_nash_price(s)
        means = [simulate(s, "absent", seed)["price.openai"].iloc[12:].mean() for seed in seeds(runs, 10 + i)]
        mean, se = float(np.mean(means)), float(np.std(means, ddof=1) / np.sqrt(runs))
        tol = max(3 * se, 0.005 * p_star)
        if lam == 0.0:
            got.append(mean)
        rows.append(result(f"pricing: best-response price, open gap {gap:.0f} Elo, lambda={lam:g} (s*={s_star:.3f})",
                           round(p_star, 4), round(mean, 4), round(tol, 4), abs(mean - p_star) <= tol))
    mono = all(a > b for a, b in zip(got, got[1:], strict=False))
    rows.append(result("pricing: closed price falls as the open gap shrinks (100 > 60 > 30 > 0 Elo)", "decreasing",
                       " > ".join(f"{g:.3f}" for g in got), "-", mono))
    none = simulate(pricing_scenario(None, n), "absent", seeds(1, 20)[0])["price.openai"].iloc[12:].mean()
    rows.append(result("pricing: highest with no open option (no rival, nobody leaves: the lab prices at price.cap)",
                       f"> {max(got):.3f}", f"{none:.4g}", "-", none > max(got)))
    return rows


# ---- 5. licence ------------------------------------------------------------------------------------------------------


def _run_watching(s: Scenario, strategy: str, seed: int, each: Callable[[LLMMarket], None]) -> LLMMarket:
    model = LLMMarket(s, strategy, seed=seed)
    while model.running:
        model.step()
        each(model)
    return model


def check_license(size: str = "small") -> list[dict]:
    """Llama's 700M-MAU clause: with it on, no firm above the threshold is on Llama in any month unless Meta approved
    it; with it off, some such firms are. The threshold is lowered to 20k MAU so that hundreds of firms are above it
    (small: 3 runs of 4,000 firms; large: 10 runs of 20,000; 36 months; half the adopters re-choose monthly), plus the
    real 700M threshold with approvals denied, where the six named giants must never use Llama. Counts are exact."""
    runs, n = _pick(size, (3, 4_000), (10, 20_000))
    thr = 2e4
    common = {"horizon_months": 36, "population": {"n": n}, "adoption": {"rechoice_rate": 0.5}}
    on = reduced("license_on", {**common, "license": {"enabled": True, "mau_threshold": thr,
                                                      "approval_probability": 0.3}})
    off = reduced("license_off", {**common, "license": {"enabled": False, "mau_threshold": thr}})
    strict = reduced("license_real", {**common, "license": {"enabled": True, "approval_probability": 0.0},
                                      "choice": {"brand": {"llama_hosted": 3.0, "llama_self": 3.0}}})
    count = {"bad": 0, "approved": 0, "off": 0, "giants": 0, "above": 0}

    def on_llama(m):
        return (m.devs.choice >= 0) & IS_LLAMA[m.devs.choice]

    def watch_on(m):
        above = m.devs.mau > thr
        count["bad"] += int((on_llama(m) & above & ~m.licence.approved).sum())
        count["approved"] += int((on_llama(m) & above & m.licence.approved).sum())
        count["above"] = int(above.sum())

    def watch_off(m):
        count["off"] += int((on_llama(m) & (m.devs.mau > thr)).sum())

    def watch_real(m):
        count["giants"] += int((on_llama(m) & (m.devs.mau > 7e8)).sum())

    for seed in seeds(runs, 30):
        _run_watching(on, "open", seed, watch_on)
        _run_watching(off, "open", seed, watch_off)
        _run_watching(strict, "open", seed, watch_real)
    return [
        result(f"license on (threshold 20k MAU, ~{count['above']} firms above): unapproved firm-months on Llama", 0,
               count["bad"], "exact", count["bad"] == 0),
        result("license on: approved firm-months above threshold on Llama", "> 0", count["approved"], "-",
               count["approved"] > 0),
        result("license off: firm-months above threshold on Llama", "> 0", count["off"], "-", count["off"] > 0),
        result("license on (700M, no approvals, Llama brand +3): giant firm-months on Llama", 0, count["giants"],
               "exact", count["giants"] == 0),
    ]


# ---- 6. accounting ---------------------------------------------------------------------------------------------------


def check_accounting(size: str = "small") -> list[dict]:
    """The ledgers add up, under every strategy, with the default (stratified, weighted) population.

    Users (real firms, incl. "none") sum to ``population.represents`` every month; a closed lab's
    ``api_revenue.<lab>`` = price x tokens and ``revenue.<lab>`` = api + consumer revenue + Meta contract; Meta's API
    revenue = price x tokens; the cloud hosts' revenue = sum over hosted options of price x tokens; the token columns
    equal the developers' volumes (real firms' M tokens) on each option x usage growth x the Jevons factor of the
    option's price; Meta's lines (``meta.<channel>``) sum to its profit; NPV equals the discounted sum of monthly
    profit. One paired run per strategy (small 5,000 rows, large 50,000; 36 months); identities hold to 1e-9 relative,
    except users against ``represents`` (1e-6: the row weights are float32) and tokens (1e-6: the tally adds and
    removes float32 volumes month by month)."""
    n = _pick(size, 5_000, 50_000)
    s = reduced("accounting", {"horizon_months": 36, "population": {"n": n}})
    seed = seeds(1, 40)[0]
    worst = {"users": 0.0, "weights": 0.0, "revenue": 0.0, "tokens": 0.0, "meta": 0.0, "npv": 0.0}
    for strategy in ("open", "closed", "absent"):
        _ledger_errors(worst, s, strategy, seed)
    return _accounting_rows(worst, s.population.represents, n)


def _rel(a, b) -> float:
    """Largest relative difference of ``a`` from ``b`` (relative to at least 1, so zeros compare absolutely)."""
    a, b = np.asarray(a, float), np.asarray(b, float)
    return float(np.max(np.abs(a - b) / np.maximum(np.abs(b), 1.0)))


def _ledger_errors(worst: dict, s: Scenario, strategy: str, seed: int) -> None:
    """Run ``strategy`` once and raise each entry of ``worst`` to the largest error of its identity in that run."""
    rel, labs, firms = _rel, CLOSED_LABS, s.population.represents
    model = LLMMarket(s, strategy, seed=seed)
    df = pd.DataFrame.from_records(model.run())
    users = df[[f"users.{o}" for o in OPTIONS] + ["users.none"]].sum(axis=1)
    worst["users"] = max(worst["users"], rel(users, np.full(len(df), firms)))
    total = float(model.devs.weight.astype(np.float64).sum())  # the rows' weights are float32
    worst["weights"] = max(worst["weights"], rel(users, np.full(len(df), total)))
    price = df[[f"price.{o}" for o in OPTIONS]].fillna(0.0).to_numpy()
    tokens = df[[f"tokens.{o}" for o in OPTIONS]].to_numpy()
    for lab in labs:
        j = IDX[lab]
        worst["revenue"] = max(worst["revenue"], rel(df[f"api_revenue.{lab}"], price[:, j] * tokens[:, j]))
        parts = df[f"api_revenue.{lab}"] + df[f"consumer_revenue.{lab}"] + df[f"meta_contract.{lab}"]
        worst["revenue"] = max(worst["revenue"], rel(df[f"revenue.{lab}"], parts))
    if by_name(strategy).serves_api:
        worst["revenue"] = max(worst["revenue"], rel(df["meta.api_revenue"], price[:, IDX["meta_api"]]
                                                     * tokens[:, IDX["meta_api"]]))
    hosted = [IDX["llama_hosted"], IDX["open_hosted"]]
    worst["revenue"] = max(worst["revenue"], rel(df["revenue.cloud_host"], (price[:, hosted] * tokens[:, hosted])
                                                 .sum(axis=1)))
    d = model.devs
    on = d.choice >= 0
    vol = np.bincount(d.choice[on], weights=d.volume[on].astype(float), minlength=K)
    worst["tokens"] = max(worst["tokens"], rel(tokens[-1], vol * model.usage * model.offer.jevons))
    worst["meta"] = max(worst["meta"], rel(df[[f"meta.{x}" for x in META_LINES]].sum(axis=1), df["profit.meta"]))
    df.insert(0, "scenario", s.name)
    df.insert(1, "strategy", strategy)
    df.insert(2, "replicate", 0)
    df.insert(3, "seed", seed)
    summ = summarize(df, s.market.discount_rate)
    disc = discount_factors(df["month"].to_numpy(), s.market.discount_rate)
    for prov in PROVIDERS:
        expected = float(sum(pr * f for pr, f in zip(df[f"profit.{prov}"], disc, strict=True)))
        worst["npv"] = max(worst["npv"], rel([summ[f"npv.{prov}"]], [expected]))


def _accounting_rows(worst: dict, firms: float, n: int) -> list[dict]:
    """The accounting checks' results from the largest error of each identity."""
    return [
        result(f"accounting: users (incl. none) sum to the rows' weights / to represents={firms:,.0f} firms, every "
               f"month ({n:,} rows), 3 strategies, max rel. error", 0,
               f"{worst['weights']:.1e} / {worst['users']:.1e}", "1e-09 / 1e-06 (float32 weights)",
               worst["weights"] <= 1e-9 and worst["users"] <= 1e-6),
        result("accounting: api revenue = price x tokens (labs, Meta API), lab revenue = api + consumer + Meta "
               "contract, hosts = sum price x tokens; max rel. error", 0, f"{worst['revenue']:.1e}", 1e-9,
               worst["revenue"] <= 1e-9),
        result("accounting: token columns = developers' volumes x usage x Jevons factor, max rel. error", 0,
               f"{worst['tokens']:.1e}", 1e-6, worst["tokens"] <= 1e-6),
        result("accounting: Meta profit = sum of its channel lines (meta.*), max rel. error", 0,
               f"{worst['meta']:.1e}", 1e-9, worst["meta"] <= 1e-9),
        result("accounting: NPV = discounted sum of monthly profit, every provider", 0, f"{worst['npv']:.1e}", 1e-9,
               worst["npv"] <= 1e-9),
    ]


# ---- 7. counterfactual pairing ---------------------------------------------------------------------------------------


CONSUMER_LAYER = ("consumer_share.", "consumer_user_share.", "consumer_revenue.", "meta_contract.")
LAB_TOTALS = ("revenue.", "profit.", "serving_cost.", "gross_margin.")


def strategy_dependent(col: str) -> bool:
    """Columns allowed to differ between Meta absent and Meta open with a Llama nobody chooses (see
    :func:`check_pairing`): Meta's and Llama's own columns, the consumer AI layer, and the closed labs' totals that
    include it. Everything else (the developer market) must coincide."""
    if "meta" in col or "llama" in col or col in ("license_blocked", "strategy", "strategy_now"):
        return True
    if col.startswith(CONSUMER_LAYER):
        return True
    return col.startswith(LAB_TOTALS) and col.split(".", 1)[1] in CLOSED_LABS


def check_pairing(size: str = "small") -> list[dict]:
    """Meta absent vs Meta open with a Llama nobody chooses (quality -5000 Elo) and nobody learns from
    (``open_rival.spillover`` = 0: distilling released weights is a real effect of Llama even unused): the paired runs
    share the population and all random draws (small 2 seeds of 3,000 firms, large 5 seeds of 20,000; 36 months).

    Must coincide exactly, month by month (the developer market): users, shares, tokens, prices and qualities of the
    non-Meta options and "none", the adopted fraction, the labs' ``api_revenue``, ``data_captured``,
    ``flywheel_gain`` and ``training_cost``, the hosts' and the open rival's revenue and profit, commoditization,
    quality lead, average price paid, developer surplus, switch rate, consumer AI users.
    May differ (:func:`strategy_dependent`): Meta's and Llama's own columns (``meta.*``, ``meta_reported``,
    ``revenue.meta``, ``profit.meta``, ``flywheel_gain.meta``, ``meta_ai_quality``, the ``meta_api`` and ``llama_*``
    options, ``license_blocked``, ``llama_share_regulated``); the consumer AI layer (``consumer_share.*``,
    ``consumer_revenue.*``, ``meta_contract.*``), because under ``absent`` Meta's products run on a bought or
    self-hosted model while under ``open`` Meta AI runs on (this useless) Llama; and the closed labs' ``revenue``,
    ``profit``, ``serving_cost`` and ``gross_margin``, which include consumer revenue and any contract to serve Meta.
    Their revenue net of that layer (revenue - consumer_revenue - meta_contract) must coincide to 1e-9 relative, and
    the consumer layer must actually differ (the allowance is not vacuous). The labs' ``margin_quality`` is 0, so
    consumer revenue cannot feed back into their models."""
    runs, n = _pick(size, (2, 3_000), (5, 20_000))
    no_feedback = {lab: {"margin_quality": 0.0} for lab in CLOSED_LABS}
    s = reduced("pairing", {"horizon_months": 36, "population": {"n": n}, "meta": {"quality_bonus": -5000.0},
                            "providers": {**no_feedback, "open_rival": {"spillover": 0.0}}})
    differing: set[str] = set()
    llama_users, cols, net, consumer_differs = 0.0, 0, 0.0, False
    for seed in seeds(runs, 50):
        a = simulate(s, "absent", seed)
        o = simulate(s, "open", seed)
        llama_users += float(o[["users.llama_hosted", "users.llama_self"]].to_numpy().sum())
        keep = [c for c in a.columns if not strategy_dependent(c)]
        cols = len(keep)
        for c in keep:
            if not a[c].equals(o[c]):
                differing.add(c)
        for lab in CLOSED_LABS:
            na, no = (x[f"revenue.{lab}"] - x[f"consumer_revenue.{lab}"] - x[f"meta_contract.{lab}"] for x in (a, o))
            net = max(net, float(np.max(np.abs(na - no) / np.maximum(np.abs(na), 1.0))))
            consumer_differs |= not a[f"consumer_share.{lab}"].equals(o[f"consumer_share.{lab}"])
    return [
        result("pairing: Llama users with quality -5000 (never chosen)", 0, llama_users, "exact", llama_users == 0),
        result(f"pairing: open vs absent, developer-market columns identical ({cols} columns, {runs} seeds)",
               "identical", "identical" if not differing else "differ: " + ", ".join(sorted(differing)[:6]),
               "exact", not differing),
        result("pairing: labs' revenue net of the consumer layer (revenue - consumer - Meta contract), max rel. diff",
               0, f"{net:.1e}", 1e-9, net <= 1e-9),
        result("pairing: consumer AI layer differs (Meta AI on Llama vs a bought / self-hosted model)", "differs",
               "differs" if consumer_differs else "identical", "-", consumer_differs),
    ]


CHECKS: dict[str, Callable[[str], list[dict]]] = {
    "bass": check_bass,
    "logit": check_logit,
    "lockin": check_lockin,
    "pricing": check_pricing,
    "license": check_license,
    "accounting": check_accounting,
    "pairing": check_pairing,
}


def run_checks(size: str = "large", names: list[str] | None = None, progress: Callable[[str], object] | None = None
               ) -> pd.DataFrame:
    """All (or the named) checks as one table with columns check, expected, got, tolerance, passed."""
    rows = []
    for name in names or list(CHECKS):
        if progress is not None:
            progress(name)
        # The engine's float32 Gumbel draw takes log(0) for u == 0 (probability 2^-24 a draw; that option then gets
        # -inf noise for that draw): harmless here, but at ~1e8 draws numpy warns; keep the table readable.
        with np.errstate(divide="ignore"):
            rows.extend(CHECKS[name](size))
    return pd.DataFrame(rows, columns=["check", "expected", "got", "tolerance", "passed"])
