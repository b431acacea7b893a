"""Issue 25, the figures and reports: short parameter labels with units (6), an HTML run report that fits the window
and promises no interval it does not draw (7), game figures and a game headline that give no verdict the replicates
cannot carry (13), sweep reports with every paired difference (14), and Meta's NPV shown as differences between
strategies with one plain word on what it measures (part 2)."""

from __future__ import annotations

import io
import itertools
import os
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg

from sim.cli import main
from sim.decision.play import leader_headline
from sim.figures.decision import convergence_figure, game_meta_figure
from sim.figures.run import param_label, schema_field
from sim.figures.run_report import MIN_CI_REPLICATES, differences_table, run_report_html, sweep_report_html
from sim.figures.sweep import breakeven_figure, pairs_figure, response_figure, sensitivity_figure, sweep_caption
from sim.results import RunResults
from tests.test_plots import synthetic_sweep

SYMBOLS = ("kappa_comm", "theta_h", "delta_T", "rho", "lambda", "_")
LONG = ["param.community.strength", "param.providers.cloud_host.pass_through", "param.meta.talent.per_mindshare",
        "param.license.mau_threshold", "param.providers.cloud_host.meta_revenue_share", "param.consumer.cost_weight"]


def drawn(fig):
    FigureCanvasAgg(fig)
    fig.canvas.draw()
    return fig.canvas.get_renderer()


def png_size(fig, dpi: int) -> tuple[int, int]:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight")
    data = buf.getvalue()
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")


def long_sweep(points: int = 24) -> pd.DataFrame:
    """A sweep over parameters whose schema descriptions are long or a bare symbol (kappa_comm, theta_h...)."""
    rng = np.random.default_rng(3)
    rows = []
    for p in range(points):
        values = {c: rng.uniform(1e8, 1e9) if "mau" in c else rng.uniform(0, 1) for c in LONG}
        for r in range(2):
            for s in ("open", "closed", "absent"):
                rows.append({"experiment": "long", "point": p, **values, "strategy": s, "replicate": r, "seed": r,
                             "npv.meta": rng.normal(-8e9, 1e9)})
    return pd.DataFrame(rows)


# --- 6: short labels with units, the description in the caption -------------------------------------------------


def test_axis_labels_are_short_words_with_units_never_symbols():
    for path in LONG:
        label = param_label(path)
        assert not any(sym in label for sym in SYMBOLS), label
        assert all(len(line) <= 40 for line in label.splitlines()), label
        unit = schema_field(path.removeprefix("param.")).unit
        assert unit and f"({unit})" in label.replace("\n", " "), label
    assert param_label("community.strength") == "Open-community strength (Elo)"


def test_pairs_figure_is_compact_and_labelled_in_words():
    df = long_sweep()
    x = df.drop_duplicates("point")[LONG].rename(columns=lambda c: c.removeprefix("param.")).reset_index(drop=True)
    boxes = pd.DataFrame({"box": [1], "parameter": ["community.strength"], "lower": [0.3], "upper": [np.inf],
                          "method": ["prim"]})
    fig = pairs_figure(x, x["community.strength"] > 0.5, boxes,
                       ["community.strength", "providers.cloud_host.pass_through"])
    ax = fig.axes[0]
    for label in (ax.get_xlabel(), ax.get_ylabel()):
        assert not any(sym in label for sym in SYMBOLS) and len(label) < 60, label
    width, height = png_size(fig, 150)
    assert height < 800 and width < 1300  # was 1,330 px tall: the whole description as a y label


def test_response_labels_meet_neither_each_other_nor_the_legend():
    fig = response_figure(long_sweep(), "npv.meta", LONG)
    renderer = drawn(fig)
    labels = [ax.xaxis.label.get_window_extent(renderer) for ax in fig.axes if ax.get_xlabel()]
    assert len(labels) == len(LONG)
    ticks = [t.get_window_extent(renderer) for ax in fig.axes for t in ax.get_xticklabels() if t.get_text()]
    legend = fig.legends[0].get_window_extent(renderer)
    assert not any(a.overlaps(b) for a, b in itertools.combinations(labels, 2))
    assert not any(box.overlaps(legend) for box in labels + ticks)
    for ax in fig.axes:
        assert not any(sym in ax.get_xlabel() for sym in SYMBOLS), ax.get_xlabel()
    mau = fig.axes[3]  # licence MAU threshold: 200M, 400M... and no offset "1e9" beside the legend
    assert all(re.fullmatch(r"[\d.]+[MB]", t.get_text()) for t in mau.get_xticklabels() if t.get_text())
    assert not mau.xaxis.get_offset_text().get_text()


