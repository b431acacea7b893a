"""Honest figures and report (issue 15, items 11-14): a diverging scale centred on zero, axes at the design values,
one legend entry per strategy, colours that survive colour-vision deficiency, no CI promised and not drawn, and a
report that does not claim more than its replicates allow."""

from __future__ import annotations

import base64
import itertools
import re

import numpy as np
import pandas as pd
import pytest
from matplotlib.colors import to_rgb
from matplotlib.contour import ContourSet

from sim.catalog import OPTIONS
from sim.cli import main
from sim.figures.run import (
    adoption_figure,
    comparison_figure,
    ledger_waterfall_figure,
    prices_quality_figure,
    token_share_figure,
    with_derived,
)
from sim.figures.run_report import MIN_CI_REPLICATES, outcomes_table, paired_lines, run_report_html
from sim.figures.style import (
    OPTION_COLORS,
    OPTION_HATCHES,
    OPTION_STYLES,
    SCENARIO_COLORS,
    STRATEGY_COLORS,
    STRATEGY_LABELS,
)
from sim.figures.sweep import breakeven_figure, tick_text
from sim.results import RunResults, scenario_title
from tests.test_plots import X, Y, data_lines, synthetic_sweep


@pytest.fixture(scope="module")
def one_rep_dir(tmp_path_factory):
    """One replicate, with a --set override, as a newcomer's first `sim run`."""
    out = tmp_path_factory.mktemp("one") / "baseline"
    assert main(["run", "baseline", "--population", "800", "--replications", "1", "--set", "horizon_months=18",
                 "--set", "license.mau_threshold=1e8", "--out", str(out)]) == 0
    return out


@pytest.fixture(scope="module")
def one_rep(one_rep_dir):
    return RunResults.read(one_rep_dir)


# --- 11: break-even heatmap ---------------------------------------------------------------------------------------


def shifted_sweep(folder, shift):
    df = synthetic_sweep(folder)
    df.loc[df["strategy"] == "open", "npv.meta"] += shift
    return df


def test_breakeven_scale_is_centred_on_zero_with_symmetric_limits(tmp_path):
    df = shifted_sweep(tmp_path / "s", 6e9)  # open ahead at every point: the data's middle is far from zero
    fig = breakeven_figure(df, X, Y)
    mesh = fig.axes[0].collections[0]
    norm = mesh.norm
    assert norm.vcenter == 0 and norm.vmin == -norm.vmax
    values = np.asarray(mesh.get_array())
    assert values.min() > 0 and np.all(norm(values) > 0.5)  # every cell on the "open ahead" side of the map
    assert not any(isinstance(c, ContourSet) for c in fig.axes[0].collections)  # no sign change, no contour
    assert fig.axes[0].get_legend() is None  # and no break-even key
    assert "no break-even" in fig.texts[0].get_text()


def test_breakeven_axes_run_over_the_design_values_only(tmp_path):
    df = synthetic_sweep(tmp_path / "s")
    fig = breakeven_figure(df, X, Y)
    ax = fig.axes[0]
    xs, ys = np.linspace(0, 100, 5), np.linspace(1e8, 1e9, 4)
    assert ax.get_xlim() == pytest.approx((-0.5, len(xs) - 0.5))  # no axis past the first and last cells
    assert ax.get_ylim() == pytest.approx((-0.5, len(ys) - 0.5))
    assert [t.get_text() for t in ax.get_xticklabels()] == [tick_text(v) for v in xs]
    assert [t.get_text() for t in ax.get_yticklabels()] == [tick_text(v) for v in ys]
    assert tick_text(7e8) == "700M" and tick_text(25.0) == "25"
    # The sign changes here: the contour is drawn and its key shown, once.
    assert any(isinstance(c, ContourSet) for c in ax.collections)
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["break-even (difference = 0)"]


def test_breakeven_scattered_design_stays_inside_the_design(tmp_path):
    df = shifted_sweep(tmp_path / "s", 0.0)
    sub = df.assign(**{X: df[X] + df["point"] * 0.01})  # not a grid any more
    fig = breakeven_figure(sub, X, Y)
    ax = fig.axes[0]
    assert ax.get_xlim() == pytest.approx((sub[X].min(), sub[X].max()))
    assert ax.get_ylim()[0] >= sub[Y].min() - 1e-6


# --- 12: sim compare ----------------------------------------------------------------------------------------------


