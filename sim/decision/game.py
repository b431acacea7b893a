"""Pure-strategy analysis of an n-player normal-form game given as a payoff array: no simulation in here.

``payoff[a_1, ..., a_n, i]`` is player i's payoff when each player j plays item a_j; ``samples`` adds a last axis of
R paired replicates (the same seeds in every profile), so a deviation's gain is a paired difference with a CI.
nashpy (MIT) solves two-player games only, and gambit is GPL and heavy, so pure-equilibrium enumeration over the
table, which is a few lines, is written here.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

Profile = tuple[int, ...]


def profiles(shape: tuple[int, ...]) -> list[Profile]:
    """Every pure-strategy profile of a game whose players have ``shape`` items, in C order of the payoff array."""
    return list(itertools.product(*(range(k) for k in shape)))


def deviations(profile: Profile, player: int, k: int) -> list[Profile]:
    """Every profile where only ``player`` plays something else."""
    return [profile[:player] + (a,) + profile[player + 1:] for a in range(k) if a != profile[player]]


def best_items(payoff: np.ndarray, profile: Profile, player: int, tol: float = 0.0) -> tuple[int, ...]:
    """``player``'s best replies to the others' items in ``profile`` (all within ``tol`` of the best)."""
    k = payoff.shape[player]
    values = np.array([payoff[profile[:player] + (a,) + profile[player + 1:] + (player,)] for a in range(k)])
    return tuple(int(a) for a in np.flatnonzero(values >= values.max() - tol))


def pure_nash(payoff: np.ndarray, tol: float = 0.0) -> list[Profile]:
    """Every profile where no player gains more than ``tol`` by deviating alone, in C order."""
    shape = payoff.shape[:-1]
    return [p for p in profiles(shape) if all(p[i] in best_items(payoff, p, i, tol) for i in range(len(shape)))]


def best_response_table(payoff: np.ndarray, player: int) -> dict[Profile, tuple[int, ...]]:
    """For each profile of the other players (``player``'s own slot set to -1), ``player``'s best items."""
    shape = payoff.shape[:-1]
    out = {}
    for p in profiles(shape):
        if p[player] == 0:
            out[p[:player] + (-1,) + p[player + 1:]] = best_items(payoff, p, player)
    return out


@dataclass(frozen=True)
class Interval:
    """A mean and its confidence interval, read as significant when the interval lies above 0."""

    mean: float
    low: float
    high: float

    @property
    def significant(self) -> bool:
        """Positive at the chosen confidence (the interval excludes 0 from above)."""
        return bool(self.low > 0)


def paired_interval(diffs: np.ndarray, confidence: float = 0.95) -> Interval:
    """Mean and t interval of paired differences; with one replicate the interval is unknown (nan)."""
    from scipy import stats

    diffs = np.asarray(diffs, dtype=float)
    mean = float(diffs.mean())
    if len(diffs) < 2:
        return Interval(mean, float("nan"), float("nan"))
    sd = float(diffs.std(ddof=1))
    if sd == 0:
        return Interval(mean, mean, mean)
    half = float(stats.t.ppf(0.5 + confidence / 2, len(diffs) - 1)) * sd / np.sqrt(len(diffs))
    return Interval(mean, mean - half, mean + half)


def significant_deviations(samples: np.ndarray, profile: Profile, confidence: float = 0.95
                           ) -> list[tuple[int, Profile, Interval]]:
    """Deviations from ``profile`` whose paired gain to the deviator is significantly positive."""
    shape = samples.shape[:-2]
    out = []
    for i, k in enumerate(shape):
        for q in deviations(profile, i, k):
            gain = paired_interval(samples[q + (i,)] - samples[profile + (i,)], confidence)
            if gain.significant:
                out.append((i, q, gain))
    return out


def epsilon_equilibria(samples: np.ndarray, confidence: float = 0.95) -> list[Profile]:
    """Profiles no player leaves for a significantly better item: equilibria up to the sampling noise."""
    return [p for p in profiles(samples.shape[:-2]) if not significant_deviations(samples, p, confidence)]


def iterated_best_responses(payoff: np.ndarray, start: Profile, players: tuple[int, ...] | None = None,
                            max_rounds: int = 100) -> tuple[list[tuple[int, Profile]], str]:
    """Players in turn switch to their best item (lowest index among ties) while it beats their current one.

    Returns the path ``[(mover, profile), ...]`` (the start first, mover -1) and how it ended: ``equilibrium`` (a
    round without a switch), ``cycle`` (a profile came back at the same turn) or ``max_rounds``. ``players`` limits
    who moves (the others stay put: a subgame)."""
    movers = tuple(range(payoff.ndim - 1)) if players is None else players
    path: list[tuple[int, Profile]] = [(-1, tuple(start))]
    current = tuple(start)
    seen = {(current, 0)}
    for _ in range(max_rounds):
        moved = False
        for turn, i in enumerate(movers):
            best = best_items(payoff, current, i)
            if current[i] not in best:
                current = current[:i] + (best[0],) + current[i + 1:]
                path.append((i, current))
                moved = True
                if (current, turn) in seen:
                    return path, "cycle"
                seen.add((current, turn))
        if not moved:
            return path, "equilibrium"
    return path, "max_rounds"
