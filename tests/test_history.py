"""Release history as input (sim/market/history.py): listed scores set the makers' paths, open scores enter net of
the model's own endogenous terms, later releases keep the last place and leap; the baseline's frontier and sigma_leap
are the fits the module states; an added provider never inherits a history."""

from __future__ import annotations

import numpy as np
import pytest

from sim.config import month_index
from sim.loading import load_scenario
from sim.market import LLMMarket
from sim.market.history import Listing, frontier_fit, leap_sd, without_spillover
from sim.runner import simulate
from tests.helpers import small, write


def makers(model):
    return [a for a in model.agents if hasattr(a, "listing")]


def test_a_labs_listed_scores_are_its_quality_at_release():
    """Without a flywheel a lab's quality in the month of a listed release is the listed score, whatever Meta does."""
    sc = small(n=1000, horizon=36, **{f"providers__{lab}__flywheel__strength": 0 for lab in ("openai", "anthropic")})
    for strategy in ("open", "absent"):
        df = simulate(sc, strategy, 3)
        for lab in ("openai", "anthropic"):
            for r in getattr(sc.providers, lab).releases:
                t = month_index(sc.start, r.date)
                if 0 < t < 36:
                    assert df[f"quality.{lab}"].iloc[t] == pytest.approx(r.elo)


def test_open_scores_enter_net_and_the_run_adds_back_what_its_strategy_earns():
    """An open family's listed score was measured with Llama open: under open its quality is near the score; with
    a Llama that leads it (the quality investment lever), open weights teach it and no Llama (absent) does not."""
    t = month_index("2023-01", "2024-09")  # Qwen 2.5, 1255
    plain = simulate(small(n=3000, horizon=24), "open", 4)["quality.china_open_hosted"].iloc[t]
    assert abs(plain - 1255) < 25
    strong = small(n=3000, horizon=24, meta__investment__extra_elo=250)
    q = {s: simulate(strong, s, 4)["quality.china_open_hosted"].iloc[t] for s in ("open", "absent")}
    assert q["absent"] < q["open"] - 10


def test_spillover_inversion_recovers_the_releases_own_quality():
    own, teacher, sigma = 1150.0, 1250.0, 0.2
    measured = own + sigma * max(teacher - own, 0.0)
    assert without_spillover(measured, teacher, sigma) == pytest.approx(own)
    assert without_spillover(1300.0, teacher, sigma) == 1300.0  # ahead of the teacher: nothing learnt


def test_after_the_list_a_maker_keeps_its_last_place_and_leaps_around_it():
    """With sigma_leap = 0 the first release after the list lands at reference + last place + shift; with
    sigma_leap > 0 later releases differ between seeds, listed ones never do."""
    sc = small(n=500, horizon=60, market__release_sd=0.0)
    model = LLMMarket(sc, "open", 1)
    lab = next(m for m in makers(model) if m.key == "openai")
    last = max(m for m, _ in lab.listing.dated)
    after = lab.following_release(last)
    assert lab.target_quality(after) == pytest.approx(lab.reference(after) + lab.place(last) + lab.shift(after))
    noisy = small(n=500, horizon=60, market__release_sd=40.0)
    a, b = (simulate(noisy, "open", seed)["quality.openai"] for seed in (1, 2))
    assert (np.abs(a.iloc[last + 8:] - b.iloc[last + 8:]) > 5).any()


def test_the_baselines_frontier_and_leap_spread_are_the_stated_fits():
    sc = load_scenario("baseline", population=500)
    until = month_index(sc.start, "2024-12")
    start, growth = frontier_fit(sc, [getattr(sc.providers, lab) for lab in ("openai", "anthropic", "google")], until)
    assert sc.market.frontier_start_elo == pytest.approx(start, abs=0.1)
    assert sc.market.frontier_growth == pytest.approx(growth, abs=0.01)
    sigma, jumps = leap_sd(makers(LLMMarket(sc, "open", 1)), until)
    assert jumps >= 15 and sc.market.release_sd == pytest.approx(sigma, abs=0.1)


def test_an_added_provider_does_not_inherit_the_history_of_the_one_it_is_like(tmp_path):
    text = "extends: baseline\nname: lab\nproviders:\n  newlab: {like: openai, label: New}\n"
    path = write(tmp_path, "lab.yaml", text)
    sc = load_scenario(str(path), population=500)
    assert sc.providers.openai.releases and not sc.providers.newlab.releases


