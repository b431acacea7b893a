"""A scenario adds providers in YAML alone (``providers.<key>: {like: ...}``): they appear everywhere and compete."""

from __future__ import annotations

import numpy as np
import pytest

from sim.catalog import DEFAULT, MAX_PROVIDERS, catalog_of
from sim.errors import ConfigError
from sim.loading import load_scenario
from sim.market import LLMMarket
from sim.runner import run_scenario
from tests.helpers import write

ADDED = """\
extends: baseline
name: added
description: a fourth closed lab and a second open family, declared here alone
providers:
  xlab: {like: anthropic, label: X Lab, enters: 2023-06, lead: {lead}}
  fam2: {like: open_rival, label: Family Two, offset: {offset}}
consumer:
  xlab: {like: anthropic, reach: 1.0e8, launch: 2023-06}
"""


def added(tmp_path, lead: float = 0.0, offset: float = -30.0, n: int = 3000, horizon: int = 24):
    text = ADDED.replace("{lead}", str(lead)).replace("{offset}", str(offset))
    return load_scenario(write(tmp_path, "added.yaml", text), [f"horizon_months={horizon}"], population=n)


def test_added_providers_appear_in_tables(tmp_path):
    scenario = added(tmp_path)
    cat = catalog_of(scenario)
    assert cat.CLOSED_LABS == (*DEFAULT.CLOSED_LABS, "xlab")
    assert cat.OPEN_FAMILIES == ("open_rival", "china_open", "fam2")  # the baseline's own added family first
    assert cat.OPTIONS[:DEFAULT.K] == DEFAULT.OPTIONS  # built-in columns keep their places
    ts, summary = run_scenario(scenario, ["open"], 1)
    for column in ("share_users.xlab", "share_tokens.xlab", "revenue.xlab", "profit.xlab", "flywheel_gain.xlab",
                   "api_revenue.xlab", "share_tokens.fam2_hosted", "share_tokens.fam2_self", "revenue.fam2",
                   "consumer_share.xlab"):
        assert column in ts, column
    for metric in ("npv.xlab", "npv.fam2", "final_share_tokens.xlab", "final_consumer_share.xlab"):
        assert metric in summary, metric
    shares = ts[[c for c in ts if c.startswith("share_tokens.")]].sum(axis=1)
    assert np.allclose(shares[ts["adopted_frac"] > 0], 1.0)  # the new options are counted with the others
    early = ts[ts["month"] < 5]  # X Lab enters in 2023-06
    assert (early["users.xlab"] == 0).all() and np.isnan(early["price.xlab"]).all()
    assert ts["users.xlab"].iloc[-1] > 0 and ts["users.fam2_hosted"].iloc[-1] > 0


@pytest.mark.parametrize("key", ["xlab", "fam2"])
def test_an_added_provider_takes_share_when_its_quality_is_high(tmp_path, key):
    """Quality at an unchanged serving cost (``quality_bonus``: a release's quality also sets what it costs to
    serve, so a better open release is dearer to host)."""
    columns = ["share_users.xlab"] if key == "xlab" else ["share_users.fam2_hosted", "share_users.fam2_self"]

    def final_share(bonus: float):
        scenario = added(tmp_path, horizon=18)
        getattr(scenario.providers, key).quality_bonus = bonus
        ts, _ = run_scenario(scenario, ["absent"], 1)
        return ts[columns].sum(axis=1).iloc[-6:].mean()

    strong, weak = final_share(150.0), final_share(-100.0)
    assert strong > weak + 0.05 and strong > 0.1


def test_events_reach_an_added_provider(tmp_path):
    text = ADDED.replace("{lead}", "0").replace("{offset}", "0") + \
        "events:\n  - {date: 2023-09, add: {providers.xlab.quality_bonus: 100}}\n"
    scenario = load_scenario(write(tmp_path, "e.yaml", text), ["horizon_months=12"], population=1000)
    rows = LLMMarket(scenario, "open", seed=1).run()
    jump = rows[8]["quality.xlab"] - rows[7]["quality.xlab"]
    assert jump >= 100.0 - 1e-9


@pytest.mark.parametrize("entry, message", [
    ("xai: {like: meta, label: x}", "providers.xai.like: must be one of openai, anthropic, google, open_rival"),
    ("llama_hosted: {like: openai, label: x}", "providers.llama_hosted: clashes with the built-in name"),
    ("open: {like: open_rival, label: x}", "providers.open: clashes with the built-in name 'open_hosted'"),
    ("xai: {label: x}", "providers.xai: unknown field; an added provider needs `like"),
    ("xai: {like: openai, label: x, lead: high}", "providers.xai.lead: Input should be a valid number"),
    (", ".join(f"a{i}: {{like: openai, label: a}}" for i in range(MAX_PROVIDERS - len(DEFAULT.PROVIDERS) + 1)),
     f"providers: at most {MAX_PROVIDERS} providers in all"),
])
def test_bad_added_providers_get_one_line(tmp_path, entry, message):
    path = write(tmp_path, "bad.yaml", f"extends: baseline\nname: b\ndescription: d\nproviders: {{{entry}}}\n")
    with pytest.raises(ConfigError) as err:
        load_scenario(path)
    assert message in str(err.value) and "\n" not in str(err.value)


