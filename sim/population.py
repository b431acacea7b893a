"""The developer population as struct-of-arrays (docs/model.md), drawn once from the model's rng.

Each developer is a firm or team building on LLMs. Arrays are float32/int8 to keep memory under ~30 bytes per firm;
nothing here loops over developers. :class:`Tally` keeps the counts by option up to date from the firms that move.
"""

from __future__ import annotations

import dataclasses
import functools
import threading
from dataclasses import dataclass, field
from types import SimpleNamespace

import numpy as np

from sim import kernels
from sim.catalog import DEFAULT
from sim.config import SEGMENTS, Population

SEGMENT_CODE = {name: i for i, name in enumerate(SEGMENTS)}
N_SEG = len(SEGMENTS)
PACKED = ("tokens", "sensitivity", "capability", "volume")  # float32 attributes read together for every chooser
POPULATION_STREAMS = ("segment", "size", "giants", "sensitivity", "capability", "task")  # children of its rng


@dataclass
class Developers:
    """Firm attributes (fixed) and state (choice, month it was made). ``choice`` is -1 for a firm that has not adopted.

    ``months_on_choice`` is derived from ``chosen_at`` and ``clock`` (the current month, set by the model) rather than
    stored, so that ageing every adopter by a month costs nothing.
    """

    segment: np.ndarray  # int8 index into SEGMENTS
    mau: np.ndarray  # float32, monthly active users of the firm's products
    tokens: np.ndarray  # float32, M tokens per month of one such firm (drives its budget and self-hosting case)
    volume: np.ndarray  # float32, M tokens per month of all the real firms this row stands for (for the ledgers)
    weight: np.ndarray  # float32, real firms this row stands for (1 in the heavy tail and for named giants)
    sensitivity: np.ndarray  # float32 in [0, 1], value of keeping data and owning a tuned model
    capability: np.ndarray  # float32 in [0, 1], ability to self-host and fine-tune
    choice: np.ndarray  # int8 option index, -1 = not adopted
    chosen_at: np.ndarray  # int16 month the firm last changed option (adopting counts as a change)
    task: np.ndarray | None = None  # int8: 1 for a firm whose main work is agentic / coding, 0 for general work
    body_rows: int = 0  # rows [0, body_rows) sample the body (in strata of token use); the rest have weight 1
    clock: int = 0  # current month
    _packed: np.ndarray | None = field(default=None, repr=False)  # N x 4 float32 copy of PACKED, built on first use

    @property
    def n(self) -> int:
        """The number of firms in the population (rows of every per-firm array)."""
        return self.segment.shape[0]

    def attributes_of(self, who: np.ndarray, license_blocked: np.ndarray, usage: float = 1.0,
                      codes: np.ndarray | None = None, growth: float = 1.0) -> tuple[np.ndarray, ...]:
        """(tokens x usage, sensitivity, capability, volume, weight, group code, segment, licence block) of the firms
        ``who``, as contiguous arrays, in one compiled pass (:func:`sim.kernels.gather`). ``codes`` replaces the
        segment codes read (two tasks: the (segment, task) group, segment + N_SEG for agentic work), and an agentic
        firm's tokens are also multiplied by ``growth`` (its faster token growth).

        Choosers are scattered over the population, so reading four separate float arrays costs four cache misses a
        firm; one 16-byte row of a packed copy of these fixed attributes (built on first use) costs one."""
        return kernels.gather(who, self.packed(), self.weight, self.segment if codes is None else codes,
                              license_blocked, np.float32(usage), np.float32(growth), N_SEG)

    def packed(self) -> np.ndarray:
        """The N x 4 float32 copy of the PACKED attributes (built on first use)."""
        if self._packed is None:
            self._packed = np.stack([getattr(self, name) for name in PACKED], axis=1)
            self._packed.flags.writeable = False
        return self._packed

    @property
    def months_on_choice(self) -> np.ndarray:
        """Months since the firm last changed option (int16; 0 for firms that have not adopted)."""
        months = (self.clock - self.chosen_at).astype(np.int16)
        months[self.choice < 0] = 0
        return months