def test_other_sweep_figures_label_parameters_in_words(tmp_path):
    df = synthetic_sweep(tmp_path / "s")
    x, y = "param.providers.openai.flywheel.strength", "param.license.mau_threshold"
    heat = breakeven_figure(df, x, y).axes[0]
    assert heat.get_xlabel() == "OpenAI data-flywheel strength\n(Elo)"
    assert "Licence MAU threshold" in heat.get_ylabel() and "license.mau" not in heat.get_ylabel()
    sens = pd.read_csv(tmp_path / "s" / "sensitivity.csv")
    ticks = [t.get_text() for t in sensitivity_figure(sens, "sobol").axes[0].get_yticklabels()]
    assert not any("_" in t or "." in t.split("(")[0] for t in ticks), ticks


def test_the_caption_carries_the_description_the_axis_leaves_out():
    df = long_sweep(6)
    caption = sweep_caption("response", df)
    description = schema_field("providers.cloud_host.pass_through").description
    assert description in caption and "providers.cloud_host.pass_through" in caption
    assert "kappa_comm" in caption  # the model's symbol, defined where a reader looks it up
    assert "Paired difference open − absent" in sweep_caption("breakeven_open_absent", df)


# --- 7 and part 2: the run report ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def one_rep(tmp_path_factory):
    out = tmp_path_factory.mktemp("one") / "baseline"
    assert main(["run", "baseline", "--population", "2000", "--replications", "1", "--set", "horizon_months=12",
                 "--out", str(out)]) == 0
    return RunResults.read(out)


def figcaption(text: str, kind: str) -> str:
    return re.search(rf'<figure id="fig-{kind}">.*?<figcaption>(.*?)</figcaption>', text, re.S).group(1)


def test_one_replicate_report_caution_is_a_block_and_no_ci_is_promised(one_rep):
    text = run_report_html(one_rep, dpi=30)
    assert '<div class="caution">Only 1 replicate' in text and '<span class="caution">' not in text
    assert re.search(r"\.caution\{display:block", text)  # a block: its padding and border never clip a line
    assert "95% CI" not in figcaption(text, "strategies") and "no confidence interval" in figcaption(text,
                                                                                                     "strategies")
    assert "95% confidence interval" not in figcaption(text, "ledger")
    assert "figure img{max-width:100%;height:auto" in text


def test_report_shows_meta_value_as_differences_and_says_once_what_it_is(one_rep):
    text = run_report_html(one_rep, dpi=30)
    assert text.count("sums only the AI-related channels") == 1
    assert "not Meta's enterprise value" in text
    table = re.search(r'<table class="differences">.*?</table>', text, re.S).group(0)
    wide = one_rep.summary.pivot_table(index="replicate", columns="strategy", values="npv.meta") / 1e9
    for a, b in (("open", "closed"), ("open", "absent"), ("closed", "absent")):
        row = re.search(rf"<tr><td>{a} − {b}</td><td>(.*?)</td>", table).group(1)
        assert row == f"{(wide[a] - wide[b]).mean():,.2f}"  # one replicate: the paired value, no interval
    assert 'class="ci"' not in table


def test_differences_carry_an_interval_from_three_replicates():
    rng = np.random.default_rng(5)
    rows = [{"strategy": s, "replicate": r, "npv.meta": base + rng.normal(0, 1e8),
             "npv.meta_reported": base / 2 + rng.normal(0, 1e8)}
            for r in range(MIN_CI_REPLICATES) for s, base in (("open", 1e9), ("closed", 0.0), ("absent", -1e9))]
    table = differences_table(pd.DataFrame(rows))
    assert table.count("<tr><td>") == 3 and table.count('class="ci"') == 6  # two lenses x three pairs
    two = differences_table(pd.DataFrame([r for r in rows if r["replicate"] < 2]))
    assert 'class="ci"' not in two and "of 2" in two


@pytest.mark.skipif(not Path("/usr/bin/chromium").exists(), reason="no Chromium (scripts/setup-browser.sh)")
def test_report_fits_a_1400_px_window_in_a_browser(one_rep, tmp_path):
    if os.environ.get("CI") != "true":
        pytest.importorskip("playwright")
    from playwright.sync_api import sync_playwright

    page_file = tmp_path / "report.html"
    page_file.write_text(run_report_html(one_rep, dpi=110))
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox", "--disable-gpu"])
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            page.goto(page_file.as_uri())
            seen = page.evaluate("""() => ({
                scroll: document.documentElement.scrollWidth,
                right: Math.max(...Array.from(document.images).map(i => i.getBoundingClientRect().right)),
                caution: Array.from(document.querySelectorAll('.caution')).map(c => [c.clientHeight, c.scrollHeight,
                         c.getClientRects().length])})""")
        finally:
            browser.close()
    assert seen["scroll"] <= 1400 and seen["right"] <= 1400  # every figure, legend included, on screen
    assert seen["caution"] and all(h >= s and rects == 1 for h, s, rects in seen["caution"])  # one unclipped box


