"""Issue 25, the figures and reports: short parameter labels with units (6), an HTML run report that fits the window
and promises no interval it does not draw (7), game figures and a game headline that give no verdict the replicates
cannot carry (13), sweep reports with every paired difference (14), and Meta's NPV shown as differences between
strategies with one plain word on what it measures (part 2)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg

from sim.figures.decision import convergence_figure, game_meta_figure
from sim.figures.decision_report import leader_headline
from sim.figures.run_report import MIN_CI_REPLICATES


def drawn(fig):
    FigureCanvasAgg(fig)
    fig.canvas.draw()
    return fig.canvas.get_renderer()


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