def test_comparison_legend_once_per_strategy_and_own_scenario_colours(run_dir_two):
    runs = [RunResults.read(run_dir_two), RunResults.read(run_dir_two)]
    runs[1].label = "again"
    fig = comparison_figure(runs)
    llama_ax, npv_ax, rev_ax = fig.axes[0], fig.axes[1], fig.axes[2]
    labels = [t.get_text() for t in npv_ax.get_legend().get_texts()]
    assert sorted(labels) == sorted(STRATEGY_LABELS[s] for s in ("open", "closed", "absent"))
    scenario_colors = {ln.get_color() for ln in data_lines(llama_ax)}
    assert len(scenario_colors) == 2 and not scenario_colors & set(STRATEGY_COLORS.values())
    assert not set(SCENARIO_COLORS) & set(STRATEGY_COLORS.values())
    styles = {ln.get_linestyle() for ln in data_lines(llama_ax)}
    assert len(styles) == 2  # told apart without colour too
    # Revenue in $ million per month, the number the axis says.
    assert "$ million per month" in rev_ax.get_ylabel()
    ts = with_derived(runs[0].timeseries)
    own = ts[ts["strategy"] == "open"].groupby("date")["closed_revenue"].mean() * 1e-6
    assert np.allclose(data_lines(rev_ax)[0].get_ydata(), own.to_numpy())


@pytest.fixture(scope="module")
def run_dir_two(tmp_path_factory):
    out = tmp_path_factory.mktemp("two") / "baseline"
    assert main(["run", "baseline", "--population", "600", "--replications", "2", "--set", "horizon_months=12",
                 "--out", str(out)]) == 0
    return out


# --- 13: colours and line styles ----------------------------------------------------------------------------------

# Machado, Oliveira & Fernandes (2009), severity 1.0, applied to linear RGB.
CVD = {
    "protanopia": np.array([[0.152286, 1.052583, -0.204868], [0.114503, 0.786281, 0.099216],
                            [-0.003882, -0.048116, 1.051998]]),
    "deuteranopia": np.array([[0.367322, 0.860646, -0.227968], [0.280085, 0.672501, 0.047413],
                              [-0.011820, 0.042940, 0.968881]]),
    "tritanopia": np.array([[1.255528, -0.076749, -0.178779], [-0.078411, 0.930809, 0.147602],
                            [0.004733, 0.691367, 0.303900]]),
    "normal": np.eye(3),
}


def lab_as_seen(color: str, vision: str) -> np.ndarray:
    """CIELAB (D65) of ``color`` as a viewer with ``vision`` sees it."""
    c = np.array(to_rgb(color))
    linear = np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    rgb = np.clip(CVD[vision] @ linear, 0, 1)
    xyz = np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722], [0.0193, 0.1192, 0.9505]]) @ rgb
    xyz = xyz / np.array([0.95047, 1.0, 1.08883])
    f = np.where(xyz > 0.008856, np.cbrt(xyz), 7.787 * xyz + 16 / 116)
    return np.array([116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])])


def delta_e(a: str, b: str, vision: str) -> float:
    return float(np.linalg.norm(lab_as_seen(a, vision) - lab_as_seen(b, vision)))


def test_option_colours_stay_apart_under_colour_vision_deficiency():
    for vision in CVD:
        for a, b in itertools.combinations(OPTIONS, 2):
            if b == f"{a}_open":  # a lab's own open weights share its colour; line style and hatch tell them apart
                assert OPTION_STYLES[a] != OPTION_STYLES[b] and OPTION_HATCHES[a] != OPTION_HATCHES[b]
                continue
            assert delta_e(OPTION_COLORS[a], OPTION_COLORS[b], vision) > 15, (vision, a, b)
    # The pair a reader mixed up: Anthropic and other open models, hosted.
    for vision in CVD:
        assert delta_e(OPTION_COLORS["anthropic"], OPTION_COLORS["open_hosted"], vision) > 28, vision
    # The test itself: Okabe-Ito's orange against vermillion is the confusion it must catch.
    assert delta_e("#D55E00", "#E69F00", "deuteranopia") < 28


def test_options_differ_without_colour(one_rep):
    kinds = {"-": {"openai", "anthropic", "google", "meta_api"}, "--": {"llama_hosted", "open_hosted"},
             ":": {"llama_self", "open_self"}, "-.": {"openai_open", "anthropic_open", "google_open"}}
    assert {style: {o for o in OPTIONS if OPTION_STYLES[o] == style} for style in kinds} == kinds
    assert OPTION_HATCHES["open_hosted"] != OPTION_HATCHES["anthropic"]
    fig = adoption_figure(one_rep.timeseries)
    by_label = {ln.get_label(): ln for ln in data_lines(fig.axes[0])}
    assert by_label["Anthropic API"].get_linestyle() == "-"
    assert by_label["Other open, hosted"].get_linestyle() == "--"
    tokens = token_share_figure(one_rep.timeseries)
    hatches = {c.get_label(): c.get_hatch() for c in tokens.axes[0].collections}
    assert hatches["Other open, hosted"] and not hatches["Anthropic API"]


def test_tokens_fill_the_panel_to_the_last_month(one_rep):
    fig = token_share_figure(one_rep.timeseries)
    dates = pd.to_datetime(one_rep.timeseries["date"])
    import matplotlib.dates as mdates

    lo, hi = fig.axes[0].get_xlim()
    assert mdates.num2date(hi).strftime("%Y-%m") == dates.max().strftime("%Y-%m")
    assert mdates.num2date(lo).strftime("%Y-%m") == dates.min().strftime("%Y-%m")


