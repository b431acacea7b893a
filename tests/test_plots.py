"""Figures, sim plot / compare / report: inspect the matplotlib Figures (axes, artists, data), not pixels."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
from matplotlib.collections import PolyCollection
from matplotlib.contour import ContourSet
from matplotlib.patches import Rectangle

from sim.channels import STRATEGIC as META_LINES
from sim.cli import main
from sim.figures.run import (
    RUN_FIGURES,
    adoption_figure,
    comparison_figure,
    detect_releases,
    ledger_waterfall_figure,
    mean_ci,
    prices_quality_figure,
    profits_figure,
    schema_field,
    strategy_comparison_figure,
    token_share_figure,
)
from sim.figures.sweep import (
    SweepResults,
    breakeven_figure,
    paired_delta,
    response_figure,
    sensitivity_figure,
    swept_parameters,
)
from sim.results import RunResults

RUN_KINDS = ["adoption", "tokens", "prices", "ledger", "profits", "strategies"]


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("run") / "baseline"
    code = main(["run", "baseline", "--population", "1000", "--replications", "2", "--set", "horizon_months=24",
                 "--out", str(out)])
    assert code == 0
    return out


@pytest.fixture(scope="module")
def run(run_dir):
    return RunResults.read(run_dir)


def data_lines(ax):
    return [ln for ln in ax.get_lines() if not ln.get_label().startswith("_")]


# --- run figures ---------------------------------------------------------------------------------------------------


def test_adoption_one_panel_per_strategy_one_line_per_used_option(run):
    ts = run.timeseries
    fig = adoption_figure(ts, run.catalog)
    assert len(fig.axes) == 3
    for ax, strategy in zip(fig.axes, ["open", "closed", "absent"], strict=True):
        sub = ts[ts["strategy"] == strategy]
        used = [o for o in run.catalog.OPTIONS if sub[f"users.{o}"].max() > 0]
        assert len(data_lines(ax)) == len(used)
        assert ax.get_ylabel() or ax is not fig.axes[0]
    assert ("Llama" in " ".join(t.get_text() for t in fig.legends[0].get_texts()))
    # The plotted mean is the replicate mean of the share of developers.
    n = ts[[c for c in ts.columns if c.startswith("users.")]].iloc[0].sum()
    first = data_lines(fig.axes[0])[0]
    expected = ts[ts["strategy"] == "open"].groupby("date")["users.openai"].mean() / n
    assert np.allclose(first.get_ydata(), expected.to_numpy())


def test_token_share_stacks_to_one(run):
    fig = token_share_figure(run.timeseries, run.catalog)
    assert len(fig.axes) == 3
    open_ax = fig.axes[0]
    polys = [c for c in open_ax.collections if isinstance(c, PolyCollection)]
    sub = run.timeseries[run.timeseries["strategy"] == "open"]
    assert len(polys) == sum(sub[f"share_tokens.{o}"].max() > 0 for o in run.catalog.OPTIONS)
    top = polys[-1].get_paths()[0].vertices[:, 1].max()
    assert top == pytest.approx(1.0, abs=1e-6)


def test_detect_releases_finds_appearance_and_jumps_not_drift():
    q = pd.Series([np.nan, np.nan, 1100, 1103, 1107, 1160, 1162, 1163, 1250])
    assert list(detect_releases(q)) == [2, 5, 8]
    assert list(detect_releases(pd.Series([1000.0, 1005, 1010]))) == []


def test_prices_log_scale_and_llama_release_markers(run):
    fig = prices_quality_figure(run.timeseries)
    assert len(fig.axes) == 6
    price_ax, quality_ax = fig.axes[0], fig.axes[3]
    assert price_ax.get_yscale() == "log"
    assert "Elo" in quality_ax.get_ylabel()
    markers = [ln for ln in quality_ax.get_lines() if ln.get_label() == "_release" and ln.get_color() == "#009E73"]
    llama_markers = [ln for ln in quality_ax.get_lines() if ln.get_label() == "_release"
                     and ln.get_markerfacecolor() == "#009E73"]
    assert markers or llama_markers
    dates = pd.to_datetime(np.concatenate([ln.get_xdata() for ln in llama_markers]))
    # Baseline's Llama 2, 3 and 3.1 releases (2023-07, 2024-04, 2024-07) show as quality jumps.
    assert {"2023-07", "2024-04", "2024-07"} <= {d.strftime("%Y-%m") for d in dates}


def test_ledger_waterfall_adds_up_to_meta_npv(run):
    fig = ledger_waterfall_figure(run.summary)
    assert len(fig.axes) == 3
    for ax, strategy in zip(fig.axes, ["open", "closed", "absent"], strict=True):
        bars = [p for p in ax.patches if isinstance(p, Rectangle)]
        labels = ax.yaxis.get_major_formatter().format_ticks(ax.get_yticks())
        nonzero = sum(run.summary.loc[run.summary["strategy"] == strategy, f"npv.meta.{line}"].mean() != 0
                      for line in META_LINES if f"npv.meta.{line}" in run.summary)
        assert len(bars) == nonzero + 1 and labels[-1] == "Meta NPV"  # an empty row draws no bar
        total = bars[-1].get_width()
        steps = sum(b.get_width() for b in bars[:-1])
        npv = run.summary.loc[run.summary["strategy"] == strategy, "npv.meta"].mean() / 1e9
        assert total == pytest.approx(npv, rel=1e-6, abs=1e-9)
        assert steps == pytest.approx(npv, rel=1e-6, abs=1e-9)
    assert len(labels) - 1 <= len(META_LINES)


def test_profits_one_panel_per_company_one_line_per_strategy(run):
    fig = profits_figure(run.timeseries, run.catalog)
    shown = [ax for ax in fig.axes if ax.get_visible()]
    assert len(shown) == len(run.catalog.PROVIDERS)  # one per company, the baseline's Chinese family included
    assert all(len(data_lines(ax)) == 3 for ax in shown)
    assert {ax.get_title() for ax in shown} >= {"Meta", "OpenAI", "Anthropic", "Google", "Qwen & DeepSeek"}


def test_strategy_comparison_bars_are_npv_means_with_ci(run):
    fig = strategy_comparison_figure(run.summary)
    assert [ax.get_title() for ax in fig.axes] == ["Meta", "OpenAI", "Anthropic", "Google"]
    heights = [p.get_height() for p in fig.axes[0].patches]
    expected = run.summary.groupby("strategy", sort=False)["npv.meta"].mean() / 1e9
    assert np.allclose(heights, expected.to_numpy())
    assert fig.axes[0].collections  # CI error bars (2 replicates)


def test_mean_ci_student_t():
    m, lo, hi = mean_ci([1.0, 2.0, 3.0])
    assert m == 2.0 and lo == pytest.approx(2 - 4.302653 / np.sqrt(3)) and hi == pytest.approx(2 + 4.302653 / 3**0.5)
    assert mean_ci([5.0]) == (5.0, 5.0, 5.0)


def test_schema_field_reads_bounds_units_and_descriptions():
    spec = schema_field("providers.openai.flywheel.strength")
    assert (spec.lo, spec.hi, spec.unit) == (0, 1000, "Elo") and "flywheel" in spec.description
    assert schema_field("market.open_gap.0.elo").unit == "Elo"
    with pytest.raises(KeyError):
        schema_field("market.nonsense")


# --- sim plot ------------------------------------------------------------------------------------------------------


def test_sim_plot_writes_every_kind_png_and_svg(run_dir, capsys):
    assert main(["plot", str(run_dir), "--dpi", "40"]) == 0
    for kind in RUN_KINDS:
        for ext in ("png", "svg"):
            f = run_dir / "figures" / f"{kind}.{ext}"
            assert f.is_file() and f.stat().st_size > 1000, f
    assert not list((run_dir / "figures").glob(".*.tmp"))


def test_sim_plot_kind_subset(tmp_path, run_dir):
    import shutil

    d = tmp_path / "r"
    shutil.copytree(run_dir, d, ignore=shutil.ignore_patterns("figures"))
    assert main(["plot", str(d), "--kind", "ledger", "--kind", "strategies", "--dpi", "40"]) == 0
    assert sorted(p.name for p in (d / "figures").iterdir()) == ["ledger.png", "ledger.svg", "strategies.png",
                                                                 "strategies.svg"]


def test_sim_plot_bad_input_is_one_line_exit_2(tmp_path, run_dir, capsys):
    assert main(["plot", str(run_dir), "--kind", "pie"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "--kind" in err and "pie" in err
    assert main(["plot", str(tmp_path)]) == 2
    assert "timeseries.parquet" in capsys.readouterr().err
    assert main(["plot", str(tmp_path / "missing")]) == 2


def test_kind_lists_of_the_cli_match_the_figure_registries():
    from sim.cli import figures as cli_plots
    from sim.figures.sweep import SWEEP_KINDS

    assert list(RUN_FIGURES) == RUN_KINDS == list(cli_plots.RUN_KINDS)
    assert cli_plots.SWEEP_KINDS == SWEEP_KINDS


# --- sweeps (synthetic tables following the sim sweep schema) ------------------------------------------------------

X, Y = "param.providers.openai.flywheel.strength", "param.license.mau_threshold"


def synthetic_sweep(folder, grid=True, seed=0):
    """results.parquet with a known open − closed effect: +0.05 $B per Elo of flywheel, +2 $/MAU of threshold."""
    rng = np.random.default_rng(seed)
    xs, ys = np.linspace(0, 100, 5), np.linspace(1e8, 1e9, 4)
    points = [(a, b) for a in xs for b in ys] if grid else list(zip(rng.uniform(0, 100, 25),
                                                                     rng.uniform(1e8, 1e9, 25), strict=True))
    rows = []
    for p, (a, b) in enumerate(points):
        for r in range(3):
            noise = rng.normal(0, 1e8)  # shared by the pair: paired differences cancel it
            for s in ("open", "closed", "absent"):
                effect = ((a - 50) * 5e7 + (b - 5e8) * 2.0) if s == "open" else 0.0
                rows.append({"experiment": "flywheel_x_licence", "point": p, X: a, Y: b, "param.seed_only": 1.0,
                             "strategy": s, "replicate": r, "seed": 100 + r, "npv.meta": -8e9 + effect + noise,
                             "npv.openai": 4e8 + noise, "llama_token_share_m24": 0.1 * (s == "open")})
    df = pd.DataFrame(rows)
    folder.mkdir(parents=True, exist_ok=True)
    df.to_parquet(folder / "results.parquet", index=False)
    sens = []
    for metric in ("npv.meta", "llama_token_share_m24"):
        for par in ("providers.openai.flywheel.strength", "license.mau_threshold", "choice.beta_quality"):
            sens.append({"metric": metric, "parameter": par, "method": "sobol", "S1": 0.2, "S1_conf": 0.05,
                         "ST": 0.4, "ST_conf": 0.06, "mu_star": np.nan, "mu_star_conf": np.nan, "sigma": np.nan})
            sens.append({"metric": metric, "parameter": par, "method": "morris", "S1": np.nan, "S1_conf": np.nan,
                         "ST": np.nan, "ST_conf": np.nan, "mu_star": 1.0, "mu_star_conf": 0.1, "sigma": 0.5})
    pd.DataFrame(sens).to_csv(folder / "sensitivity.csv", index=False)
    return df


def test_paired_delta_pairs_on_point_and_replicate(tmp_path):
    df = synthetic_sweep(tmp_path / "s")
    d = paired_delta(df, "npv.meta")
    assert len(d) == df["point"].nunique() * 3
    expected = (d[X] - 50) * 5e7 + (d[Y] - 5e8) * 2.0
    assert np.allclose(d["delta"], expected)  # the shared noise cancels exactly


def test_response_curves_one_panel_per_parameter(tmp_path):
    df = synthetic_sweep(tmp_path / "s")
    assert swept_parameters(df) == [X, Y]
    fig = response_figure(df, "npv.meta")
    assert len(fig.axes) == 2
    for ax in fig.axes:
        assert len(data_lines(ax)) == 3 and len(ax.collections) == 3  # a line and a CI band per strategy
    open_line = data_lines(fig.axes[0])[0]
    assert np.all(np.diff(open_line.get_ydata()) > 0)  # Meta's NPV rises with x under "open"
    assert "flywheel" in fig.axes[0].get_xlabel()  # axis label from the schema description


def test_response_bins_continuous_designs(tmp_path):
    df = synthetic_sweep(tmp_path / "s", grid=False)
    fig = response_figure(df, "npv.meta")
    assert len(data_lines(fig.axes[0])[0].get_xdata()) <= 8


def test_breakeven_heatmap_values_and_contour(tmp_path):
    df = synthetic_sweep(tmp_path / "s")
    fig = breakeven_figure(df, X, Y, "npv.meta")
    ax = fig.axes[0]
    mesh = ax.collections[0]
    values = np.asarray(mesh.get_array()).reshape(4, 5)
    xs, ys = np.linspace(0, 100, 5), np.linspace(1e8, 1e9, 4)
    expected = ((xs[None, :] - 50) * 5e7 + (ys[:, None] - 5e8) * 2.0) / 1e9
    assert np.allclose(values, expected)
    assert any(isinstance(c, ContourSet) for c in ax.collections)  # the break-even line
    assert "break-even" in " ".join(t.get_text() for t in ax.texts)


def test_breakeven_scattered_design_triangulates(tmp_path):
    df = synthetic_sweep(tmp_path / "s", grid=False)
    fig = breakeven_figure(df, X, Y, "npv.meta")
    assert sum(isinstance(c, ContourSet) for c in fig.axes[0].collections) == 2  # filled map + break-even


def test_sensitivity_bars(tmp_path):
    synthetic_sweep(tmp_path / "s")
    sens = pd.read_csv(tmp_path / "s" / "sensitivity.csv")
    for method in ("sobol", "morris"):
        fig = sensitivity_figure(sens, method)
        assert len(fig.axes) == 2  # one panel per metric
        assert len(fig.axes[0].patches) == 3 * 2  # two indices per parameter
    widths = [p.get_width() for p in sensitivity_figure(sens, "sobol").axes[0].patches]
    assert sorted(set(np.round(widths, 6))) == [0.2, 0.4]


def test_sim_plot_autodetects_sweep_folder(tmp_path):
    folder = tmp_path / "sweep"
    synthetic_sweep(folder)
    assert main(["plot", str(folder), "--dpi", "40"]) == 0
    names = sorted(p.name for p in (folder / "figures").iterdir())
    kinds = ("response", "breakeven", "breakeven_open_absent", "sensitivity-sobol", "sensitivity-morris")
    assert names == sorted(f"{k}.{e}" for k in kinds for e in ("png", "svg"))  # open − closed and open − absent
    assert SweepResults.read(folder).sensitivity is not None


# --- sim report ----------------------------------------------------------------------------------------------------


def test_report_is_self_contained_with_every_figure_and_outcomes(run_dir):
    assert main(["report", str(run_dir), "--dpi", "40"]) == 0
    text = (run_dir / "report.html").read_text()
    assert text.startswith("<!DOCTYPE html>")
    for kind in RUN_KINDS:
        assert f'id="fig-{kind}"' in text
    assert text.count("data:image/png;base64,") == len(RUN_KINDS)
    assert not re.search(r'(src|href)="https?://', text)  # nothing to fetch: it works offline
    assert 'class="outcomes"' in text and 'class="shares"' in text
    for label in ("Meta open (Llama)", "Meta closed API", "No Meta model", "Meta NPV, strategic ($B)",
                  "Meta reported AI P&amp;L, NPV ($B)", "Llama token share, month 24"):
        assert label in text
    summary = pd.read_csv(run_dir / "summary.csv")
    meta_open = summary.loc[summary["strategy"] == "open", "npv.meta"].mean() / 1e9
    assert f"{meta_open:,.2f}" in text
    assert "versus" in text  # the paired open-vs-closed verdict


def test_report_of_a_sweep_folder(tmp_path):
    folder = tmp_path / "sweep"
    synthetic_sweep(folder)
    assert main(["report", str(folder), "--dpi", "40"]) == 0
    text = (folder / "report.html").read_text()
    # Sweep figures (break-even open − closed and open − absent), then "Where open pays": discovery figures and a
    # paired verdict per point, not a pooled table; Meta's value as differences between strategies.
    assert text.count("data:image/png;base64,") == 5 + 3 and 'class="verdicts"' in text
    assert 'class="differences"' in text


# --- sim compare ---------------------------------------------------------------------------------------------------


def test_compare_runs_and_reads_scenarios(tmp_path, run_dir, capsys):
    out = tmp_path / "cmp"
    code = main(["compare", "no_meta_model", str(run_dir), "--population", "400", "--replications", "2",
                 "--set", "horizon_months=12", "--out", str(out), "--dpi", "50"])
    assert code == 0
    for name in ("comparison.png", "comparison.svg", "comparison.csv", "no_meta_model/timeseries.parquet"):
        assert (out / name).is_file() and (out / name).stat().st_size > 0
    table = pd.read_csv(out / "comparison.csv")
    # no_meta_model pins meta.strategy=absent, so it runs that strategy only; the run folder holds all three.
    assert set(table["scenario"]) == {"no_meta_model", run_dir.name} and len(table) == 1 + 3
    assert set(table.loc[table["scenario"] == "no_meta_model", "strategy"]) == {"absent"}
    runs = [RunResults.read(out / "no_meta_model"), RunResults.read(run_dir)]
    fig = comparison_figure(runs)
    assert len(fig.axes) == 4
    llama_ax, npv_ax = fig.axes[0], fig.axes[1]
    assert len(data_lines(llama_ax)) == 2  # one line per scenario
    assert len(npv_ax.patches) == 1 + 3  # a bar per scenario and strategy run
    # no_meta_model runs under its own strategy (absent): Llama never serves a token there.
    assert np.all(data_lines(llama_ax)[0].get_ydata() == 0)


def test_compare_names_repeated_scenarios_apart(tmp_path, run_dir):
    out = tmp_path / "cmp"
    assert main(["compare", "baseline", "baseline", "--population", "300", "--replications", "1",
                 "--strategies", "open", "--set", "horizon_months=6", "--out", str(out), "--dpi", "40"]) == 0
    assert (out / "baseline").is_dir() and (out / "baseline_").is_dir()
    assert list(pd.read_csv(out / "comparison.csv")["scenario"]) == ["baseline", "baseline_"]


def test_compare_checks_every_scenario_before_running(tmp_path, capsys):
    out = tmp_path / "cmp"
    assert main(["compare", "baseline", "no_such_preset", "--out", str(out)]) == 2
    assert "no_such_preset" in capsys.readouterr().err
    assert not out.exists()
