"""``sim brief`` end to end on a small population: the page's sections, its numbers equal to ``sim run``'s and ``sim
sweep``'s on the same seeds, the channels adding up to the difference, the scenario's premise held, bad input refused,
and the page read in a browser at 1,280 px without anything clipped."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from sim.brief.compute import documented_ranges, split_ranges
from sim.loading import load_scenario
from tests.helpers import chromium_page

ROOT = Path(__file__).resolve().parent.parent
SIM = [sys.executable, "-m", "sim"]
SMALL = ["--population", "1500", "--replications", "3", "--points", "24", "--seed", "11",
         "--set", "horizon_months=24"]
SECTIONS = ("The answer", "Which channels make the answer", "Where it flips", "The spend a model must justify",
            "What the answer leans on", "Reproduce")


def sim(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run([*SIM, *args], cwd=cwd, capture_output=True, text=True, timeout=600)


@pytest.fixture(scope="module")
def brief(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("brief") / "baseline"
    done = sim("brief", "baseline", "--quick", *SMALL, "--workers", "2", "--out", str(out))
    assert done.returncode == 0, done.stderr
    assert "Open vs a closed Meta API" in done.stdout and "Open vs no Meta model" in done.stdout
    return out


def test_page_has_every_section_and_both_lenses(brief):
    md = (brief / "brief.md").read_text()
    page = (brief / "brief.html").read_text()
    for title in SECTIONS:
        assert f"## {title}" in md and f"<h2>{title}</h2>" in page
    for lens in ("strategic NPV", "reported AI P&L"):
        assert md.count(lens) >= 2
    assert "only the AI-related lines" in md  # npv.meta is a ledger of AI lines, said once and plainly
    assert page.count("data:image/png;base64,") == 2
    assert (brief / "figures" / "channels.png").is_file() and (brief / "figures" / "flips.png").is_file()


def test_seed_numbers_equal_sim_run(brief, tmp_path):
    done = sim("run", "baseline", *[a for a in SMALL if a not in ("--points", "24")], "--out", str(tmp_path / "r"))
    assert done.returncode == 0, done.stderr
    run = pd.read_csv(tmp_path / "r" / "summary.csv")
    mine = pd.read_csv(brief / "summary.csv")
    pd.testing.assert_frame_equal(mine[run.columns], run)
    numbers = json.loads((brief / "brief.json").read_text())
    wide = run.pivot_table(index="replicate", columns="strategy", values="npv.meta")
    for v in numbers["verdicts"]:
        if v["metric"] == "npv.meta":
            a, b = v["comparison"].split("-")
            assert v["mean"] == pytest.approx((wide[a] - wide[b]).mean(), rel=1e-12)
            assert v["ci_lo"] < v["mean"] < v["ci_hi"]


def test_world_numbers_equal_sim_sweep_and_analyze(brief, tmp_path):
    out = tmp_path / "sweep"
    done = sim("sweep", str(brief / "experiment.yaml"), "--out", str(out), "--workers", "1")
    assert done.returncode == 0, done.stderr
    pd.testing.assert_frame_equal(pd.read_parquet(out / "results.parquet"),
                                  pd.read_parquet(brief / "sweep" / "results.parquet"))
    assert sim("analyze", str(out)).returncode == 0
    table = pd.read_csv(out / "probability.csv")
    numbers = json.loads((brief / "brief.json").read_text())
    for v in numbers["verdicts"]:
        row = table[(table["metric"] == v["metric"]) & (table["comparison"] == v["comparison"])].iloc[0]
        assert (v["p_open_ahead"], v["p_lo"], v["p_hi"]) == pytest.approx(
            (row["estimate"], row["ci_lo"], row["ci_hi"]))
        assert v["p_lo"] <= v["p_open_ahead"] <= v["p_hi"]


def test_channel_differences_add_up_to_the_difference(brief):
    numbers = json.loads((brief / "brief.json").read_text())
    channels = pd.DataFrame(numbers["channels"])
    for v in numbers["verdicts"]:
        if v["metric"] == "npv.meta":
            assert channels[v["comparison"]].sum() == pytest.approx(v["mean"], rel=1e-9, abs=1.0)


def test_breakeven_share_reported_for_each_builder(brief):
    numbers = json.loads((brief / "brief.json").read_text())
    table = pd.DataFrame(numbers["breakeven_spend_share"])
    assert set(table["builder"]) == {"open", "closed"} and set(table["source"]) == {"seeds", "worlds"}
    seeds = pd.read_csv(brief / "summary.csv")["breakeven_spend_share.open_vs_absent"].dropna()
    row = table[(table["builder"] == "open") & (table["source"] == "seeds")].iloc[0]
    assert row["median"] == pytest.approx(float(np.median(seeds)))


def test_a_scenario_premise_is_held_and_the_rest_swept():
    ranges = documented_ranges()
    swept, held = split_ranges(load_scenario("baseline"), ranges)
    assert not held and set(swept) == set(ranges)
    swept, held = split_ranges(load_scenario("baseline", ["community.strength=90"]), ranges)
    assert held == {"community.strength": 90} and "community.strength" not in swept
    baseline_value = load_scenario("baseline").community.strength  # named by --set: held even at the baseline's
    _, held = split_ranges(load_scenario("baseline", [f"community.strength={baseline_value}"]), ranges,
                           [f"community.strength={baseline_value}"])
    assert held == {"community.strength": baseline_value}


def test_page_numbers_are_strict_json_and_commands_reproduce_all_three(brief):
    json.loads((brief / "brief.json").read_text(), parse_constant=lambda c: pytest.fail(f"{c} in brief.json"))
    md = (brief / "brief.md").read_text()
    assert "sim run baseline --strategies open,closed,absent --replications 3 --population 1500 --seed 11" in md
    assert "--set horizon_months=24" in md and "--resamples 3" in md


def test_a_pinned_or_switched_strategy_is_said_on_the_page():
    from sim.brief.page import strategy_notes

    fake = SimpleNamespace(scenario=load_scenario("no_meta_model"))
    assert "pins Meta's strategy to absent" in strategy_notes(fake)[0][1]
    notes = strategy_notes(SimpleNamespace(scenario=load_scenario("meta_goes_closed")))
    assert any("switches Meta's open strategy to closed" in n[1] for n in notes)
    assert strategy_notes(SimpleNamespace(scenario=load_scenario("baseline"))) == []


ALL_BUT_ONE = "\n".join(["name: all_set", "description: sets every documented range but one", "extends: baseline",
                          "community:", "  strength: 61"])


@pytest.mark.parametrize("args, blamed", [
    (["brief", "baselin", "--quick"], "did you mean baseline"),
    (["brief", "baseline", "--points", "5"], "--points"),
    (["brief", "baseline", "--set", "community.strenght=3"], "community.strenght"),
    (["brief", "baseline", "--set", "meta.strategy=closed"], "meta.strategy"),
])
def test_bad_input_is_one_line_and_exit_2(args, blamed, tmp_path):
    done = sim(*args, "--out", str(tmp_path / "x"), cwd=tmp_path)
    assert done.returncode == 2
    assert blamed in done.stderr and len(done.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "x").exists()


def test_a_folder_of_other_files_is_refused(tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    done = sim("brief", "baseline", "--quick", "--out", str(tmp_path), cwd=tmp_path)
    assert done.returncode == 2 and "notes.txt" in done.stderr
    assert (tmp_path / "notes.txt").read_text() == "mine"


@pytest.mark.timeout(300)
def test_page_is_not_clipped_at_1280_px(brief, tmp_path):
    with chromium_page(tmp_path / "profile", width=1280, height=900) as page:
        page.goto((brief / "brief.html").as_uri(), wait_until="load")
        assert page.evaluate("document.documentElement.scrollWidth") <= 1280
        overflowing = page.evaluate("""() => [...document.querySelectorAll('body *')].filter(e => {
            const r = e.getBoundingClientRect();
            return r.width > 0 && (r.right > window.innerWidth + 0.5 || r.left < -0.5);
        }).map(e => e.tagName + ' ' + e.className)""")
        assert overflowing == []
        for img in page.locator("img").all():
            assert img.evaluate("i => i.complete && i.naturalWidth > 0")
            assert img.evaluate("i => i.getBoundingClientRect().width <= i.parentElement.clientWidth + 0.5")


def test_worlds_sentence_says_what_the_interval_allows():
    from sim.brief.compute import Verdict
    from sim.brief.page import worlds_sentence

    def said(p, lo, hi, n=100):
        return worlds_sentence(Verdict("open", "absent", "npv.meta", 0, 0, 0, 3, p, lo, hi, n)).split(": ", 1)[1]

    assert said(0.0, 0.0, 0.04) == "almost nowhere in the ranges"
    assert said(0.0, 0.0, 0.16, 20).startswith("in none of them")
    assert said(0.3, 0.2, 0.4) == "in a minority of worlds"
    assert said(0.85, 0.64, 1.0, 20) == "in most worlds"
    assert said(0.5, 0.4, 0.6) == "it depends on the world"
    assert said(0.97, 0.93, 1.0) == "almost everywhere in the ranges"


def test_too_few_parameters_left_to_sample_is_refused_before_any_work(tmp_path, monkeypatch, capsys):
    """A scenario that sets all but one of the documented ranged parameters leaves the worlds nothing to explain."""
    import sim.brief.compute as compute
    from sim.cli import main

    ranges = documented_ranges()
    keep = {p: ranges[p] for p in ("community.strength", "market.ai_is_the_product")}
    monkeypatch.setattr(compute, "documented_ranges", lambda: keep)
    scenario = tmp_path / "one_left.yaml"
    scenario.write_text(ALL_BUT_ONE)
    assert "community.strength" in keep
    assert main(["brief", str(scenario), "--quick", "--out", str(tmp_path / "x")]) == 2
    assert "leaving 1 to sample" in capsys.readouterr().err
    assert not (tmp_path / "x").exists()
