"""A closed lab's own open-weight model (gpt-oss, Gemma): offered from its date, trailing the lab, hosted by the
clouds; it costs the lab API customers and earns its family mindshare (the network term)."""

from __future__ import annotations

import numpy as np
import pytest

from sim.catalog import API_OF, FAMILIES, LAB_OPEN
from sim.errors import ConfigError
from sim.market.curves import serving_cost
from sim.runner import simulate
from tests.helpers import run_model, small

N, SEEDS = 3000, (1, 2, 3)
ON = {"providers__openai__open_weights__enabled": "true"}


def runs(**sets):
    s = small(n=N, horizon=24, **sets)
    return [simulate(s, "open", seed) for seed in SEEDS]


def test_open_weights_are_offered_from_their_date_trailing_the_lab_and_hosted():
    def check(model):
        t, j = model.month, LAB_OPEN["openai"]
        live = t >= 6
        assert model.offer.available[j] == live
        if live:
            lab, cfg = model.providers["openai"], model.cfg
            assert model.offer.quality[j] == pytest.approx(model.offer.quality[API_OF["openai"]] - 80.0)
            unit = serving_cost(cfg, t, lab.release_quality - 80.0) * cfg.providers.openai.serving_efficiency
            assert model.offer.price[j] == pytest.approx(unit * (1 + cfg.providers.cloud_host.margin))  # free, hosted
    m = run_model(small(n=N, horizon=18, **ON, providers__openai__open_weights__date="2023-07",
                        providers__openai__open_weights__trail_elo=80.0), "absent", seed=1, each_month=check)
    assert m.rows[5]["users.openai_open"] == 0 and m.rows[-1]["users.openai_open"] > 0
    off = run_model(small(n=N, horizon=18), "absent", seed=1)
    assert all(row["users.openai_open"] == 0 for row in off.rows)
    # The clouds serve it: their hosting revenue includes its tokens.
    row = m.rows[-1]
    assert row["revenue.cloud_host"] >= row["price.openai_open"] * row["tokens.openai_open"] > 0


def test_open_weights_cost_the_lab_api_customers():
    """With the network term off, only substitution is left: the lab's API loses users and revenue."""
    no_net = {"choice__gamma_network": 0.0}
    base, with_ow = runs(**no_net), runs(**no_net, **ON)
    share = lambda rs: np.mean([df["share_users.openai"].iloc[-6:].mean() for df in rs])  # noqa: E731
    revenue = lambda rs: np.mean([df["api_revenue.openai"].sum() for df in rs])  # noqa: E731
    assert share(with_ow) < share(base) - 0.01
    assert revenue(with_ow) < revenue(base)


def test_open_weights_earn_the_lab_family_mindshare():
    """Its users count towards the lab's family, whose share feeds the network term of the lab's API."""
    base, with_ow = runs(), runs(**ON)
    family = lambda rs: np.mean([(df["share_users.openai"] + df["share_users.openai_open"]).iloc[-6:].mean()  # noqa: E731
                                 for df in rs])
    assert family(with_ow) > family(base) + 0.01
    m = run_model(small(n=N, horizon=12, **ON), "open", seed=1)
    assert m.shares.family[FAMILIES.index("openai")] == pytest.approx(
        m.shares.users[API_OF["openai"]] + m.shares.users[LAB_OPEN["openai"]])


def test_open_weights_cost_training_at_each_release():
    cost = lambda df: -df["training_cost.openai"].sum()  # noqa: E731
    s_off, s_on = small(n=500, horizon=24), small(n=500, horizon=24, **ON,
                                                  providers__openai__open_weights__training_cost=5e8)
    assert cost(simulate(s_on, "open", 1)) > cost(simulate(s_off, "open", 1)) + 1e8


def test_bad_open_weights_input_names_the_field():
    with pytest.raises(ConfigError, match="providers.openai.open_weights.trail_elo"):
        small(n=100, providers__openai__open_weights__trail_elo=-5)
