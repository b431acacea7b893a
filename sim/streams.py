"""Random streams that restart every month, so paired runs draw the same numbers for the same purpose and month.

The developers' draws (adoption, re-choice, taste shocks) must not depend on how many numbers earlier months used,
or the paired counterfactuals of one seed would drift apart after the first month in which they differ. Spawning a
fresh generator per purpose and month gives that, but costs ~35 µs a generator (SeedSequence hashing). Here each
purpose gets one PCG64 stream, and month t reads it from position t x 2^64: PCG64's period is 2^128, so the months
are disjoint blocks of one stream, and ``advance`` jumps to a block in a few microseconds (O'Neill 2014, "PCG").
"""

from __future__ import annotations

import numpy as np

from sim import kernels

STRIDE = 1 << 64  # draws available to one purpose in one month: more than any run can use


class MonthStreams:
    """``at(t)``: one numpy Generator per purpose, positioned at month t's block (independent of earlier months);
    ``at(t, i, ...)`` positions only the purposes named (a purpose most months leave unused costs nothing)."""

    def __init__(self, rng: np.random.Generator, purposes: int):
        self._bits = [child.bit_generator for child in rng.spawn(purposes)]
        self._start = [bits.state for bits in self._bits]
        self._generators = [np.random.Generator(bits) for bits in self._bits]

    def at(self, t: int, *purposes: int) -> list[np.random.Generator]:
        """The generators of ``purposes`` (all when none is named), each positioned at month ``t``'s block."""
        chosen = purposes or range(len(self._bits))
        for i in chosen:
            self._bits[i].state = self._start[i]
            self._bits[i].advance(t * STRIDE)
        return [self._generators[i] for i in chosen]


def uniform_float32(rng: np.random.Generator, shape: tuple[int, int]) -> np.ndarray:
    """``rng.random(shape, dtype=np.float32)``, the same numbers and the same generator state after, at about half
    the cost: a PCG64 stream's raw 64-bit words converted in one compiled pass (:func:`sim.kernels.float32_from_words`)
    instead of a float a call. Falls back to ``rng.random`` for another bit generator, an odd count, or a stream
    holding half a word from an earlier 32-bit draw (which numpy would hand out first)."""
    bits, size = rng.bit_generator, shape[0] * shape[1]
    if type(bits) is not np.random.PCG64 or size % 2 or bits.state["has_uint32"]:
        return rng.random(shape, dtype=np.float32)
    out = np.empty(size, dtype=np.float32)
    kernels.float32_from_words(bits.random_raw(size // 2), out)
    return out.reshape(shape)
