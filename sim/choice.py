"""The developer's choice rule (docs/model.md) as pure functions of arrays: utilities in, choices out.

U_ij = beta_q Q_j/100 - alpha c_ij / budget_i + gamma ln(1 + share_j / s0) + beta_own sens_i own_j
       - beta_leak sens_i leak_j - trust_seg [j Meta] - S [j != current] + brand_j + mu eps_ij,   eps ~ Gumbel

This is McFadden's conditional logit (McFadden 1974) with a Brock-Durlauf network term (Brock & Durlauf 2001).
Nothing here touches a Model, so it can be checked against the analytic logit and benchmarked alone.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.options import IS_LLAMA, IS_META, IS_SELF, K

TINY = np.float32(2.0**-26)
_IS_META, _IS_SELF, _IS_LLAMA = IS_META.tolist(), IS_SELF.tolist(), IS_LLAMA.tolist()


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
    """Standard Gumbel draws in float32 (inverse CDF), a fixed number per chooser whatever options exist, so that
    paired runs consume identical random streams. U is shifted by 2^-26 so that U = 0 cannot give -inf."""
    u = rng.random(shape, dtype=np.float32)
    u += TINY
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


def logit_choice(opt: OptionTable, co: Coefficients, tokens, sensitivity, capability, segment, current,
                 license_blocked, uniforms: np.ndarray) -> np.ndarray:
    """The logit choice argmax_j V_ij + mu eps_ij of :func:`utilities` and :func:`sample_choices`, for the hot path.

    ``uniforms`` (float32 on [0, 1), option-major K x M: row j holds option j's draw for every chooser, whether or not
    j is available, so paired runs use the same numbers) is overwritten: each available row becomes mu eps with
    eps = -ln(-ln U) the standard Gumbel of :func:`gumbel`, then :func:`add_utilities` adds V in place and a pairwise
    tournament (:func:`argmax_rows`) takes the argmax. Returns int8 picks, -1 where nothing is available.
    """
    z = uniforms
    scale = np.float32(-co.mu)
    for j, offered in enumerate(opt.available.tolist()):
        if offered:
            row = z[j]
            row += TINY  # U + 2^-26 > 0: moves only U < 1/4, by a quarter of their spacing, and never reaches 1
            np.log(row, out=row)
            np.negative(row, out=row)
            np.log(row, out=row)
            row *= scale
    add_utilities(z, opt, co, tokens, sensitivity, capability, segment, current, license_blocked)
    best, pick = argmax_rows(z)
    pick[best == -np.inf] = -1
    return pick


def add_utilities(z: np.ndarray, opt: OptionTable, co: Coefficients, tokens, sensitivity, capability, segment,
                  current, license_blocked) -> None:
    """Add V_ij of :func:`utilities` to z (K x M, option-major: row j is option j for every developer), in place.

    Option by option, so a developer-specific term touches only the options it concerns (fixed cost: self-hosted;
    ownership: open; leak: closed; trust: Meta) and every step is a contiguous, branch-free pass over one row while it
    is in cache (masks are added as 0 / -inf; unavailable rows are set to -inf). One difference from
    :func:`utilities`: the switching cost S is added to the current option instead of subtracted from all the others,
    which shifts a developer's utilities by the constant S and so changes no choice. ``current`` may be None (no
    switching cost, as for the surplus).
    """
    m = z.shape[1]
    a = co.alpha / co.budget_per_mtok
    avail = opt.available.tolist()
    common = (opt.base - np.float32(a) * opt.price).astype(np.float32).tolist()
    fixed, cap = opt.fixed_cost.tolist(), opt.private_cap.tolist()
    own = (co.beta_own * opt.ownership).astype(np.float32).tolist()
    leak = (co.beta_leak * opt.leak).astype(np.float32).tolist()
    trust = np.asarray(co.trust_by_segment, dtype=np.float32)
    switching = float(co.switching_cost) if current is not None else 0.0
    tmp = np.empty(m, dtype=np.float32)
    per_fixed = by_dev = barred_self = barred_llama = None  # per-developer terms, built when first needed
    for j in range(z.shape[0]):
        row = z[j]
        if not avail[j]:
            row[:] = -np.inf
            continue
        row += common[j]
        if fixed[j]:
            if per_fixed is None:  # a (1 - discount cap_i) / tokens_i, times the option's fixed cost
                per_fixed = np.float32(co.capability_discount) * capability
                np.subtract(1.0, per_fixed, out=per_fixed)
                per_fixed *= np.float32(a)
                per_fixed /= tokens
            row -= np.multiply(per_fixed, fixed[j], out=tmp)
        if own[j]:
            row += np.multiply(sensitivity, own[j], out=tmp)
        if leak[j]:
            np.multiply(sensitivity, leak[j], out=tmp)
            if cap[j] != np.inf:
                np.minimum(tmp, cap[j], out=tmp)
            row -= tmp
        if _IS_META[j] and trust.any():
            if by_dev is None:  # sum_s trust_s [segment = s]: cheaper than a gather
                by_dev = np.zeros(m, dtype=np.float32)
                for s in np.flatnonzero(trust).tolist():
                    by_dev += np.multiply((segment == s).view(np.uint8), trust[s], dtype=np.float32, out=tmp)
            row -= by_dev
        if switching:
            row += np.multiply((current == j).view(np.uint8), switching, dtype=np.float32, out=tmp)
        if _IS_SELF[j]:
            if barred_self is None:
                barred_self = minus_inf_where(capability < co.selfhost_capability)
            row += barred_self
        if _IS_LLAMA[j]:
            if barred_llama is None:
                barred_llama = minus_inf_where(license_blocked) if license_blocked.any() else False
            if barred_llama is not False:
                row += barred_llama


def minus_inf_where(mask: np.ndarray) -> np.ndarray:
    """float32 -inf where ``mask``, 0 elsewhere, built from the bit pattern of -inf (no branchy masked writes)."""
    return (mask.astype(np.uint32) * np.uint32(0xFF800000)).view(np.float32)


def argmax_rows(z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Column-wise max of z (K x M) and the index of its first occurrence (int8), by a pairwise tournament over rows:
    about 3 contiguous passes per row instead of numpy's per-column argmax over a short axis. Leaves z intact."""
    # Each entry: (values, index, owned) with index an int for a constant row index and owned False for views of z.
    entries = [(row, j, False) for j, row in enumerate(z)]
    while len(entries) > 1:
        merged = []
        for (va, ia, own_a), (vb, ib, own_b) in zip(entries[::2], entries[1::2], strict=False):
            later = vb > va  # ties keep the lower index, as argmax does
            if isinstance(ia, int) and isinstance(ib, int):
                i = later.astype(np.int8)
                if ib - ia != 1:
                    i *= np.int8(ib - ia)
                if ia:
                    i += np.int8(ia)
            else:  # ia + later (ib - ia), branch-free
                i = np.subtract(ib, ia, dtype=np.int8)
                i *= later
                i += ia
            out = va if own_a else (vb if own_b else None)
            merged.append((np.maximum(va, vb, out=out), i, True))
        if len(entries) % 2:
            merged.append(entries[-1])
        entries = merged
    best, pick, _ = entries[0]
    if isinstance(pick, int):
        pick = np.full(z.shape[1], pick, dtype=np.int8)
    return best, pick


