"""Figures of ``sim optimize`` and ``sim game`` folders, as functions of their tables (they never run the model).

``pareto``: every evaluated policy on each pair of robustness objectives, the Pareto set coloured by Meta's
strategy. ``convergence``: hypervolume of the Pareto set found up to each generation. ``game_path``: each player's
payoff along the iterated best responses from the status quo. ``game_meta``: Meta's payoff for each of its items
once the labs have best-responded, with 95% CIs.
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from matplotlib.ticker import MaxNLocator

from sim.figures.run import PANEL_H, PANEL_W, legend_outside
from sim.figures.style import (
    OKABE_ITO,
    PROVIDER_COLORS,
    PROVIDER_LABELS,
    STRATEGY_COLORS,
    STRATEGY_HATCHES,
    STRATEGY_LABELS,
)

OBJECTIVE_LABELS = {"mean": "Mean NPV ($B, higher is better)", "p10": "10th-percentile NPV ($B, higher is better)",
                    "max_regret": "Maximum regret ($B, lower is better)"}
DECISION_CAPTIONS = {
    "pareto": "Every evaluated policy (grey) and the Pareto set (coloured by Meta's strategy; x: breaks the investor "
              "constraint) on each pair of robustness objectives, over the same uncertain worlds.",
    "convergence": "Hypervolume of the Pareto set found up to each generation (objectives scaled to the final range; "
                   "flat means the search has stopped finding better trade-offs).",
    "game_path": "Each player's payoff (NPV) along the iterated best responses from the status quo.",
    "game_meta": "Meta's payoff for each of its items once the labs have best-responded (mean and 95% CI over paired "
                 "replicates).",
}


def _color(strategy) -> str:
    return STRATEGY_COLORS.get(str(strategy), OKABE_ITO[0])


def pareto_figure(policies: pd.DataFrame, objectives: list[str]) -> Figure:
    """``policies``: one row per evaluated policy with the objective columns, ``feasible``, ``pareto`` and
    ``lever.strategy`` when the strategy is a lever."""
    pairs = list(itertools.combinations(objectives, 2)) or [(objectives[0], objectives[0])]
    fig = Figure(figsize=(PANEL_W * len(pairs) + 2.4, PANEL_H + 0.8), layout="constrained")
    axes = fig.subplots(1, len(pairs), squeeze=False)[0]
    front = policies[policies["pareto"]]
    strategies = front["lever.strategy"] if "lever.strategy" in front else pd.Series(["open"] * len(front))
    for ax, (x, y) in zip(axes, pairs, strict=True):
        ax.scatter(policies[x] / 1e9, policies[y] / 1e9, s=12, color="#bbbbbb", label="evaluated policy", zorder=1)
        for strategy in dict.fromkeys(strategies):
            sub = front[strategies.to_numpy() == strategy]
            ok = sub["feasible"].to_numpy(dtype=bool)
            ax.scatter(sub[x][ok] / 1e9, sub[y][ok] / 1e9, s=36, color=_color(strategy), edgecolor="black",
                       linewidth=0.5, zorder=3, label=f"Pareto: {STRATEGY_LABELS.get(str(strategy), strategy)}")
            if (~ok).any():
                ax.scatter(sub[x][~ok] / 1e9, sub[y][~ok] / 1e9, s=36, marker="x", color=_color(strategy),
                           zorder=3)
        ax.set_xlabel(OBJECTIVE_LABELS.get(x, x))
        ax.set_ylabel(OBJECTIVE_LABELS.get(y, y))
        ax.grid(alpha=0.3)
    fig.suptitle(f"Robust policies: {len(front)} on the Pareto set of {len(policies)} evaluated")
    legend_outside(fig, axes)
    return fig


def convergence_figure(convergence: pd.DataFrame) -> Figure:
    """``convergence``: generation, hypervolume, pareto_size, runs."""
    fig = Figure(figsize=(2 * PANEL_W + 1.0, PANEL_H + 0.6), layout="constrained")
    ax, ax2 = fig.subplots(1, 2)
    ax.plot(convergence["generation"], convergence["hypervolume"], marker="o", color=OKABE_ITO[0])
    ax.set_xlabel("Generation")
    ax.set_ylabel("Hypervolume (scaled objectives)")
    ax2.plot(convergence["runs"], convergence["pareto_size"], marker="s", color=OKABE_ITO[1])
    ax2.set_xlabel("Simulation runs so far")
    ax2.set_ylabel("Policies on the Pareto set")
    for axis in (ax.xaxis, ax2.xaxis, ax2.yaxis):  # generations, runs and policies are counted: whole ticks
        axis.set_major_locator(MaxNLocator(integer=True))
    for a in (ax, ax2):
        a.grid(alpha=0.3)
    fig.suptitle("Convergence of the robust search")
    return fig


def game_path_figure(path: pd.DataFrame, players: list[str]) -> Figure:
    """``path``: step, mover and ``payoff.<player>`` columns (iterated best responses)."""
    fig = Figure(figsize=(PANEL_W * 1.6 + 2.4, PANEL_H + 0.8), layout="constrained")
    ax = fig.subplots()
    for i, p in enumerate(players):
        ax.plot(path["step"], path[f"payoff.{p}"] / 1e9, marker="o", label=PROVIDER_LABELS.get(p, p),
                color=PROVIDER_COLORS.get(p, OKABE_ITO[i % len(OKABE_ITO)]))
    ax.set_xticks(path["step"], [f"{s}\n{m}" for s, m in zip(path["step"], path["mover"], strict=True)],
                  fontsize=8)
    ax.set_xlabel("Step (player who switched)")
    ax.set_ylabel("Payoff: NPV ($B)")
    ax.grid(alpha=0.3)
    ended = str(path["ended"].iloc[-1]) if "ended" in path and len(path) else ""
    fig.suptitle(f"Iterated best responses from the status quo ({ended})")
    legend_outside(fig, [ax])
    return fig


def game_meta_figure(rows: pd.DataFrame, player: str = "meta") -> Figure:
    """``rows``: item, strategy, payoff, ci_low, ci_high (the leader's payoff at the labs' response to each item)."""
    fig = Figure(figsize=(PANEL_W * 1.4 + 2.4, PANEL_H + 0.6), layout="constrained")
    ax = fig.subplots()
    x = np.arange(len(rows))
    mean = rows["payoff"].to_numpy() / 1e9
    err = np.vstack([mean - rows["ci_low"].to_numpy() / 1e9, rows["ci_high"].to_numpy() / 1e9 - mean])
    for i, (m, strategy) in enumerate(zip(mean, rows["strategy"].astype(str), strict=True)):
        ax.bar(i, m, color=_color(strategy), hatch=STRATEGY_HATCHES.get(strategy, ""), edgecolor="black",
               linewidth=0.5)
    ax.errorbar(x, mean, yerr=np.nan_to_num(err), fmt="none", ecolor="black", capsize=4)
    ax.set_xticks(x, rows["item"])
    ax.axhline(0, color="black", linewidth=0.6)
    ax.set_ylabel(f"{PROVIDER_LABELS.get(player, player)} NPV ($B)")
    ax.set_xlabel(f"{PROVIDER_LABELS.get(player, player)}'s item (the labs best-respond to it)")
    ax.grid(axis="y", alpha=0.3)
    handles = [Patch(facecolor=_color(s), hatch=STRATEGY_HATCHES.get(str(s), ""), edgecolor="black", linewidth=0.5,
                     label=STRATEGY_LABELS.get(str(s), s)) for s in dict.fromkeys(rows["strategy"])]
    fig.legend(handles=handles, loc="outside right center", frameon=False, title="Meta's strategy")  # off the bars
    fig.suptitle("What each strategy earns once the rivals have answered")
    return fig
