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
    sensitivity: np.ndarray  # float32 in [0, 1], value of keeping data and owning a tuned model
    capability: np.ndarray  # float32 in [0, 1], ability to self-host and fine-tune
    choice: np.ndarray  # int8 option index, -1 = not adopted
    chosen_at: np.ndarray  # int16 month the firm last changed option (adopting counts as a change)
    clock: int = 0  # current month
    _packed: np.ndarray | None = field(default=None, repr=False)  # N x 4 float32 copy of PACKED, built on first use

    @property
    def n(self) -> int:
        return self.segment.shape[0]

    def attributes_of(self, who: np.ndarray) -> tuple[np.ndarray, ...]:
        """(tokens, sensitivity, capability, volume, segment) of the firms ``who``, as contiguous arrays.

        Choosers are scattered over the population, so reading four separate float arrays costs four cache misses a
        firm; one 16-byte row of a packed copy of these fixed attributes (built on first use) costs one, and
        ``np.take`` along rows is several times faster than four fancy-index gathers."""
        if self._packed is None:
            self._packed = np.stack([getattr(self, name) for name in PACKED], axis=1)
        rows = np.take(self._packed, who, axis=0).T.copy()
        return (*rows, self.segment[who])

    @property
    def months_on_choice(self) -> np.ndarray:
        """Months since the firm last changed option (int16; 0 for firms that have not adopted)."""
        months = (self.clock - self.chosen_at).astype(np.int16)
        months[self.choice < 0] = 0
        return months


class Tally:
    """Firms by (option + 1, segment) and M tokens (market volume) by option, kept current as firms move.

    Recounting a million firms each month costs more than all the month's choices; only movers change the counts, so
    :meth:`move` updates them in O(movers). Token sums are float64; an option with no firm is reset to exactly 0 so
    that additions and removals leave no rounding residue behind. The model moves firms only through its
    ``developers_choose``; code that edits ``Developers.choice`` directly must rebuild the tally (``Tally(devs)``).
    """

    def __init__(self, devs: Developers):
        code = devs.choice.astype(np.intp) + 1
        self.users_seg = np.bincount(code * N_SEG + devs.segment, minlength=(K + 1) * N_SEG).reshape(K + 1, N_SEG)
        self.tokens = np.bincount(code, weights=devs.volume, minlength=K + 1)[1:]
        self.n = devs.n

    @property
    def adopters(self) -> int:
        return self.n - int(self.users_seg[0].sum())

    def move(self, segment: np.ndarray, volume: np.ndarray, old: np.ndarray, new: np.ndarray) -> None:
        """Firms of these segments and volumes went from options ``old`` to ``new`` (-1: not adopted); firms whose
        option did not change may be included (they cancel exactly).

        One int16 code per firm, ((old + 1) (K + 1) + new + 1) N_SEG + segment, and two bincounts over it give the
        whole transition table; its diagonal (stayers) is dropped before the in- and out-flows are summed."""
        k1 = K + 1
        code = old.astype(np.int16)
        code *= k1
        code += new
        code += k1 + 1
        pair = code.copy()  # (old + 1) (K + 1) + new + 1
        code *= N_SEG
        code += segment
        flow = np.bincount(code.astype(np.intp), minlength=k1 * k1 * N_SEG).reshape(k1, k1, N_SEG)
        flow[np.arange(k1), np.arange(k1)] = 0
        self.users_seg += flow.sum(axis=0) - flow.sum(axis=1)
        vol = np.bincount(pair.astype(np.intp), weights=volume.astype(np.float64), minlength=k1 * k1).reshape(k1, k1)
        np.fill_diagonal(vol, 0.0)
        self.tokens += (vol.sum(axis=0) - vol.sum(axis=1))[1:]
        self.tokens[self.users_seg[1:].sum(axis=1) == 0] = 0.0


def draw_population(cfg: Population, rng: np.random.Generator) -> Developers:
    """Zipf-like firm sizes (Axtell 2001), tokens ~ mau^eta with lognormal noise, Beta data sensitivity per segment.

    The named giants (Google, Apple, ... all above 700M MAU in 2023) take the last rows so N stays as configured;
    each stands for itself, while every other row stands for (represents - giants) / (n - giants) real firms.
    """
    n = cfg.n
    shares = np.array([getattr(cfg.segments, s) for s in SEGMENTS])
    segment = rng.choice(len(SEGMENTS), size=n, p=shares / shares.sum()).astype(np.int8)

    # Pareto(alpha) by inversion: x_min * U^(-1/alpha), capped.
    u = rng.random(n)
    mau = np.minimum(cfg.mau_min * u ** (-1.0 / cfg.mau_tail), cfg.mau_cap).astype(np.float32)
    giants = cfg.giants[: n]
    if giants:
        mau[n - len(giants):] = [g.mau for g in giants]
        segment[n - len(giants):] = SEGMENT_CODE["platform"]

    noise = rng.standard_normal(n)
    tokens = (cfg.tokens_per_mau * mau.astype(np.float64) ** cfg.tokens_exponent
              * np.exp(cfg.tokens_sigma * noise - 0.5 * cfg.tokens_sigma**2)).astype(np.float32)
    np.maximum(tokens, np.float32(1e-6), out=tokens)

    weight = np.full(n, (cfg.represents - len(giants)) / max(n - len(giants), 1), dtype=np.float32)
    weight[n - len(giants):] = 1.0
    volume = tokens * weight

    a = np.array([getattr(cfg.sensitivity, s).a for s in SEGMENTS])[segment]
    b = np.array([getattr(cfg.sensitivity, s).b for s in SEGMENTS])[segment]
    sensitivity = rng.beta(a, b).astype(np.float32)

    base = np.array([getattr(cfg.capability_base, s) for s in SEGMENTS])[segment]
    capability = base + cfg.capability_per_decade * np.log10(mau) + cfg.capability_noise * rng.standard_normal(n)
    capability = np.clip(capability, 0.0, 1.0).astype(np.float32)

    return Developers(
        segment=segment, mau=mau, tokens=tokens, volume=volume, sensitivity=sensitivity, capability=capability,
        choice=np.full(n, -1, dtype=np.int8), chosen_at=np.zeros(n, dtype=np.int16),
    )
