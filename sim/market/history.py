"""Release history as input (docs/model.md, "Releases from history"; design §15): each model maker's dated releases,
with the score each had at release (Chatbot Arena / LMArena, docs/sources.md), set its path through the present;
after the last one it keeps the place that release held and releases leap around it (``market.release_sd``).

An open model's score was measured in a world where Llama was open, so it enters net of the model's own endogenous
terms (community gains at the measured shares, Meta's talent, spillover from the other open weights out then); the run
adds back what its own strategy earns (:meth:`ModelMaker.measured <sim.market.providers.ModelMaker.measured>`).
"""

from __future__ import annotations

import bisect
import math

import numpy as np

from sim.config import month_index
from sim.market.curves import open_community_gain, talent


class Listing:
    """A maker's dated releases in run months (a release dated before the start counts at month 0). Its lookups
    bisect the sorted months: the engine asks every month."""

    def __init__(self, start: str, releases):
        order = sorted(((month_index(start, r.date), i) for i, r in enumerate(releases)))
        self.dated = [(m, releases[i]) for m, i in order]
        self.with_score = [(m, r) for m, r in self.dated if r.elo is not None]
        self.with_both = [(m, r) for m, r in self.with_score if r.agentic is not None]  # for the agentic edge
        self._months = [m for m, _ in self.dated]
        self._scored_months = [m for m, _ in self.with_score]
        self._both_months = [m for m, _ in self.with_both]

    def __bool__(self) -> bool:
        return bool(self.dated)

    def at(self, t: int):
        """The release dated month ``t`` (at month 0: the latest dated at or before the start), or None."""
        last = bisect.bisect_right(self._months, t) - 1
        if last < 0 or (t != 0 and self._months[last] != t):
            return None
        return self.dated[last][1]

    def first(self) -> int | None:
        """The first release's month (0 for one dated before the start), or None for no list."""
        return max(self.dated[0][0], 0) if self.dated else None

    def next_after(self, t: int) -> int | None:
        """The month of the next listed release after month ``t``, or None after the last."""
        later = bisect.bisect_right(self._months, t)
        return self._months[later] if later < len(self._months) else None

    def scored(self, t: int) -> tuple[int, object] | None:
        """(month, release) of the latest release with a score dated at or before ``t``; before the first, the first
        scored one (a maker's place before its first measured model is that model's); None when none has a score."""
        if not self.with_score:
            return None
        last = bisect.bisect_right(self._scored_months, max(t, 0)) - 1
        return self.with_score[last] if last >= 0 else self.with_score[0]

    def with_agentic(self, t: int) -> tuple[int, object] | None:
        """(month, release) of the latest release with both scores dated at or before ``t``, or None."""
        last = bisect.bisect_right(self._both_months, max(t, 0)) - 1
        return self.with_both[last] if last >= 0 else None


def benchmark_elo(score: float, tasks) -> float:
    """A success rate on the agentic benchmark read as Elo: the anchor's Arena score plus 400 log10 of the odds ratio
    against the anchor's rate (a success rate is a win rate against the task; ``population.tasks``)."""
    odds = score / (100.0 - score)
    anchor = tasks.anchor_score / (100.0 - tasks.anchor_score)
    return tasks.anchor_elo + 400.0 * math.log10(odds / anchor)


def agentic_edge(listing: Listing, t: int, tasks) -> float:
    """How far a maker's model rates above its Arena score on agentic work: the edge of its latest release with both
    scores at or before ``t``; 0 before the first such release (no measurement, no edge)."""
    latest = listing.with_agentic(t)
    return benchmark_elo(latest[1].agentic, tasks) - latest[1].elo if latest else 0.0


def measured_community(cfg) -> float:
    """The community gain an open family had while its scores were measured: the family and all open weights at the
    measured shares (``market.measured_family_share``, ``market.measured_open_share``)."""
    m = cfg.market
    return cfg.community.strength * open_community_gain(cfg, m.measured_family_share, m.measured_open_share)


def own_score(cfg, key: str, elo: float) -> float:
    """A listed open score net of the model's own endogenous terms but not of spillover: the community gain at the
    measured shares, and for Llama the talent term at the measured mindshare (what a teacher is netted to)."""
    net = elo - measured_community(cfg)
    if key == "meta":
        net -= talent(cfg, cfg.market.measured_family_share)
    return net


def measured_teacher(cfg, open_makers: dict, t: int, exclude: str) -> float | None:
    """The best released open weights history shows at month ``t``, other than ``exclude``'s: each other open
    maker's latest scored release at or before ``t``, net of its own terms (``own_score``); None when there is none.
    ``open_makers`` maps a key to its :class:`Listing` (Meta's and every open family's)."""
    best = None
    for key, listing in open_makers.items():
        if key == exclude:
            continue
        scored = listing.scored(t)
        if scored is not None and scored[0] <= max(t, 0):
            net = own_score(cfg, key, scored[1].elo)
            best = net if best is None else max(best, net)
    return best


def without_spillover(score: float, teacher: float | None, sigma: float) -> float:
    """Invert the spillover rule q = own + sigma max(teacher - own, 0): the release's own quality."""
    if teacher is None or sigma >= 1.0 or score >= teacher:
        return score
    return (score - sigma * teacher) / (1.0 - sigma)


def leap_sd(makers, until: int) -> tuple[float, int]:
    """sigma_leap fitted to the listed jumps up to month ``until``: consecutive scored releases of one maker differ in
    place (score - reference) by two independent leaps, so sigma^2 = mean(d^2) / 2. Returns (sigma, jumps used)."""
    squares = []
    for maker in makers:
        places = [maker.measured(m, r.elo) - maker.reference(m)
                  for m, r in maker.listing.dated if r.elo is not None and m <= until]
        squares += [(b - a) ** 2 for a, b in zip(places, places[1:], strict=False)]
    return (math.sqrt(sum(squares) / (2 * len(squares))) if squares else 0.0), len(squares)


def frontier_fit(cfg, labs, until: int) -> tuple[float, float]:
    """(start, growth per month) of the frontier fitted by least squares to the releases that set a new best score
    among the closed labs, from the start to month ``until`` (the frontier is the best measured model)."""
    scored = sorted((max(m, 0), r.elo) for lab in labs for m, r in Listing(cfg.start, lab.releases).dated
                    if r.elo is not None and m <= until)
    records, best = [], -math.inf
    for month, elo in scored:
        if elo > best:
            records.append((month, elo))
            best = elo
    months, elos = np.array(records, dtype=float).T
    growth, start = np.polyfit(months, elos, 1)
    return float(start), float(growth)
