"""Outputs of ``sim optimize`` and ``sim game``: tables, figures (PNG + SVG) and a Markdown report, all atomic.

The report sections (``optimize_section``, ``game_section``) are Markdown strings built from the result tables, so
a larger report can include them as they are.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from sim.decision.levers import GameProblem, OptimizeProblem
from sim.decision.play import GameResult
from sim.decision.robust import OptimizeResult, most_robust
from sim.figures.decision import (
    DECISION_CAPTIONS,
    convergence_figure,
    game_meta_figure,
    game_path_figure,
    pareto_figure,
)
from sim.figures.run import save_both
from sim.figures.run_report import markdown_table
from sim.io import write_csv, write_parquet, write_text

NAMES = {"mean": "mean NPV", "p10": "10th-percentile NPV", "max_regret": "maximum regret"}


def _money(v: float) -> str:
    return f"{v / 1e9:,.2f}"


def describe_policy(row: pd.Series) -> str:
    """A policy's lever settings as ``name=value`` pairs, for one-line summaries."""
    return ", ".join(f"{c[6:]}={row[c]:.4g}" if isinstance(row[c], float) else f"{c[6:]}={row[c]}"
                     for c in row.index if c.startswith("lever."))


def robust_summary(problem: OptimizeProblem, result: OptimizeResult) -> list[str]:
    """One line per objective: the Pareto policy that is best under it alone."""
    names = list(problem.spec.objectives)
    best = most_robust(result.pareto, names)
    lines = []
    for n, i in best.items():
        row = result.pareto.iloc[i]
        lines.append(f"most robust by {NAMES[n]} ({_money(row[n])} $B): policy {int(row['policy'])}: "
                     f"{describe_policy(row)}")
    return lines


def optimize_section(problem: OptimizeProblem, result: OptimizeResult) -> str:
    """The Markdown report of a robust policy search: summary, Pareto table and figures."""
    spec = problem.spec
    names = list(spec.objectives)
    shown = result.pareto[["policy", *[c for c in result.pareto if c.startswith("lever.")], *names]].copy()
    for n in names:
        shown[n] = shown[n] / 1e9
    text = [f"## Robust policy search: {spec.name}", "",
            f"{len(result.policies)} policies evaluated by NSGA-II on the same {spec.worlds} uncertain worlds "
            f"({result.runs} runs; {spec.metric}); {len(result.pareto)} on the Pareto set. Regret is measured "
            f"against the best evaluated policy in each world. Objectives in $B.", "",
            *[f"- {line}" for line in robust_summary(problem, result)], *[f"- note: {n}" for n in result.notes], "",
            markdown_table(shown), ""]
    for stem in ("pareto", "convergence"):
        text += [f"![{stem}]({stem}.png)", "", f"*{DECISION_CAPTIONS[stem]}*", ""]
    return "\n".join(text)


def write_optimize(problem: OptimizeProblem, result: OptimizeResult, out: Path) -> list[Path]:
    """Write a policy search's tables, figures and report.md into ``out``; returns the files."""
    written = [write_csv(result.pareto, out / "policies.csv"), write_csv(result.policies, out / "all_policies.csv"),
               write_parquet(result.outcomes, out / "pareto_outcomes.parquet"),
               write_csv(result.convergence, out / "convergence.csv")]
    written += save_both(pareto_figure(result.policies, list(problem.spec.objectives)), out / "pareto")
    written += save_both(convergence_figure(result.convergence), out / "convergence")
    written.append(write_text(optimize_section(problem, result), out / "report.md"))
    return written


def game_section(problem: GameProblem, result: GameResult) -> str:
    """The Markdown report of the game: headline, equilibria, Meta's best-responded items and figures."""
    spec = problem.spec
    eq = result.equilibria
    nash = eq[eq["nash"]] if len(eq) else eq
    shown_leader = result.leader.drop(columns=["profile"], errors="ignore").copy()
    for c in ("payoff", "ci_low", "ci_high"):
        if c in shown_leader:
            shown_leader[c] = shown_leader[c] / 1e9
    text = [f"## The strategic game: {spec.name}", "", f"**{result.headline}**", "",
            f"{len(problem.profiles())} profiles x {spec.replications} paired replicates. A pure Nash equilibrium "
            f"has no profitable deviation on mean payoffs; an ε-equilibrium has none whose paired gain is "
            f"significant at 95%.", "",
            f"Pure Nash equilibria: {len(nash)}; ε-equilibria: {int(eq['epsilon'].sum()) if len(eq) else 0}.", ""]
    if len(nash):
        text += [markdown_table(nash[list(problem.players)]), ""]
    text += ["Meta's items once the labs have best-responded ($B):", "", markdown_table(shown_leader), ""]
    for stem in ("game_meta", "game_path"):
        text += [f"![{stem}]({stem}.png)", "", f"*{DECISION_CAPTIONS[stem]}*", ""]
    return "\n".join(text)


def write_game(problem: GameProblem, result: GameResult, out: Path) -> list[Path]:
    """Write the game's payoffs, equilibria, best responses, figures and report.md into ``out``."""
    written = [write_parquet(result.payoffs, out / "payoffs.parquet"),
               write_csv(result.summary, out / "payoff_summary.csv"),
               write_csv(result.best_responses, out / "best_responses.csv"),
               write_csv(result.equilibria, out / "equilibria.csv"),
               write_csv(result.path, out / "best_response_path.csv"),
               write_csv(result.leader.drop(columns=["profile"], errors="ignore"), out / "meta_vs_response.csv"),
               write_text(result.headline + "\n", out / "headline.txt")]
    written += save_both(game_path_figure(result.path, list(problem.players)), out / "game_path")
    if not result.leader.empty:
        written += save_both(game_meta_figure(result.leader), out / "game_meta")
    written.append(write_text(game_section(problem, result), out / "report.md"))
    return written