class Tally:
    """Real firms by (option + 1, segment), rows by option + 1, and M tokens (market volume) by option, kept current
    as firms move.

    Recounting a million firms each month costs more than all the month's choices; only movers change the counts, so
    each logit draw adds their transitions in O(movers) (:func:`sim.kernels.settle_and_count`, which settles the
    picks and moves these arrays in place in one compiled call). Firm and token sums are float64 (rows carry
    weights); an option with no row is reset to exactly 0 so that additions and removals leave no rounding residue
    behind. The model moves firms only through :meth:`sim.market.developers.DeveloperMarket.pick`; code that edits
    ``Developers.choice`` directly must rebuild the tally.
    """

    def __init__(self, devs: Developers, k: int = DEFAULT.K):
        code = devs.choice.astype(np.intp) + 1
        self.users_seg = np.bincount(code * N_SEG + devs.segment, weights=devs.weight.astype(np.float64),
                                     minlength=(k + 1) * N_SEG).reshape(k + 1, N_SEG)
        self.rows = np.bincount(code, minlength=k + 1)
        self.tokens = np.bincount(code, weights=devs.volume, minlength=k + 1)[1:]
        self.total = float(devs.weight.astype(np.float64).sum())

    @property
    def adopters(self) -> float:
        """Real firms that have adopted."""
        return self.total - float(self.users_seg[0].sum())


_Z = np.linspace(-8.0, 8.0, 4001)  # grid of the standard-normal token noise for the stratum integrals
_PHI = np.exp(-0.5 * _Z**2) / np.sqrt(2.0 * np.pi)
_DZ = _Z[1] - _Z[0]
_GRID_CDFS: dict[tuple[float, ...], np.ndarray] = {}  # _Sizes.grid_cdf by settings and stratum bounds


