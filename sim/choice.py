"""The developer's choice rule (design.md section 8) as pure functions of arrays: utilities in, choices out.

U_ij = beta_q Q_j/100 - alpha c_ij / budget_i + gamma ln(1 + share_j / s0) + beta_own sens_i own_j
       - beta_leak sens_i leak_j - trust_seg [j Meta] - S [j != current] + brand_j + mu eps_ij,   eps ~ Gumbel

This is McFadden's conditional logit (McFadden 1974) with a Brock-Durlauf network term (Brock & Durlauf 2001).
Nothing here touches a Model, so it can be checked against the analytic logit and benchmarked alone.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.options import IS_LLAMA, IS_META, IS_SELF, K


@dataclass
class OptionTable:
    """What every option offers this month (arrays of length K); built by the model from the providers."""

    base: np.ndarray  # beta_q Q/100 + gamma network + brand (common to all developers)
    price: np.ndarray  # $/M tokens paid per token (self-hosted: variable cost)
    fixed_cost: np.ndarray  # $/month (self-hosted options), before the capability discount
    ownership: np.ndarray  # weight of the data-ownership value (1 self-hosted open, <1 hosted open, 0 closed)
    leak: np.ndarray  # 1 for a closed API that captures the developer's data
    private_cap: np.ndarray  # largest leak penalty before a private tier is cheaper (inf: no private tier)
    available: np.ndarray  # bool: offered at all this month


@dataclass
class Coefficients:
    alpha: float  # price coefficient, per unit of budget
    budget_per_mtok: float
    beta_own: float
    beta_leak: float
    switching_cost: float
    mu: float
    selfhost_capability: float
    capability_discount: float
    trust_by_segment: np.ndarray  # Meta trust penalty per segment code


def utilities(opt: OptionTable, co: Coefficients, tokens, sensitivity, capability, segment, current,
              license_blocked) -> np.ndarray:
    """Systematic utility V (M x K, float32) of the given developers; -inf where an option is unavailable to them."""
    m = tokens.shape[0]
    inv_budget = (co.alpha / co.budget_per_mtok) / tokens  # alpha / budget_i
    fixed = co.capability_discount * capability
    np.subtract(1.0, fixed, out=fixed)
    fixed *= inv_budget  # alpha F_i / budget_i per unit of the option's fixed cost
    v = np.empty((m, K), dtype=np.float32)
    v[:] = opt.base - (co.alpha / co.budget_per_mtok) * opt.price
    if opt.fixed_cost.any():
        v -= fixed[:, None] * opt.fixed_cost
    sens = sensitivity[:, None]
    v += (co.beta_own * opt.ownership) * sens
    leak = (co.beta_leak * opt.leak) * sens
    np.minimum(leak, opt.private_cap, out=leak)
    v -= leak
    v -= co.trust_by_segment[segment][:, None] * IS_META
    if co.switching_cost:
        stays = current >= 0
        v[stays] -= co.switching_cost
        v[stays, current[stays]] += co.switching_cost
    mask = np.broadcast_to(~opt.available, v.shape).copy()
    mask |= (capability < co.selfhost_capability)[:, None] & IS_SELF
    mask |= license_blocked[:, None] & IS_LLAMA
    v[mask] = -np.inf
    return v


def gumbel(rng: np.random.Generator, shape) -> np.ndarray:
    """Standard Gumbel draws in float32 (inverse CDF), one row per chooser and a column per option always,
    so that paired runs consume identical random streams whatever options exist."""
    u = rng.random(shape, dtype=np.float32)
    np.log(u, out=u)
    np.negative(u, out=u)
    np.log(u, out=u)
    np.negative(u, out=u)
    return u


def sample_choices(v: np.ndarray, mu: float, noise: np.ndarray) -> np.ndarray:
    """Gumbel-max sampling of the logit: argmax_j V_ij + mu eps_ij; -1 for a developer with nothing available."""
    noise *= mu
    noise += v
    pick = noise.argmax(axis=1).astype(np.int8)
    pick[~np.isfinite(v).any(axis=1)] = -1
    return pick


def logit_probabilities(v: np.ndarray, mu: float) -> np.ndarray:
    """Analytic choice probabilities softmax(V / mu) (rows with nothing available are all 0)."""
    z = v / mu
    top = np.max(np.where(np.isfinite(z), z, -np.inf), axis=1, keepdims=True)
    top = np.where(np.isfinite(top), top, 0.0)
    e = np.exp(z - top)
    total = e.sum(axis=1, keepdims=True)
    return np.divide(e, total, out=np.zeros_like(e), where=total > 0)


def logsum(v: np.ndarray, mu: float) -> np.ndarray:
    """Expected maximum utility mu ln sum_j exp(V_ij / mu) (Small & Rosen 1981), the developer-surplus measure."""
    z = v.astype(np.float64) / mu
    top = np.max(z, axis=1, keepdims=True)
    safe = np.where(np.isfinite(top), top, 0.0)
    with np.errstate(divide="ignore"):
        out = mu * (safe[:, 0] + np.log(np.exp(z - safe).sum(axis=1)))
    return out


def bernoulli_indices(rng: np.random.Generator, n: int, p: float) -> np.ndarray:
    """Sorted indices in [0, n), each kept with probability p, drawing ~p n random numbers (geometric gaps)
    instead of n uniforms: random numbers only for the developers who act."""
    if n <= 0 or p <= 0.0:
        return np.empty(0, dtype=np.intp)
    if p >= 1.0:
        return np.arange(n, dtype=np.intp)
    expected = n * p
    chunk = int(expected + 6.0 * np.sqrt(expected * (1 - p)) + 16)
    gaps = rng.geometric(p, size=chunk)
    pos = np.cumsum(gaps) - 1
    parts = [pos]
    while pos[-1] < n - 1:  # rare: the chunk fell short of n
        gaps = rng.geometric(p, size=chunk)
        pos = parts[-1][-1] + np.cumsum(gaps)
        parts.append(pos)
    out = np.concatenate(parts) if len(parts) > 1 else pos
    return out[: np.searchsorted(out, n)]
