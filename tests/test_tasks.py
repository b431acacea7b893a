"""Two tasks (population.tasks; docs/model.md, "Two tasks"): agentic firms choose in their own (segment, task)
group, rate models by the agentic benchmark, weigh quality by their own weight, use tokens at their own pace, and
their token shares are reported apart."""

from __future__ import annotations

import numpy as np
import pytest

from sim.market.history import benchmark_elo
from sim.runner import simulate
from tests.helpers import small

SHARE = "population__tasks__agentic_share"


def neutral(**sets):
    """The baseline without agentic scores, so agentic and general firms differ only where a test makes them."""
    s = small(n=4000, horizon=36, **sets)
    for key in ("openai", "anthropic", "google", "open_rival", "china_open"):
        for r in getattr(s.providers, key).releases:
            r.agentic = None
    return s


def test_the_benchmark_reads_as_elo_through_the_anchor():
    tasks = small(n=100).population.tasks
    assert benchmark_elo(tasks.anchor_score, tasks) == pytest.approx(tasks.anchor_elo)
    assert benchmark_elo(49.0, tasks) - tasks.anchor_elo == pytest.approx(400 * np.log10((49 / 51) / (33.2 / 66.8)))


def test_a_second_task_that_differs_in_nothing_changes_no_choice():
    """Reduction: agentic firms with weight 1, no edges, the same tokens: every choice as with one task."""
    same = {"population__tasks__agentic_quality_weight": 1.0, "population__tasks__agentic_token_growth": 1.0}
    one = simulate(neutral(**{SHARE: 0.0}, **same), "open", 3)
    two = simulate(neutral(**{SHARE: 0.4}, **same), "open", 3)
    firms = [c for c in one if c.startswith(("share_users.", "users."))]
    assert np.array_equal(one[firms].to_numpy(), two[firms].to_numpy())  # the same choices, firm for firm
    tokens = [c for c in one if c.startswith("share_tokens.")]  # counted in two parts: equal to rounding
    assert np.allclose(one[tokens].to_numpy(), two[tokens].to_numpy(), rtol=1e-9, atol=1e-12)
    assert one["agentic_token_share"].isna().all() and two["agentic_token_share"].between(0.2, 0.6).all()


def test_a_task_with_no_quality_sensitivity_goes_to_the_cheapest_options():
    """Agentic firms that ignore quality buy more of the cheap open tokens than agentic firms that weigh it twice."""
    def cheap_share(weight):
        df = simulate(neutral(**{SHARE: 0.5, "population__tasks__agentic_quality_weight": weight}), "open", 2)
        opens = [c for c in df if c.startswith("share_tokens_agentic.") and ("_hosted" in c or "_self" in c)]
        return df[opens].sum(axis=1).iloc[-12:].mean()
    assert cheap_share(0.0) > cheap_share(2.0) + 0.1


def test_an_agentic_edge_wins_agentic_work_more_than_general_work():
    """A lab whose model scores far above its Arena rating on the agentic benchmark takes more of agentic tokens."""
    s = neutral(**{SHARE: 0.5})
    for r in s.providers.anthropic.releases:
        r.agentic = 70.0 if r.elo is not None else None  # an edge of several hundred Elo on agentic work
    df = simulate(s, "open", 2)
    late = df.iloc[-12:]
    agentic = late["share_tokens_agentic.anthropic"].mean()
    overall = late["share_tokens.anthropic"].mean()
    general = (overall - late["agentic_token_share"].mean() * agentic) / (1 - late["agentic_token_share"].mean())
    assert agentic > general + 0.1


def test_agentic_tokens_grow_at_their_own_pace():
    base, fast = (simulate(small(n=3000, horizon=36, population__tasks__agentic_token_growth=g), "open", 1)
                  for g in (1.0, 4.0))
    assert fast["agentic_token_share"].iloc[-1] > base["agentic_token_share"].iloc[-1] + 0.1
    assert fast["agentic_token_share"].iloc[0] == pytest.approx(base["agentic_token_share"].iloc[0])
