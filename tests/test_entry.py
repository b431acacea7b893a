"""Entry with an outside option (``adoption.entry_outside``): firms the Bass hazard reaches choose among the options
and not adopting by the same logit, so adoption answers price at entry (scripts/elasticities.py measures it)."""

from __future__ import annotations

import numpy as np

from scripts.elasticities import price_scaled
from sim.catalog import catalog_of
from sim.config import month_index
from sim.runner import run_scenario, simulate
from tests.helpers import small


def adoption_by_year(scenario, replications: int = 2) -> np.ndarray:
    ts, _ = run_scenario(scenario, ["open"], replications)
    return ts.groupby(ts["date"].dt.year)["adopted_frac"].mean().to_numpy()


def test_doubling_every_price_lowers_adoption_in_every_year():
    """At the fitted baseline (about a sixth of the reached firms stay out in 2024), doubling every price lowers
    adoption in every year, the late ones included, because u0 keeps pace with the frontier and its serving cost."""
    s = small(n=20_000, horizon=60)
    cheap, dear = adoption_by_year(s), adoption_by_year(price_scaled(s, 2.0))
    assert (dear < cheap).all(), (cheap, dear)


def test_reached_firms_that_stay_out_are_counted():
    """``entry_declined``: none when u0 is out of reach, all when u0 is above every option, NaN without entrants."""
    never = simulate(small(n=3000, horizon=12, choice__outside_utility=-50.0), "open", 1)["entry_declined"]
    always = simulate(small(n=3000, horizon=12, choice__outside_utility=50.0), "open", 1)["entry_declined"]
    assert (never.iloc[1:] == 0).all() and (always.iloc[1:] == 1).all()
    off = simulate(small(n=3000, horizon=12, adoption__entry_outside=False), "open", 1)["entry_declined"]
    assert off.isna().all()


def test_the_outside_option_follows_the_serving_cost_trend():
    """With ``outside_tracks_cost`` = 1, u0 rises by alpha (g(x_0) - g(x_t)), x the frontier's serving cost per base
    token over the reference price; with 0 it does not. Scaling every price leaves the rise unchanged (log cost):
    the reservation follows the trend, not the level, so a price cut still draws firms in."""
    from sim.market.curves import frontier, jevons, serving_cost
    from sim.market.offer import outside
    from sim.market.terms import ScenarioTerms

    s = small(choice__outside_tracks_frontier=0.0, choice__outside_tracks_cost=1.0, choice__cost_lambda=0.0)
    terms = ScenarioTerms(s, catalog_of(s))

    def x(t):
        c = serving_cost(s, t, frontier(s, t))
        return c * float(jevons(s, c)) / s.choice.budget_per_mtok

    rise = outside(s, 36, terms) - outside(s, 0, terms)
    assert rise > 1.0
    assert np.isclose(rise, s.choice.alpha_price * (np.log(x(0)) - np.log(x(36))))
    dear = price_scaled(s, 2.0)
    assert np.isclose(outside(dear, 36, terms) - outside(dear, 0, terms), rise)
    s.choice.outside_tracks_cost = 0.0
    assert outside(s, 36, terms) == outside(s, 0, terms)


def test_tracking_the_cost_keeps_late_entrants_choosing():
    """Without cost tracking the options' falling prices draw in every reached firm by 2027; with it a share still
    stays out, so adoption keeps answering price."""
    late = slice(48, 60)
    tracked = simulate(small(n=20_000, horizon=60), "open", 1)["entry_declined"].iloc[late].mean()
    fixed = simulate(small(n=20_000, horizon=60, choice__outside_tracks_cost=0.0), "open", 1)
    assert tracked > 0.05 and tracked > 3 * fixed["entry_declined"].iloc[late].mean()


def test_without_an_outside_option_adoption_ignores_price():
    """u0 far below every option: the reached firms all adopt and nobody leaves, whatever the prices."""
    s = small(n=5_000, horizon=36, adoption__entry_outside=True, choice__outside_utility=-50.0)
    assert np.array_equal(adoption_by_year(s, 1), adoption_by_year(price_scaled(s, 2.0), 1))


def test_entrants_who_stay_out_slow_adoption():
    """With the same Bass hazard, letting the reached firms decline lowers adoption (the old rule is the limit of
    an outside option nobody takes)."""
    on = adoption_by_year(small(n=20_000, horizon=24, adoption__entry_outside=True))
    off = adoption_by_year(small(n=20_000, horizon=24, adoption__entry_outside=False))
    assert (on[1:] < off[1:]).all() and on[0] <= off[0]


def test_forced_choosers_are_not_moved_twice_when_entrants_may_leave():
    """A ban forces every open-weight firm to move in the month entrants may also stay out: each firm moves once
    (the adopters re-choosing anyway are one sorted block of the choosers), so no option's count turns negative."""
    from sim.loading import load_scenario

    s = load_scenario("open_model_regulation", ["adoption.entry_outside=true"], population=3000)
    df = simulate(s, "open", 1)
    users = df[[c for c in df if c.startswith("users.")]]
    assert (users >= 0).all().all()
    banned = month_index(s.start, s.events[-1].date)
    cat = catalog_of(s)
    opens = [f"share_users.{o}" for o, is_open in zip(cat.OPTIONS, cat.IS_OPEN, strict=True) if is_open]
    assert (df[opens].iloc[banned:] == 0).all().all()
