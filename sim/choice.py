"""The developer's choice rule (docs/model.md, "Choice") as pure functions of arrays: utilities in, choices out.

U_ij = beta_q Q_j/100 - alpha g(c_ij / c_ref,i) + gamma ln(1 + share_j / s0) + beta_own sens_i own_j
       - beta_leak sens_i leak_j - trust_j,seg - S [j != current] + brand_j + mu eps_ij,   eps ~ Gumbel
U_i0 = u0 + mu eps_i0  (the outside option: leave LLMs; offered to adopters who re-choose)

g is the Box-Cox transform ((x^lambda - 1) / lambda, ln x at lambda = 0) of the bill relative to the firm's reference
bill c_ref,i = tokens_i x the reference price (Gaudry & Wills 1978). With lambda = 0 a 50% price cut is worth
alpha ln 2 in any year, so price competition survives prices falling tenfold a year, and logit-Nash pricing gives a
constant Lerner index; lambda = 1 is the linear cost whose price competition fades as prices fall.
This is McFadden's conditional logit (McFadden 1974) with a Brock-Durlauf network term (Brock & Durlauf 2001).
Nothing here touches a Model, so it can be checked against the analytic logit and benchmarked alone.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from sim import kernels
from sim.catalog import DEFAULT

TINY = np.float32(2.0**-26)
_NO_CHOICES = np.empty(0, np.int8)  # no current options: no switching cost


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
    outside: float = -np.inf  # u0, utility of the outside option (-inf: none)
    is_meta: np.ndarray = field(default_factory=lambda: DEFAULT.IS_META)  # Meta's, from the catalogue
    is_self: np.ndarray = field(default_factory=lambda: DEFAULT.IS_SELF)  # self-hosted (the capability bar)
    licence_bits: np.ndarray = field(default_factory=lambda: DEFAULT.IS_LLAMA.astype(np.uint16))  # MAU clauses
    trust: np.ndarray | None = None  # K x segments distrust penalties; None: Meta's options at co.trust_by_segment

    def __post_init__(self):  # the columns the compiled utilities read: float32 (and bool)
        for name in ("base", "price", "fixed_cost", "ownership", "leak", "private_cap"):
            setattr(self, name, np.asarray(getattr(self, name), dtype=np.float32))
        self.available = np.asarray(self.available, dtype=bool)

    @property
    def k(self) -> int:
        """The number of options."""
        return self.base.size

    def trust_matrix(self, co: Coefficients) -> np.ndarray:
        """The distrust penalty by option and segment (K x segments, float32): the table's own, or, without one,
        Meta's options at ``co.trust_by_segment`` and none elsewhere."""
        if self.trust is not None:
            return self.trust
        return (self.is_meta[:, None] * co.trust_by_segment[None, :]).astype(np.float32)


@dataclass
class Coefficients:
    """The utility weights of the developers' choice, taken from the scenario's ``choice`` section (and self-hosting).

    Built once per run and again after an event edits the scenario (:class:`sim.market.terms.ScenarioTerms`)."""

    alpha: float  # weight of the cost term
    budget_per_mtok: float  # reference price: c_ref,i = tokens_i x this
    beta_own: float
    beta_leak: float
    switching_cost: float
    mu: float
    selfhost_capability: float
    capability_discount: float
    trust_by_segment: np.ndarray  # Meta trust penalty per segment code
    cost_lambda: float = 1.0  # Box-Cox lambda of the cost term (0: log cost)

    def __post_init__(self):
        self.trust_by_segment = np.asarray(self.trust_by_segment, dtype=np.float32)


def box_cox(x, lam: float):
    """g(x) = (x^lambda - 1) / lambda, ln x at lambda = 0 (float32 in, float32 out; x is floored at 1e-12)."""
    x = np.maximum(x, np.float32(1e-12))
    if lam == 0.0:
        return np.log(x)
    return (np.power(x, np.float32(lam)) - np.float32(1.0)) / np.float32(lam)


def cost_term(opt: OptionTable, co: Coefficients, j: int, per_fixed) -> np.ndarray | float:
    """alpha g(c_ij / c_ref,i) of option j: a constant unless the option has a fixed cost, whose share of the bill
    depends on the firm (``per_fixed`` = (1 - discount cap_i) / (tokens_i p_ref))."""
    x = np.float32(opt.price[j] / co.budget_per_mtok)
    if opt.fixed_cost[j]:
        x = per_fixed * np.float32(opt.fixed_cost[j]) + x
    return np.float32(co.alpha) * box_cox(x, co.cost_lambda)