def test_the_outside_option_that_tracks_the_frontier_keeps_firms_out_as_models_improve():
    """Entrants weigh options against an outside option that rises with the frontier: fewer adopt by the end."""
    fixed, tracking = (small(n=4000, horizon=48, adoption__entry_outside=True, choice__outside_tracks_frontier=x,
                             choice__outside_utility=0.0) for x in (0.0, 1.0))
    a, b = (simulate(s, "open", 2)["adopted_frac"].iloc[-6:].mean() for s in (fixed, tracking))
    assert b < a - 0.01


def test_the_size_mix_scales_what_users_pay_for_open_tokens():
    full, mixed = (simulate(small(n=500, horizon=12, market__open_size_mix=x), "open", 1) for x in (1.0, 0.25))
    ratio = mixed["price.open_hosted"] / full["price.open_hosted"]
    assert np.allclose(ratio.iloc[:3], 0.25, rtol=1e-6)


def test_spillover_runs_from_any_released_weights_into_llama_too():
    """One spillover rule (design §15): a Meta release absorbs sigma of a better open family's lead, under open and
    closed alike, and a family learns from another family's weights, not only from Llama's."""
    for strategy, column in (("open", "quality.llama_hosted"), ("closed", "quality.meta_api")):
        q = {}
        for sigma in (0.0, 0.5):
            sc = small(n=1500, horizon=36, meta__spillover=sigma, providers__china_open__quality_bonus=200)
            q[sigma] = simulate(sc, strategy, 3)[column].iloc[-1]
        assert q[0.5] > q[0.0] + 20, strategy
    model = LLMMarket(small(n=500, horizon=36, providers__china_open__quality_bonus=300), "absent", 1)
    for _ in range(30):
        model.step()
    rival = next(r for r in model.rivals if r.key == "open_rival")
    assert rival.learn(1000.0, 30) > 1000.0 + 0.2 * 100  # no Llama under absent: it learns from the Chinese family


def test_a_listings_lookups_are_the_scans_they_replace():
    """The listing bisects its months; each lookup gives what a scan of the dated releases gives, with releases
    before the start, several in one month and some without scores."""
    from types import SimpleNamespace

    from sim.market.history import Listing

    rng = np.random.default_rng(2)
    for _ in range(30):
        releases = [SimpleNamespace(date=f"{2022 + int(y)}-{int(mo):02d}", elo=None if rng.random() < 0.3 else 1.0,
                                    agentic=None if rng.random() < 0.5 else 2.0)
                    for y, mo in zip(rng.integers(0, 4, 8), rng.integers(1, 13, 8), strict=True)]
        listing = Listing("2023-01", releases)
        dated = listing.dated
        for t in range(-3, 40):
            here = [r for m, r in dated if m == t or (t == 0 and m < 0)]
            assert listing.at(t) is (here[-1] if here else None)
            later = [m for m, _ in dated if m > t]
            assert listing.next_after(t) == (later[0] if later else None)
            scored = [(m, r) for m, r in listing.with_score if m <= max(t, 0)]
            assert listing.scored(t) == (scored[-1] if scored else listing.with_score[0] if listing.with_score
                                         else None)
            both = [(m, r) for m, r in listing.with_both if m <= max(t, 0)]
            assert listing.with_agentic(t) == (both[-1] if both else None)


def test_the_open_netting_reads_listings_built_once_from_the_scenario():
    """The listings the open netting reads (Meta's and every open family's) are built once with the scenario's terms,
    not on every release: an event may not edit a release history, so they stay right for the whole run."""
    from sim.config import Event
    from sim.edits import apply_event

    model = LLMMarket(small(n=500, horizon=2), "open", seed=1)
    listings = model.terms().open_listings
    assert set(listings) == {"meta", *model.catalog.OPEN_FAMILIES}
    assert model.terms().open_listings is listings  # kept between months
    for key, listing in listings.items():
        history = model.cfg.meta.releases if key == "meta" else getattr(model.cfg.providers, key).releases
        assert listing.dated == Listing(model.cfg.start, history).dated
    family = model.catalog.OPEN_FAMILIES[0]
    with pytest.raises(TypeError, match="cannot change during a run"):
        apply_event(model.cfg, Event(date=model.cfg.start, set={f"providers.{family}.releases.0.elo": 1.0}))