def test_prices_have_no_minor_gridlines(one_rep):
    fig = prices_quality_figure(one_rep.timeseries)
    price_ax = fig.axes[0]
    assert not any(t.gridline.get_visible() for t in price_ax.yaxis.get_minor_ticks())
    assert any(t.gridline.get_visible() for t in price_ax.yaxis.get_major_ticks())


def test_ledger_promises_a_ci_only_when_it_draws_one(one_rep, run_dir_two):
    one = ledger_waterfall_figure(one_rep.summary)
    assert "no CI" in " ".join(t.get_text() for t in one.legends[0].get_texts())
    assert not any(ax.collections for ax in one.axes)  # no error bar
    two = ledger_waterfall_figure(RunResults.read(run_dir_two).summary)
    assert "95% CI" in " ".join(t.get_text() for t in two.legends[0].get_texts())
    assert all(ax.collections for ax in two.axes)  # the interval the legend promises


def test_ledger_has_no_ticks_or_connectors_on_empty_rows(one_rep):
    fig = ledger_waterfall_figure(one_rep.summary)
    absent = fig.axes[2]
    assert all(not t.tick1line.get_visible() or t.tick1line.get_markersize() == 0
               for t in absent.yaxis.get_major_ticks())
    bars = len(absent.patches) - 1  # without the total
    connectors = [ln for ln in absent.get_lines() if ln.get_label() == "_connector"]
    assert len(connectors) == bars - 1  # one between each pair of drawn bars, none dangling on an empty row


# --- 14: the report -----------------------------------------------------------------------------------------------


def test_report_with_one_replicate_shows_no_ci_and_no_verdict(one_rep):
    text = run_report_html(one_rep, dpi=30)
    assert "Only 1 replicate" in text
    assert "confidence interval in brackets" not in text and 'class="ci"' not in text
    assert "open pays more" not in text and "open pays less" not in text
    assert "too few to tell" in text
    footer = text[text.index("<footer>"):]
    assert "not noise" not in footer and "cannot say how much" in footer


def test_report_titles_name_the_overrides(one_rep):
    assert one_rep.overrides == ["horizon_months=18", "license.mau_threshold=1e8"]
    text = run_report_html(one_rep, dpi=30)
    title = re.search(r"<h1>(.*?)</h1>", text).group(1)
    assert "baseline with horizon_months=18, license.mau_threshold=1e8" in title
    assert "license.mau_threshold=1e8" in re.search(r"<title>(.*?)</title>", text).group(1)
    assert "with horizon_months=18" in adoption_figure(one_rep.titled(one_rep.timeseries)).texts[0].get_text()
    assert scenario_title("b", ["a=1", "b=2", "c=3", "d=4"]) == "b with a=1, b=2, c=3 and 1 more"


def test_report_reads_an_overrides_file_when_present(one_rep_dir, tmp_path):
    import shutil

    folder = tmp_path / "r"
    shutil.copytree(one_rep_dir, folder)
    (folder / "overrides.yaml").write_text("- license.mau_threshold=1e8\n")
    assert RunResults.read(folder).overrides == ["license.mau_threshold=1e8"]
    (folder / "overrides.yaml").write_text("not: a list\n")
    assert main(["report", str(folder)]) == 2


def test_report_figures_shown_at_their_own_size(one_rep):
    text = run_report_html(one_rep, dpi=50)
    shown = re.findall(r'<img [^>]*width="(\d+)" height="\d+" src="data:image/png;base64,([^"]+)"', text)
    assert len(shown) == 6
    for width, data in shown:
        png = base64.b64decode(data)
        px = int.from_bytes(png[16:20], "big")
        assert int(width) == round(px * 96 / 50)  # 1 inch of figure = 96 CSS px: 10 pt text stays ~13 px
    # ...or, in a narrower window, shrunk to fit it, so a legend right of the panels stays on screen (#25, 7).
    assert "figure img{max-width:100%;height:auto" in text and "max-width:none" not in text


def test_report_with_enough_replicates_gives_ci_and_a_qualified_verdict():
    rng = np.random.default_rng(1)
    rows = [{"strategy": s, "replicate": r, "npv.meta": (2e9 if s == "open" else 0.0) + rng.normal(0, 1e8) + r * 1e8}
            for r in range(MIN_CI_REPLICATES) for s in ("open", "closed")]
    summary = pd.DataFrame(rows)
    assert 'class="ci"' in outcomes_table(summary)
    assert 'class="ci"' not in outcomes_table(summary, with_ci=False)
    (line,) = paired_lines(summary)
    assert "95% CI" in line and "open pays more" in line and "excludes zero" in line
    swing = summary["replicate"].map({0: 5e9, 1: -5e9, 2: 0.0}) * (summary["strategy"] == "open")
    noisy = summary.assign(**{"npv.meta": summary["npv.meta"] + swing})
    (line,) = paired_lines(noisy)
    assert "includes zero" in line and "pays more" not in line