def fixed_share(co: Coefficients, tokens, capability) -> np.ndarray:
    """(1 - discount cap_i) / (tokens_i p_ref): a firm's fixed self-hosting cost per dollar of its reference bill."""
    out = np.float32(co.capability_discount) * capability
    np.subtract(np.float32(1.0), out, out=out)
    out /= tokens
    out /= np.float32(co.budget_per_mtok)
    return out.astype(np.float32, copy=False)


def utilities(opt: OptionTable, co: Coefficients, tokens, sensitivity, capability, segment, current,
              license_blocked, outside_ok=None) -> np.ndarray:
    """Systematic utility V (M x K, float32) of the given developers; -inf where an option is unavailable to them.
    With ``outside_ok`` (bool per developer) a last column holds the outside option (u0, or -inf where not offered).
    """
    m = tokens.shape[0]
    per_fixed = fixed_share(co, tokens, capability)
    v = np.empty((m, opt.k), dtype=np.float32)
    v[:] = opt.base
    for j in range(opt.k):
        v[:, j] -= cost_term(opt, co, j, per_fixed)
    sens = sensitivity[:, None]
    v += (co.beta_own * opt.ownership) * sens
    leak = (co.beta_leak * opt.leak) * sens
    np.minimum(leak, opt.private_cap, out=leak)
    v -= leak
    v -= opt.trust_matrix(co).T[segment]
    if co.switching_cost:
        stays = current >= 0
        v[stays] -= co.switching_cost
        v[stays, current[stays]] += co.switching_cost
    mask = np.broadcast_to(~opt.available, v.shape).copy()
    mask |= (capability < co.selfhost_capability)[:, None] & opt.is_self
    mask |= (license_blocked[:, None] & opt.licence_bits) != 0
    v[mask] = -np.inf
    if outside_ok is not None:  # leaving is moving off the current option: it costs S too
        u0 = np.float32(opt.outside) - np.where(current >= 0, np.float32(co.switching_cost), np.float32(0.0))
        v = np.column_stack([v, np.where(outside_ok, u0, -np.inf).astype(np.float32)])
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
                 license_blocked, uniforms: np.ndarray, outside_ok=None) -> np.ndarray:
    """The logit choice argmax_j V_ij + mu eps_ij of :func:`utilities` and :func:`sample_choices`, for the hot path.

    ``uniforms`` (float32 on [0, 1), option-major (K + 1) x M: row j holds option j's draw for every chooser, row K
    the outside option's, whether or not they are available, so paired runs use the same numbers) is overwritten:
    it becomes mu eps with eps = -ln(-ln U) the standard Gumbel of :func:`gumbel`, then :func:`add_utilities` adds V
    in place and a compiled pass takes each chooser's first best offered option (:func:`sim.kernels.pick_best`).
    ``outside_ok`` (bool per chooser, or None for nobody) says who may take the outside option. Returns int8 picks,
    -1 where the outside option wins or nothing is available.
    """
    z = uniforms
    offer_outside = outside_ok is not None and np.isfinite(opt.outside) and bool(outside_ok.any())
    offered = np.append(opt.available, offer_outside)
    rows = np.flatnonzero(offered)
    if rows.size:  # from the first offered row to the last: a row between them not offered is never read after
        block = z[rows[0]:rows[-1] + 1]
        block += TINY  # U + 2^-26 > 0: moves only U < 1/4, by a quarter of their spacing, and never reaches 1
        np.log(block, out=block)
        np.negative(block, out=block)
        np.log(block, out=block)
        block *= np.float32(-co.mu)
    add_utilities(z[:opt.k], opt, co, tokens, sensitivity, capability, segment, current, license_blocked)
    if outside_ok is None:
        outside_ok = np.zeros(z.shape[1], dtype=bool)
    return kernels.pick_best(z, offered, np.float32(opt.outside), outside_ok)


