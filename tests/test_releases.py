"""Releases that leapfrog (``market.release_sd``): a release lands above or below its target, so the lead among labs
can change hands and a release can disappoint; a provider whose release jumps ahead takes share within months."""

from __future__ import annotations

import numpy as np

from sim.config import Event
from sim.runner import simulate
from tests.helpers import small

LABS = ["openai", "anthropic", "google"]


def leaders(sd: float, seed: int) -> np.ndarray:
    """Which lab leads each month, off the release history and without flywheels: leads 40, 20 and 0 Elo."""
    s = small(n=2000, horizon=60, market__release_sd=sd, providers__openai__lead=40, providers__anthropic__lead=20,
              providers__google__lead=0, **{f"providers__{lab}__flywheel__strength": 0 for lab in LABS})
    for lab in LABS:
        getattr(s.providers, lab).releases = []
    df = simulate(s, "open", seed)
    return df[[f"quality.{lab}" for lab in LABS]].to_numpy().argmax(axis=1)


def test_without_release_noise_the_order_is_fixed_and_with_it_every_lab_can_lead():
    """Off the history and on target, a lab leads only between the releases of the labs ahead of it (Google, 40 Elo
    behind OpenAI, only in the odd month when its release comes long after OpenAI's); with leaps every lab leads some
    months and OpenAI far fewer."""
    exact = np.concatenate([leaders(0.0, seed) for seed in (1, 2, 3)])
    noisy = np.concatenate([leaders(80.0, seed) for seed in (1, 2, 3)])
    assert (exact == LABS.index("google")).mean() < 0.05 and (exact == 0).mean() > 0.7
    assert set(noisy) == {0, 1, 2} and (noisy == 0).mean() < (exact == 0).mean() - 0.2


def test_meta_dated_releases_land_on_their_offset_and_later_ones_may_not():
    """Meta's listed releases (Llama 2, 3, 3.1) are exact whatever sigma; releases after the list draw a leap."""
    exact, noisy = (simulate(small(n=2000, horizon=48, market__release_sd=sd), "closed", 5) for sd in (0.0, 80.0))
    listed = exact["month"] < 20  # Llama 3.1 (2024-07) is the last listed release
    q0, q1 = exact["quality.meta_api"], noisy["quality.meta_api"]
    assert np.allclose(q0[listed].dropna(), q1[listed].dropna(), atol=15.0)  # the talent term moves with shares
    assert (np.abs(q0[~listed] - q1[~listed]) > 20).any()


def test_a_release_that_jumps_ahead_takes_share_within_months():
    base, jump = small(n=5000, horizon=30), small(n=5000, horizon=30)
    jump.events = [*jump.events, Event(date="2024-01", add={"providers.anthropic.quality_bonus": 150.0})]
    a, b = (simulate(s, "open", 3)["share_users.anthropic"] for s in (base, jump))
    assert b.iloc[12:18].mean() > a.iloc[12:18].mean() + 0.05  # within six months of the jump
    assert np.allclose(a.iloc[:12], b.iloc[:12])  # and not before it
