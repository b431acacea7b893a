"""The developer population as struct-of-arrays (docs/model.md), drawn once from the model's rng.

Each developer is a firm or team building on LLMs. Arrays are float32/int8 to keep memory under ~30 bytes per firm;
nothing here loops over developers. :class:`Tally` keeps the counts by option up to date from the firms that move.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from sim.config import SEGMENTS, Population
from sim.options import K

SEGMENT_CODE = {name: i for i, name in enumerate(SEGMENTS)}
N_SEG = len(SEGMENTS)
PACKED = ("tokens", "sensitivity", "capability", "volume")  # float32 attributes read together for every chooser


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
    body_rows: int = 0  # rows [0, body_rows) sample the body of the size distribution; the rest have weight 1
    clock: int = 0  # current month
    _packed: np.ndarray | None = field(default=None, repr=False)  # N x 4 float32 copy of PACKED, built on first use

    @property
    def n(self) -> int:
        return self.segment.shape[0]

    def attributes_of(self, who: np.ndarray) -> tuple[np.ndarray, ...]:
        """(tokens, sensitivity, capability, volume, weight, segment) of the firms ``who``, as contiguous arrays.

        Choosers are scattered over the population, so reading four separate float arrays costs four cache misses a
        firm; one 16-byte row of a packed copy of these fixed attributes (built on first use) costs one, and
        ``np.take`` along rows is several times faster than separate fancy-index gathers. Weights take two values
        (the body's, and 1 from ``body_rows`` on), so they come from the row index, not from memory."""
        if self._packed is None:
            self._packed = np.stack([getattr(self, name) for name in PACKED], axis=1)
        rows = np.take(self._packed, who, axis=0).T.copy()
        if self.body_rows:
            weight = np.where(who < self.body_rows, self.weight[0], np.float32(1.0)).astype(np.float32)
        else:  # arrays built by hand: read the weights
            weight = self.weight[who]
        return (*rows, weight, self.segment[who])

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
    :meth:`move` updates them in O(movers). Firm and token sums are float64 (rows carry weights); an option with no
    row is reset to exactly 0 so that additions and removals leave no rounding residue behind. The model moves firms
    only through its ``developers_choose``; code that edits ``Developers.choice`` directly must rebuild the tally.
    """

    def __init__(self, devs: Developers):
        code = devs.choice.astype(np.intp) + 1
        self.users_seg = np.bincount(code * N_SEG + devs.segment, weights=devs.weight.astype(np.float64),
                                     minlength=(K + 1) * N_SEG).reshape(K + 1, N_SEG)
        self.rows = np.bincount(code, minlength=K + 1)
        self.tokens = np.bincount(code, weights=devs.volume, minlength=K + 1)[1:]
        self.total = float(devs.weight.astype(np.float64).sum())

    @property
    def adopters(self) -> float:
        """Real firms that have adopted."""
        return self.total - float(self.users_seg[0].sum())

    def move(self, segment: np.ndarray, volume: np.ndarray, weight: np.ndarray, old: np.ndarray,
             new: np.ndarray) -> None:
        """Firms of these segments, volumes and weights went from options ``old`` to ``new`` (-1: not adopted); firms
        whose option did not change may be included (they cancel exactly).

        One int16 code per firm, ((old + 1) (K + 1) + new + 1) N_SEG + segment, and bincounts over it give the
        whole transition table; its diagonal (stayers) is dropped before the in- and out-flows are summed."""
        k1 = K + 1
        code = old.astype(np.int16)
        code *= k1
        code += new
        code += k1 + 1
        pair = code.copy()  # (old + 1) (K + 1) + new + 1
        code *= N_SEG
        code += segment
        flow = np.bincount(code.astype(np.intp), weights=weight.astype(np.float64),
                           minlength=k1 * k1 * N_SEG).reshape(k1, k1, N_SEG)
        flow[np.arange(k1), np.arange(k1)] = 0
        self.users_seg += flow.sum(axis=0) - flow.sum(axis=1)
        pair = pair.astype(np.intp)
        rows = np.bincount(pair, minlength=k1 * k1).reshape(k1, k1)
        np.fill_diagonal(rows, 0)
        self.rows += rows.sum(axis=0) - rows.sum(axis=1)
        vol = np.bincount(pair, weights=volume.astype(np.float64), minlength=k1 * k1).reshape(k1, k1)
        np.fill_diagonal(vol, 0.0)
        self.tokens += (vol.sum(axis=0) - vol.sum(axis=1))[1:]
        empty = self.rows == 0
        self.users_seg[empty] = 0.0
        self.tokens[empty[1:]] = 0.0


def tail_cut(cfg: Population, firms: float, n_rows: int) -> float:
    """Firm size (MAU) above which firms are simulated one row per real firm (stratified sampling, Cochran 1977).

    The cut is set so that the firms above it carry ``tail_token_share`` of expected tokens (Pareto sizes with the
    cap's mass at the cap, tokens ~ mau^eta), then raised if the tail would take more than ``tail_rows_max`` of the
    rows. Returns the cap (no tail) when the share is 0. One huge row then never stands for hundreds of large firms."""
    m0, cap, a, eta = cfg.mau_min, cfg.mau_cap, cfg.mau_tail, cfg.tokens_exponent
    if cfg.tail_token_share <= 0 or cap <= m0:
        return cap

    def above(x: float) -> float:  # expected tokens of firms above x, up to a common factor
        k = eta - a
        body = a * m0**a * (np.log(cap / x) if abs(k) < 1e-12 else (cap**k - x**k) / k)
        return body + (m0 / cap) ** a * cap**eta

    share = lambda x: above(x) / above(m0)  # noqa: E731
    lo, hi = np.log(m0), np.log(cap)
    target = cfg.tail_token_share
    if share(m0) <= target:
        cut = m0
    else:
        for _ in range(80):  # bisection on log size: share falls as the cut rises
            mid = 0.5 * (lo + hi)
            lo, hi = (mid, hi) if share(np.exp(mid)) > target else (lo, mid)
        cut = float(np.exp(hi))
    most = cfg.tail_rows_max * n_rows
    if firms * (m0 / cut) ** a > most:
        cut = m0 * (firms / max(most, 1.0)) ** (1.0 / a)
    return float(min(cut, cap))


def draw_population(cfg: Population, rng: np.random.Generator) -> Developers:
    """Zipf-like firm sizes (Axtell 2001), tokens ~ mau^eta with lognormal noise, Beta data sensitivity per segment.

    Stratified: the named giants (Google, Apple, ... all above 700M MAU in 2023) take the last rows and firms above
    :func:`tail_cut` take one row each (weight 1); the remaining rows sample the body of the size distribution below
    the cut, each standing for (represents - giants - tail firms) / body rows real firms.
    """
    n = cfg.n
    shares = np.array([getattr(cfg.segments, s) for s in SEGMENTS])
    segment = rng.choice(len(SEGMENTS), size=n, p=shares / shares.sum()).astype(np.int8)

    giants = cfg.giants[: n]
    g = len(giants)
    firms = cfg.represents - g
    cut = tail_cut(cfg, firms, n - g)
    a, m0 = cfg.mau_tail, cfg.mau_min
    n_tail = int(min(round(firms * (m0 / cut) ** a), max(n - g - 1, 0))) if cut < cfg.mau_cap else 0
    n_body = n - g - n_tail
    u = rng.random(n)
    body_mass = 1.0 - (m0 / cut) ** a if n_tail else 1.0  # Pareto by inversion, truncated below the cut
    mau = np.empty(n)
    mau[:n_body] = m0 * (1.0 - u[:n_body] * body_mass) ** (-1.0 / a)
    mau[n_body:] = cut * u[n_body:] ** (-1.0 / a)
    mau = np.minimum(mau, cfg.mau_cap).astype(np.float32)
    if giants:
        mau[n - g:] = [x.mau for x in giants]
        segment[n - g:] = SEGMENT_CODE["platform"]

    noise = rng.standard_normal(n)
    tokens = (cfg.tokens_per_mau * mau.astype(np.float64) ** cfg.tokens_exponent
              * np.exp(cfg.tokens_sigma * noise - 0.5 * cfg.tokens_sigma**2)).astype(np.float32)
    np.maximum(tokens, np.float32(1e-6), out=tokens)

    weight = np.ones(n, dtype=np.float32)
    weight[:n_body] = (firms - n_tail) / max(n_body, 1)
    volume = tokens * weight

    a_s = np.array([getattr(cfg.sensitivity, s).a for s in SEGMENTS])[segment]
    b_s = np.array([getattr(cfg.sensitivity, s).b for s in SEGMENTS])[segment]
    sensitivity = rng.beta(a_s, b_s).astype(np.float32)

    base = np.array([getattr(cfg.capability_base, s) for s in SEGMENTS])[segment]
    capability = base + cfg.capability_per_decade * np.log10(mau) + cfg.capability_noise * rng.standard_normal(n)
    capability = np.clip(capability, 0.0, 1.0).astype(np.float32)

    return Developers(
        segment=segment, mau=mau, tokens=tokens, volume=volume, weight=weight, sensitivity=sensitivity,
        capability=capability, choice=np.full(n, -1, dtype=np.int8), chosen_at=np.zeros(n, dtype=np.int16),
        body_rows=n_body,
    )
