"""Llama's licence (docs/model.md, "Licence"): firms above the MAU threshold need Meta's approval.

The Llama 2/3 licences require a firm with more than 700 million monthly active users at the release date to ask
Meta for a licence, which Meta may grant or refuse. A firm above ``license.mau_threshold`` (in the month before a
release) is approved with ``approval_probability``, drawn once per firm and release from the licence stream. The
clause binds the released weights too after a switch away from open.
"""

from __future__ import annotations

import numpy as np


class Licence:
    """Which firms may not use Llama this month (``blocked``, and its few ``blocked_rows``)."""

    def __init__(self, n: int, rng: np.random.Generator):
        self.rng = rng
        self.approved = np.zeros(n, dtype=bool)
        self.blocked = np.zeros(n, dtype=bool)
        self.blocked_rows = np.empty(0, dtype=np.intp)
        self._key = None

    def update(self, lic, mau: np.ndarray, meta) -> None:
        """After Meta's step: draw approvals at an open release, and re-find the blocked firms when the clause, the
        threshold or the release changed. Nothing happens before there are Llama weights to download."""
        if meta.weights_quality() is None:
            return
        if meta.released_now and meta.strategy.releases_weights:
            release_rng = self.rng.spawn(1)[0]
            above = np.flatnonzero(mau > lic.mau_threshold)
            self.approved[:] = False
            self.approved[above] = release_rng.random(above.size) < lic.approval_probability
        key = (lic.enabled, lic.mau_threshold, meta.releases_so_far)
        if key != self._key:
            self._key = key
            if lic.enabled:
                self.blocked = (mau > lic.mau_threshold) & ~self.approved
            else:
                self.blocked = np.zeros(mau.size, dtype=bool)
            self.blocked_rows = np.flatnonzero(self.blocked)  # a handful of firms: kept, not re-found monthly