class _Sizes:
    """Firm size and token noise as one token index, Y = eta L + sigma z (tokens = scale m0^eta e^(Y - sigma^2/2)).

    L = ln(mau / m0) is Exp(a) capped at Lc = ln(cap / m0) (Pareto sizes with the cap's mass at the cap) and z is
    standard normal. A firm is in the tail when Y > y, i.e. when L > l0(z) = (y - sigma z) / eta, so the strata
    split on a firm's token use, size and noise together: a body row can never be a large token user. Integrals
    over z run on a fixed grid; those over L are closed forms of the exponential."""

    def __init__(self, cfg: Population):
        self.a, self.eta, self.sigma = cfg.mau_tail, max(cfg.tokens_exponent, 1e-12), cfg.tokens_sigma
        self.lc = max(np.log(cfg.mau_cap / cfg.mau_min), 0.0)

    def l0(self, y: float, z: np.ndarray) -> np.ndarray:
        """The size threshold ln(mau / m0) above which a firm with noise z is in the tail."""
        return (y - self.sigma * z) / self.eta

    def survival(self, l0: np.ndarray) -> np.ndarray:
        """P(L > l0)."""
        return np.where(l0 < 0, 1.0, np.where(l0 < self.lc, np.exp(-self.a * np.clip(l0, 0.0, self.lc)), 0.0))

    def moment_above(self, l0: np.ndarray, power: float) -> np.ndarray:
        """E[e^(power eta L); L > l0]: the integral of a e^((power eta - a) l) from max(l0, 0) to Lc plus the cap's
        mass."""
        k, lo = power * self.eta - self.a, np.clip(l0, 0.0, self.lc)
        width = self.lc - lo
        part = np.exp(k * lo) * (np.expm1(k * width) / k if abs(k) > 1e-12 else width)
        return np.where(l0 < self.lc, self.a * part + np.exp(k * self.lc), 0.0)

    def density(self, lo: float, hi: float) -> np.ndarray:
        """The density of z on the grid jointly with lo < Y <= hi."""
        return _PHI * (self.survival(self.l0(lo, _Z)) - self.survival(self.l0(hi, _Z)))

    def prob(self, lo: float, hi: float) -> float:
        """P(lo < Y <= hi)."""
        return float(self.density(lo, hi).sum() * _DZ)

    def moment(self, lo: float, hi: float, power: float) -> float:
        """E[e^(power Y); lo < Y <= hi] (power 1: expected tokens up to a common factor, 2: their second moment)."""
        weight = _PHI * np.exp(power * self.sigma * _Z)
        between = self.moment_above(self.l0(lo, _Z), power) - self.moment_above(self.l0(hi, _Z), power)
        return float((weight * between).sum() * _DZ)

    def tail_prob(self, y: float) -> float:
        return self.prob(y, np.inf)

    def tail_tokens(self, y: float) -> float:
        """Share of expected tokens carried by firms with Y > y."""
        return self.moment(y, np.inf, 1.0) / self.moment(-np.inf, np.inf, 1.0)

    def bounds(self) -> tuple[float, float]:
        return -8.0 * self.sigma - 1.0, self.eta * self.lc + 8.0 * self.sigma + 1.0

    def grid_cdf(self, lo: float, hi: float) -> np.ndarray:
        """The unnormalised CDF of z on the grid jointly with lo < Y <= hi (trapezoids), kept for the next draw
        with the same settings: it depends on no random number, and each replicate's draw needs it again."""
        key = (self.a, self.eta, self.sigma, self.lc, lo, hi)
        cdf = _GRID_CDFS.get(key)
        if cdf is None:
            dens = self.density(lo, hi)
            cdf = np.concatenate(([0.0], np.cumsum(0.5 * (dens[1:] + dens[:-1]))))
            cdf.flags.writeable = False
            if len(_GRID_CDFS) >= 256:
                _GRID_CDFS.clear()
            _GRID_CDFS[key] = cdf
        return cdf

    def draw(self, lo: float, hi: float, u: np.ndarray, v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(L, z) of firms with lo < Y <= hi from two uniforms per firm: z by inverting its conditional distribution
        on the grid, then L given z by inverting the survival of the capped exponential between the two bounds."""
        cdf = self.grid_cdf(lo, hi)
        z = np.interp(u * cdf[-1], cdf, _Z)
        s_lo, s_hi = self.survival(self.l0(lo, z)), self.survival(self.l0(hi, z))
        q = s_lo - v * (s_lo - s_hi)  # P(L > l) of the drawn L; at or below e^(-a Lc): the cap
        np.maximum(q, 1e-300, out=q)
        lsize = np.log(q)
        lsize *= -1.0 / self.a
        return np.clip(lsize, 0.0, self.lc, out=lsize), z


def _bisect(f, lo: float, hi: float, target: float) -> float:
    """Smallest y in [lo, hi] with f(y) <= target, for f falling in y."""
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if f(mid) > target else (lo, mid)
    return hi


def tail_cut(cfg: Population, firms: float, n_rows: int) -> float:
    """Token use (M tokens/month, before usage growth) above which firms are simulated one row per real firm
    (stratified sampling, Cochran 1977).

    The cut is set so that the firms above it carry ``tail_token_share`` of expected tokens (Pareto sizes with the
    cap's mass at the cap, tokens ~ mau^eta with lognormal noise), then raised if the tail would take more than
    ``tail_rows_max`` of the rows. Returns inf (no tail) when the share is 0. Cutting on tokens rather than size
    keeps the largest token users out of the body, where one row with a large noise draw would stand for hundreds of
    firms."""
    if cfg.tail_token_share <= 0:
        return float("inf")
    y = _plan(*(getattr(cfg, k) for k in _PLAN_FIELDS), firms, n_rows)[1][-1][0]  # the tail stratum's lower cut
    return float(_token_scale(cfg) * np.exp(y - 0.5 * cfg.tokens_sigma**2))


def _token_scale(cfg: Population) -> float:
    return cfg.tokens_per_mau * cfg.mau_min**cfg.tokens_exponent


def _index_cut(cfg: Population, sizes: _Sizes, firms: float, n_rows: int) -> float:
    """The cut on the token index Y (see :func:`tail_cut`); inf when there is no tail."""
    if cfg.tail_token_share <= 0:
        return np.inf
    lo, hi = sizes.bounds()
    y = _bisect(sizes.tail_tokens, lo, hi, cfg.tail_token_share)
    most = cfg.tail_rows_max * n_rows
    if firms * sizes.tail_prob(y) > most:
        y = _bisect(lambda x: firms * sizes.tail_prob(x), y, hi, max(most, 1.0))
    return y


def _stratified(rng: np.random.Generator, n: int, ordered: bool = False) -> np.ndarray:
    """n uniforms, one in each 1/n slice of [0, 1): in random order (a Latin-hypercube margin), or ascending."""
    u = np.arange(n, dtype=np.float64)
    if not ordered:
        rng.shuffle(u)
    u += rng.random(n)
    u /= max(n, 1)
    return u


BODY_STRATA = 4  # body strata of token use below the tail's cut
BODY_STRATUM_WIDTH = 1.5  # their width in log token use (a factor e^1.5 = 4.5)


def body_strata(sizes: _Sizes, y: float, firms: float, rows: int) -> list[tuple[float, float, float, int]]:
    """(lower, upper cut on Y, real firms, rows) of each body stratum, the smallest token users first.

    The body is split by token use, [.., y - 3w], (y - 3w, y - 2w], ... (y - w, y], and its rows allocated half in
    proportion to firms (firm counts such as the adopted share and user shares stay about as precise as with one
    stratum: their variance rises by a third at most) and half by Neyman allocation on token volume (rows where the
    second moment of tokens is, Cochran 1977 §5.5), so the few heavier body firms are sampled finely and token
    shares do not swing with a handful of rows. Without a tail (``tail_token_share`` 0) the body is one stratum of
    equal weights."""
    if not np.isfinite(y) or rows < 4 * BODY_STRATA:
        return [(-np.inf, y, firms, rows)]
    cuts = [-np.inf, *(y - BODY_STRATUM_WIDTH * k for k in range(BODY_STRATA - 1, 0, -1)), y]
    bounds = list(zip(cuts[:-1], cuts[1:], strict=True))
    p = np.array([sizes.prob(lo, hi) for lo, hi in bounds])
    spread = p * np.sqrt([sizes.moment(lo, hi, 2.0) / max(q, 1e-300) for (lo, hi), q in zip(bounds, p, strict=True)])
    share = 0.5 * p / p.sum() + 0.5 * spread / spread.sum()
    n_h = np.maximum(np.floor(share * rows).astype(int), 1)  # largest remainder, every stratum at least one row
    n_h[np.argmax(share * rows - n_h)] += rows - n_h.sum()
    return [(lo, hi, firms * q / p.sum(), int(m)) for (lo, hi), q, m in zip(bounds, p, n_h, strict=True)]


_PLAN_FIELDS = ("mau_tail", "tokens_exponent", "tokens_sigma", "mau_cap", "mau_min", "tail_token_share",
                "tail_rows_max")


@functools.lru_cache(maxsize=64)
def _plan(mau_tail, tokens_exponent, tokens_sigma, mau_cap, mau_min, tail_token_share, tail_rows_max,
          firms: float, rows: int) -> tuple[int, tuple]:
    """(body rows, strata) of a population: the tail's cut and the body strata depend only on these numbers, not on
    the draw, and their integrals cost more than a small run's whole draw, so sweeps and games that repeat a
    population compute them once per process."""
    cfg = SimpleNamespace(mau_tail=mau_tail, tokens_exponent=tokens_exponent, tokens_sigma=tokens_sigma,
                          mau_cap=mau_cap, mau_min=mau_min, tail_token_share=tail_token_share,
                          tail_rows_max=tail_rows_max)
    sizes = _Sizes(cfg)
    y = _index_cut(cfg, sizes, firms, rows)
    n_tail = int(min(round(firms * sizes.tail_prob(y)), max(rows - 1, 0))) if np.isfinite(y) else 0
    n_body = rows - n_tail
    return n_body, (*body_strata(sizes, y, firms - n_tail, n_body), (y, np.inf, float(n_tail), n_tail))


_SHARED: dict = {}  # (stream, population settings) -> a drawn population, for paired runs (most recent last)
_SHARED_ROWS = 1_000_000  # rows kept beyond the last two draws (~45 B a row): a game's replicates at 20k fit
_SHARED_LOCK = threading.Lock()


def shared_population(cfg: Population, rng: np.random.Generator) -> Developers:
    """:func:`draw_population`, reusing the draw of a recent run with the same population stream (the seed sequence
    ``rng`` was spawned from) and settings: paired runs (every Meta strategy, game profile or policy of one seed)
    share their population anyway, and the draw costs as much as several months of a small run. The last draws are
    kept up to a million rows (always the last two). The fixed attributes are shared read-only; each run gets its own
    state (choice, chosen_at). A stand-in for a Generator is drawn from directly."""
    seq = getattr(getattr(rng, "bit_generator", None), "seed_seq", None)
    if not isinstance(seq, np.random.SeedSequence):
        return draw_population(cfg, rng)
    key = (seq.entropy, seq.spawn_key, cfg.model_dump_json())
    with _SHARED_LOCK:  # a Dask worker may run several runs on threads
        drawn = _SHARED.get(key)
    if drawn is None:
        drawn = draw_population(cfg, rng)
        drawn.packed()  # built once for every run that shares the draw
        for name in (*PACKED, "segment", "mau", "weight"):
            getattr(drawn, name).flags.writeable = False
    with _SHARED_LOCK:
        _SHARED.pop(key, None)
        _SHARED[key] = drawn  # most recent last
        while len(_SHARED) > 2 and sum(d.n for d in _SHARED.values()) > _SHARED_ROWS:
            del _SHARED[next(iter(_SHARED))]
    return dataclasses.replace(drawn, choice=drawn.choice.copy(), chosen_at=drawn.chosen_at.copy(), clock=0)


def _token_use(cfg: Population, mau: np.ndarray, noise: np.ndarray, task: np.ndarray) -> np.ndarray:
    """M tokens a month of each firm: scale x mau^eta x lognormal noise (mean 1), times the agentic intensity for a
    firm whose work is agentic (float32, at least 1e-6)."""
    tokens = (cfg.tokens_per_mau * mau.astype(np.float64) ** cfg.tokens_exponent
              * np.exp(cfg.tokens_sigma * noise - 0.5 * cfg.tokens_sigma**2)).astype(np.float32)
    np.maximum(tokens, np.float32(1e-6), out=tokens)
    if cfg.tasks.agentic_share > 0 and cfg.tasks.agentic_token_intensity != 1.0:
        tokens = np.where(task == 1, tokens * np.float32(cfg.tasks.agentic_token_intensity), tokens)
    return tokens


def draw_population(cfg: Population, rng: np.random.Generator) -> Developers:
    """Zipf-like firm sizes (Axtell 2001), tokens ~ mau^eta with lognormal noise, Beta data sensitivity per segment.

    Stratified: the named giants (Google, Apple, ... all above 700M MAU in 2023) take the last rows and firms whose
    token use is above :func:`tail_cut` take one row each (weight 1); the remaining rows sample the body below the
    cut in strata of token use (:func:`body_strata`), each row standing for its stratum's firms / rows real firms.
    Within each stratum, segments,
    sizes and token noise come from stratified uniforms (one per 1/n slice, randomly paired): every row still has the
    exact distribution of its stratum, but the rows spread over it evenly, so a replicate's population does not hinge
    on how many draws land in the far tail.
    """
    n = cfg.n
    shares = np.array([getattr(cfg.segments, s) for s in SEGMENTS])
    giants = cfg.giants[: n]
    g = len(giants)
    firms = cfg.represents - g
    sizes = _Sizes(cfg)
    n_body, strata = _plan(*(getattr(cfg, k) for k in _PLAN_FIELDS), firms, n - g)

    # One stream per attribute (in this order), so that a diagnostic can hold any of them fixed.
    seg_rng, size_rng, giant_rng, sens_rng, cap_rng, task_rng = rng.spawn(len(POPULATION_STREAMS))
    segment = np.empty(n, dtype=np.int8)
    lsize, noise = np.zeros(n), np.zeros(n)
    weight = np.ones(n, dtype=np.float32)
    cum = np.cumsum(shares / shares.sum())
    start = 0
    for lo, hi, real, m in strata:
        if m <= 0:
            continue
        rows = slice(start, start + m)
        start += m
        segment[rows] = np.minimum(np.searchsorted(cum, _stratified(seg_rng, m), side="right"), len(SEGMENTS) - 1)
        lsize[rows], noise[rows] = sizes.draw(lo, hi, _stratified(size_rng, m, ordered=True),
                                              _stratified(size_rng, m))
        weight[rows] = real / m
    weight[n_body:] = 1.0
    mau = np.minimum(cfg.mau_min * np.exp(lsize), cfg.mau_cap).astype(np.float32)
    if giants:
        mau[n - g:] = [x.mau for x in giants]
        segment[n - g:] = SEGMENT_CODE["platform"]
        noise[n - g:] = giant_rng.standard_normal(g)

    task = (task_rng.random(n) < cfg.tasks.agentic_share).astype(np.int8)
    tokens = _token_use(cfg, mau, noise, task)
    volume = tokens * weight

    a_s = np.array([getattr(cfg.sensitivity, s).a for s in SEGMENTS])[segment]
    b_s = np.array([getattr(cfg.sensitivity, s).b for s in SEGMENTS])[segment]
    sensitivity = sens_rng.beta(a_s, b_s).astype(np.float32)

    base = np.array([getattr(cfg.capability_base, s) for s in SEGMENTS])[segment]
    capability = base + cfg.capability_per_decade * np.log10(mau) + cfg.capability_noise * cap_rng.standard_normal(n)
    capability = np.clip(capability, 0.0, 1.0).astype(np.float32)

    return Developers(
        segment=segment, mau=mau, tokens=tokens, volume=volume, weight=weight, sensitivity=sensitivity,
        capability=capability, choice=np.full(n, -1, dtype=np.int8), chosen_at=np.zeros(n, dtype=np.int16),
        task=task, body_rows=n_body,
    )