# --- 14 and part 2: the sweep report -------------------------------------------------------------------------------


def test_sweep_report_shows_every_paired_difference(tmp_path):
    folder = tmp_path / "sweep"
    df = synthetic_sweep(folder)
    text = sweep_report_html(folder, dpi=30)
    assert text.count("sums only the AI-related channels") == 1
    table = re.search(r'<table class="differences">.*?</table>', text, re.S).group(0)
    for a, b in (("open", "closed"), ("open", "absent"), ("closed", "absent")):
        wide = df.pivot_table(index=["point", "replicate"], columns="strategy", values="npv.meta") / 1e9
        row = re.search(rf"<tr><td>{a} − {b}</td><td>([^<]*)", table).group(1).strip()
        assert row == f"{(wide[a] - wide[b]).mean():,.2f}"  # paired on point and replicate, over the design
    verdicts = re.search(r'<table class="verdicts">.*?</thead>', text, re.S).group(0)
    assert all(f"npv.meta {c} ($B)" in verdicts for c in ("open − closed", "open − absent", "closed − absent"))
    assert 'id="fig-breakeven_open_absent"' in text and 'id="fig-breakeven"' in text


# --- 13: the game's figures and headline ----------------------------------------------------------------------------


def test_game_meta_legend_stays_off_the_bars_and_swatches_match_them():
    rows = pd.DataFrame({"item": ["open", "closed"], "strategy": ["open", "closed"], "payoff": [-3.5e10, -3.6e10],
                         "ci_low": [-3.6e10, -4.8e10], "ci_high": [-3.4e10, -2.3e10]})
    fig = game_meta_figure(rows)
    renderer = drawn(fig)
    ax = fig.axes[0]
    bars = [p for p in ax.patches]
    legend = (fig.legends or [ax.get_legend()])[0]
    box = legend.get_window_extent(renderer)
    assert not any(box.overlaps(bar.get_window_extent(renderer)) for bar in bars)
    swatches = legend.get_patches()
    assert [s.get_facecolor() for s in swatches] == [b.get_facecolor() for b in bars]
    assert swatches[1].get_hatch() == bars[1].get_hatch() and bars[1].get_hatch()  # told apart without colour


def test_convergence_counts_have_whole_ticks():
    conv = pd.DataFrame({"generation": [0, 1, 2], "hypervolume": [0.2, 0.5, 0.6], "pareto_size": [2, 3, 3],
                         "runs": [12, 24, 36]})
    fig = convergence_figure(conv)
    drawn(fig)
    ax, ax2 = fig.axes
    for axis in (ax.xaxis, ax2.xaxis, ax2.yaxis):
        lo, hi = axis.get_view_interval()
        shown = [v for v in axis.get_ticklocs() if lo - 1e-9 <= v <= hi + 1e-9]
        assert shown and all(float(v).is_integer() for v in shown), shown


def test_game_headline_names_meta_and_gives_a_verdict_only_when_the_replicates_carry_one():
    leader = pd.DataFrame({"item": ["open", "closed"], "strategy": ["open", "closed"], "payoff": [-11e9, -12e9],
                           "ended": ["equilibrium"] * 2})
    two = leader_headline(leader, {"open": np.array([-11e9, -11.2e9]), "closed": np.array([-12e9, -12.1e9])},
                          "meta", "npv.meta")
    assert "Meta's" in two and "meta's" not in two
    assert "best strategy is" not in two and f"at least {MIN_CI_REPLICATES}" in two
    clear = leader_headline(leader, {"open": np.array([-11e9, -11.2e9, -10.8e9]),
                                     "closed": np.array([-12e9, -12.1e9, -11.9e9])}, "meta", "npv.meta")
    assert "Meta's best strategy is open" in clear and "excludes 0" in clear
    noisy = leader_headline(leader, {"open": np.array([-11e9, -13.2e9, -8.8e9]),
                                     "closed": np.array([-12e9, -12.1e9, -11.9e9])}, "meta", "npv.meta")
    assert "best strategy is" not in noisy and "includes 0" in noisy
