"""Licences with an MAU clause (docs/model.md, "Licence"): firms above a threshold need the licensor's approval.

The Llama 2/3 licences require a firm with more than 700 million monthly active users at the release date to ask
Meta for a licence, which Meta may grant or refuse. A firm above ``license.mau_threshold`` (in the month before a
release) is approved with ``approval_probability``, drawn once per firm and release from the licence stream. The
clause binds the released weights too after a switch away from open.

Any other open family may carry a clause of its own (``providers.<family>.mau_threshold``; Qwen's licence asked
firms above 100M users to apply). Its approvals are drawn once per firm, from a stream of their own, so that a
scenario without such a family draws exactly what it drew before. ``blocked`` is a bitmask per firm: bit 0 is
Llama's clause, bit 1 + i the i-th licensed family's (``option_bits`` marks the options each clause covers).
"""

from __future__ import annotations

import numpy as np

LLAMA_BIT = 1


def licensed_families(cat, providers) -> list[tuple[str, int]]:
    """(key, bit) of each open family whose licence has an MAU clause (at most 12 providers: 16 bits do)."""
    licensed = [f for f in cat.OPEN_FAMILIES if getattr(providers, f).mau_threshold is not None]
    return [(f, 2 << i) for i, f in enumerate(licensed)]


def option_bits(cat, providers, api_too: bool = False) -> np.ndarray:
    """Per option, the bits of the clauses that cover it (uint16; 0: no MAU clause): Llama's (and the Meta API's
    with ``api_too``: one access policy), and each licensed family's on both its routes."""
    covered = cat.IS_META if api_too else cat.IS_LLAMA
    bits = covered.astype(np.uint16) * np.uint16(LLAMA_BIT)
    for f, bit in licensed_families(cat, providers):
        bits[cat.family_routes(f)] |= np.uint16(bit)
    return bits


class Licence:
    """Which firms may not use which licensed models this month (``blocked``, and its few ``blocked_rows``)."""

    def __init__(self, n: int, rng: np.random.Generator, cat=None, providers=None):
        self.rng = rng
        self.approved = np.zeros(n, dtype=bool)
        self.blocked = np.zeros(n, dtype=np.uint16)
        self.blocked_rows = np.empty(0, dtype=np.intp)
        self._key = None
        self.version = 0  # counts the times the blocked firms were re-found
        self.families = [] if cat is None else licensed_families(cat, providers)
        self.family_approved = {}
        if self.families:  # own stream: Meta's approvals draw the same numbers with or without these families
            family_rng = rng.spawn(1)[0]
            self.family_approved = {f: family_rng.random(n) < getattr(providers, f).approval_probability
                                    for f, _ in self.families}

    def llama_blocked_count(self) -> int:
        """How many firms Llama's clause keeps off Llama (read from the few blocked rows)."""
        return int(np.count_nonzero(self.blocked[self.blocked_rows] & np.uint16(LLAMA_BIT)))

    def update(self, lic, mau: np.ndarray, meta, rivals=()) -> None:
        """After Meta's step: draw approvals at an open release, and re-find the blocked firms when a clause, a
        threshold, the release or the families on offer changed. Llama's clause binds once there are Llama
        weights to download (and a Meta API on sale when ``license.applies_to_api``: one access policy for weights
        and API), a family's while the family is offered."""
        api_bound = lic.applies_to_api and meta.sells_api and meta.released  # one access policy: the API too
        llama_out = meta.weights_quality() is not None or api_bound
        if llama_out and meta.released_now and (meta.strategy.releases_weights or api_bound):
            release_rng = self.rng.spawn(1)[0]
            above = np.flatnonzero(mau > lic.mau_threshold)
            self.approved[:] = False
            self.approved[above] = release_rng.random(above.size) < lic.approval_probability
        clauses = ()
        if self.families:
            by_key = {r.key: r for r in rivals}
            clauses = tuple((f, by_key[f].enabled, by_key[f].params().mau_threshold) for f, _ in self.families)
        key = (llama_out, lic.enabled, lic.mau_threshold, meta.releases_so_far, clauses)
        if key == self._key:
            return
        self._key = key
        self.version += 1
        blocked = np.zeros(mau.size, dtype=np.uint16)
        if llama_out and lic.enabled:
            blocked[(mau > lic.mau_threshold) & ~self.approved] = LLAMA_BIT
        for (f, bit), (_, on, threshold) in zip(self.families, clauses, strict=True):
            if on:
                blocked[(mau > threshold) & ~self.family_approved[f]] |= np.uint16(bit)
        self.blocked = blocked
        self.blocked_rows = np.flatnonzero(blocked)  # a handful of firms: kept, not re-found monthly
