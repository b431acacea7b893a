"""The developer population as struct-of-arrays (design.md section 3), drawn once from the model's rng.

Each developer is a firm or team building on LLMs. Arrays are float32/int8 to keep memory under ~30 bytes per firm;
nothing here loops over developers.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.config import SEGMENTS, Population

SEGMENT_CODE = {name: i for i, name in enumerate(SEGMENTS)}
REGULATED = SEGMENT_CODE["regulated"]


@dataclass
class Developers:
    """Firm attributes (fixed) and state (choice, months on it). ``choice`` is -1 for a firm that has not adopted."""

    segment: np.ndarray  # int8 index into SEGMENTS
    mau: np.ndarray  # float32, monthly active users of the firm's products
    tokens: np.ndarray  # float32, M tokens per month of one such firm (drives its budget and self-hosting case)
    volume: np.ndarray  # float32, M tokens per month of all the real firms this row stands for (for the ledgers)
    sensitivity: np.ndarray  # float32 in [0, 1], value of keeping data and owning a tuned model
    capability: np.ndarray  # float32 in [0, 1], ability to self-host and fine-tune
    choice: np.ndarray  # int8 option index, -1 = not adopted
    months_on_choice: np.ndarray  # int16

    @property
    def n(self) -> int:
        return self.segment.shape[0]


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
        choice=np.full(n, -1, dtype=np.int8), months_on_choice=np.zeros(n, dtype=np.int16),
    )