def logit_probabilities(v: np.ndarray, mu: float) -> np.ndarray:
    """Analytic choice probabilities softmax(V / mu) (rows with nothing available are all 0)."""
    z = v / mu
    top = np.max(np.where(np.isfinite(z), z, -np.inf), axis=1, keepdims=True)
    top = np.where(np.isfinite(top), top, 0.0)
    e = np.exp(z - top)
    total = e.sum(axis=1, keepdims=True)
    return np.divide(e, total, out=np.zeros_like(e), where=total > 0)


def logsum(v: np.ndarray, mu: float, axis: int = 1) -> np.ndarray:
    """Expected maximum utility mu ln sum_j exp(V_ij / mu) (Small & Rosen 1981), the developer-surplus measure;
    options along ``axis`` (1 for M x K utilities, 0 for the option-major K x M of :func:`add_utilities`)."""
    z = v.astype(np.float64) / mu
    top = np.max(z, axis=axis, keepdims=True)
    safe = np.where(np.isfinite(top), top, 0.0)
    with np.errstate(divide="ignore"):
        out = mu * (np.squeeze(safe, axis=axis) + np.log(np.exp(z - safe).sum(axis=axis)))
    return out


def bernoulli_indices(rng: np.random.Generator, n: int, p: float) -> np.ndarray:
    """Sorted indices in [0, n), each kept with probability p, drawing ~p n random numbers (geometric gaps)
    instead of n uniforms: random numbers only for the developers who act.

    Gaps are Geometric(p) by inversion, 1 + floor(ln U / ln(1 - p)) with U uniform on (0, 1], vectorized in float64
    (numpy's own geometric sampler runs a scalar loop, several times slower)."""
    if n <= 0 or p <= 0.0:
        return np.empty(0, dtype=np.intp)
    if p >= 1.0:
        return np.arange(n, dtype=np.intp)
    expected = n * p
    chunk = int(expected + 6.0 * np.sqrt(expected * (1 - p)) + 16)
    scale = 1.0 / np.log1p(-p)
    parts, last = [], -1
    while last < n - 1:  # one chunk almost always suffices
        u = rng.random(chunk)
        np.subtract(1.0, u, out=u)
        np.log(u, out=u)
        u *= scale
        np.minimum(u, n, out=u)  # a gap past n ends the draw anyway; keeps the cast in range for tiny p
        gaps = u.astype(np.intp)
        gaps += 1
        pos = np.cumsum(gaps)
        pos += last
        parts.append(pos)
        last = int(pos[-1])
    out = np.concatenate(parts) if len(parts) > 1 else parts[0]
    return out[: np.searchsorted(out, n)]