def nested_logit_choice(opt: OptionTable, co: Coefficients, tokens, sensitivity, capability, segment, current,
                        license_blocked, uniforms: np.ndarray, nest_uniforms: np.ndarray, nest_of: np.ndarray,
                        lam: float, outside_ok=None) -> np.ndarray:
    """The nested logit by model family (McFadden 1978): options of one family share a nest with dissimilarity
    ``lam`` in (0, 1], the outside option is a nest of its own. A family's routes (hosted, self-hosted) are close
    substitutes, so a new route or a family split in two draws share mostly from its own family, not from every
    option alike (the plain logit's IIA); ``lam`` = 1 is the plain logit.

    Sampled exactly in two stages, each a Gumbel-max: the nest by its inclusive value IV_f = lam ln sum_{j in f}
    exp(V_j / (mu lam)) (V / mu for the outside option) plus a standard Gumbel from ``nest_uniforms`` (one row per
    nest, the last for the outside option), then the option within the nest by V_j / (mu lam) plus a standard Gumbel
    from ``uniforms`` (rows as :func:`logit_choice` reads them). Returns int8 picks, -1 for the outside option or
    nothing available."""
    v = np.zeros((opt.k, tokens.shape[0]), dtype=np.float32)
    add_utilities(v, opt, co, tokens, sensitivity, capability, segment, current, license_blocked)
    if outside_ok is None:
        outside_ok = np.zeros(v.shape[1], dtype=bool)
    return kernels.nested_pick(v, nest_of, int(nest_of.max()) + 1, float(lam), float(co.mu), uniforms,
                               nest_uniforms, float(opt.outside), outside_ok)


def nested_logsum(v: np.ndarray, mu: float, nest_of: np.ndarray, lam: float) -> np.ndarray:
    """Expected maximum utility under the nested logit, mu ln sum_f exp(IV_f) (options along axis 0, as
    :func:`add_utilities` writes them); :func:`logsum` when ``lam`` = 1."""
    if lam == 1.0:
        return logsum(v, mu, axis=0)
    nests = np.array([logsum(v[nest_of == f], mu * lam, axis=0) for f in range(int(nest_of.max()) + 1)])
    return logsum(nests, mu, axis=0)  # each nest's log-sum is mu IV_f in utility units


def add_utilities(z: np.ndarray, opt: OptionTable, co: Coefficients, tokens, sensitivity, capability, segment,
                  current, license_blocked) -> None:
    """Add V_ij of :func:`utilities` to z (K x M, option-major: row j is option j for every developer), in place.

    Compiled passes (:mod:`sim.kernels`) compute the relative bills and add the terms; only the Box-Cox transform of
    the bills runs here, in numpy (:func:`box_cox`), so its float32 logarithms are numpy's. One difference from
    :func:`utilities`: the switching cost S is added to the current option instead of subtracted from all the others,
    which shifts a developer's utilities by the constant S and so changes no choice. ``current`` may be None (no
    switching cost, as for the surplus).
    """
    tokens, sensitivity, capability = (np.asarray(a, dtype=np.float32) for a in (tokens, sensitivity, capability))
    bills = kernels.bills(opt.price, opt.fixed_cost, tokens, capability, np.float32(co.budget_per_mtok),
                          np.float32(co.capability_discount))
    cost = np.float32(co.alpha) * box_cox(bills, co.cost_lambda)  # alpha g, as cost_term: numpy's float32 logs
    trust = opt.trust_matrix(co)
    kernels.add_utilities(
        z, opt.base, cost, opt.fixed_cost, opt.available, opt.ownership, opt.leak, opt.private_cap,
        np.float32(co.beta_own), np.float32(co.beta_leak), trust, (trust != 0).any(axis=1), segment, sensitivity,
        opt.is_self, capability, np.float32(co.selfhost_capability), opt.licence_bits,
        np.asarray(license_blocked, dtype=np.uint16),
        _NO_CHOICES if current is None else current, np.float32(0.0 if current is None else co.switching_cost))


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
    total = np.exp(z - safe).sum(axis=axis)
    logs = np.log(total, out=np.full(total.shape, -np.inf), where=total > 0)  # nothing available: -inf, no warning
    return mu * (np.squeeze(safe, axis=axis) + logs)


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
    chunk = int(expected + 6.0 * math.sqrt(expected * (1 - p)) + 16)
    scale = 1.0 / math.log1p(-p)
    parts = [kernels.geometric_positions(rng.random(chunk), scale, n, -1)]
    while parts[-1][-1] < n - 1:  # one chunk almost always suffices
        parts.append(kernels.geometric_positions(rng.random(chunk), scale, n, int(parts[-1][-1])))
    out = np.concatenate(parts) if len(parts) > 1 else parts[0]
    return out[: np.searchsorted(out, n)]