def test_the_shipped_entrants_scenario_runs(tmp_path):
    scenario = load_scenario("xai_and_deepseek", ["horizon_months=30"], population=3000)
    ts, summary = run_scenario(scenario, ["open", "absent"], 1)
    assert ts["users.xai"].iloc[-1] > 0 and ts["users.deepseek_hosted"].iloc[-1] > 0
    assert {"npv.xai", "npv.deepseek"} <= set(summary)


def test_added_providers_are_drawn_with_their_own_colour_and_label(tmp_path):
    from sim.figures.run import profits_figure, token_share_figure
    from sim.results import RunResults

    scenario = added(tmp_path, horizon=12)
    ts, summary = run_scenario(scenario, ["absent"], 1)
    results = RunResults(ts, summary, scenario.model_dump(mode="json"))
    cat = results.catalog
    assert cat.PROVIDER_LABELS["xlab"] == "X Lab" and cat.OPTION_LABELS["fam2_hosted"] == "Family Two, hosted"
    colours = set(cat.OPTION_COLORS.values())
    added_here = len(cat.PROVIDERS) - len(DEFAULT.PROVIDERS)  # the baseline's Chinese family, X Lab, Family Two
    assert added_here == 3 and len(colours) == len(set(DEFAULT.OPTION_COLORS.values())) + added_here
    legend = [t.get_text() for t in token_share_figure(ts, cat).legends[0].get_texts()]
    assert "X Lab API" in legend and "Family Two, hosted" in legend
    titles = [ax.get_title() for ax in profits_figure(ts, cat).axes if ax.get_visible()]
    assert {"X Lab", "Family Two"} <= set(titles)


def test_sim_validate_refuses_a_bad_added_provider_in_one_line(tmp_path, capsys):
    from sim.cli import main

    path = write(tmp_path, "bad.yaml", "extends: baseline\nname: b\ndescription: d\n"
                                      "providers: {xai: {like: cloud_host, label: x}}\n")
    assert main(["validate", str(path)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "providers.xai.like: must be one of" in err


def test_sweeps_and_games_offer_the_added_providers_outcomes(tmp_path):
    """A sweep's metrics and a game's players and payoffs may name an added provider (no model is run)."""
    from sim.decision.levers import load_decision
    from sim.experiments.schema import load_experiment

    scenario = write(tmp_path, "added.yaml", ADDED.replace("{lead}", "0").replace("{offset}", "0"))
    sweep = write(tmp_path, "sweep.yaml", f"name: s\ndescription: d\nseed: 1\nscenario: {scenario}\n"
                                          "strategies: [open]\nreplications: 1\npopulation: 500\n"
                                          "parameters: {providers.xlab.lead: [0, 50]}\ndesign: {method: grid}\n"
                                          "outputs: {metrics: [npv.xlab, final_share_tokens.fam2_*]}\n")
    assert set(load_experiment(sweep).metrics) == {"npv.xlab", "final_share_tokens.fam2_hosted",
                                                    "final_share_tokens.fam2_self"}
    game = write(tmp_path, "game.yaml", f"kind: game\nname: g\ndescription: d\nseed: 1\nscenario: {scenario}\n"
                                        "population: 500\nreplications: 2\nplayers:\n"
                                        "  meta: {menu: {open: {strategy: open}, closed: {strategy: closed}}}\n"
                                        "  xlab: {menu: {list: {}, respond: {providers.xlab.price.mode: "
                                        "best_response}}}\n")
    assert load_decision(game).payoffs == ("npv.meta", "npv.xlab")


def test_the_dashboard_draws_an_added_provider():
    from sim.dashboard import app

    model = app.DashboardMarket(preset="xai_and_deepseek")
    for _ in range(12):
        model.step()
    legend = [t.get_text() for t in app.adoption_chart(model).legends[0].get_texts()]
    assert "xAI API" in legend


def test_a_distrusted_family_loses_the_segment_that_distrusts_it(tmp_path):
    """Trust per segment, as for Meta: a family regulated firms distrust loses them, while startups hardly move."""
    from sim.population import SEGMENT_CODE

    def family_share(penalty: float, segment: str) -> float:
        scenario = added(tmp_path, offset=30.0, horizon=18, n=8000)
        scenario.providers.fam2.trust_penalty.regulated = penalty
        m = LLMMarket(scenario, "open", seed=4)
        m.run()
        seg = m.developers.tally.users_seg[1:, SEGMENT_CODE[segment]]
        rows = [m.catalog.IDX["fam2_hosted"], m.catalog.IDX["fam2_self"]]
        return float(seg[rows].sum() / seg.sum())

    assert family_share(3.0, "regulated") < 0.5 * family_share(0.0, "regulated")
    assert family_share(3.0, "startup") == pytest.approx(family_share(0.0, "startup"), abs=0.03)
