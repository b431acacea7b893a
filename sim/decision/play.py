"""The strategic game: simulate every profile of the players' menus with paired seeds, then solve the table.

Replicate r of every profile uses the same seed, so a deviation's gain is a paired difference (common random
numbers). The runs go through the sweep machinery into ``DIR/runs`` (resumable). The headline treats Meta as the
leader: for each of Meta's items the labs settle by iterated best responses from the status quo, and Meta's best
item is the one that pays most once they have; "open - closed" compares Meta's best open and best closed items,
each at the labs' response to it, paired over replicates.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from sim.decision import game
from sim.decision.levers import FORMAT, GameProblem
from sim.decision.store import open_folder, run_batch
from sim.experiments.base import Evaluator
from sim.experiments.designs import Design
from sim.experiments.runs import RunSpec
from sim.outcomes import MIN_CI_REPLICATES  # fewer paired replicates name no best strategy
from sim.runner import derive_seed
from sim.strategies import COMPARISONS, comparisons_in

CONFIDENCE = 0.95


@dataclass(frozen=True)
class GameResult:
    """A played game: payoffs per profile and replicate, their summary, best responses, equilibria, the
    best-response path and Meta's leader view."""

    payoffs: pd.DataFrame  # one row per profile x replicate: items, seed, each player's payoff
    summary: pd.DataFrame  # one row per profile x player: mean payoff and CI
    best_responses: pd.DataFrame
    equilibria: pd.DataFrame
    path: pd.DataFrame
    leader: pd.DataFrame  # Meta's items, the labs' response to each and Meta's payoff there
    headline: str
    samples: np.ndarray  # (*menu sizes, players, replicates)
    ran: int


def run_game(problem: GameProblem, out: str | Path, evaluator: Evaluator, resume: bool = False,
             on_progress: Callable[[int], object] | None = None) -> GameResult:
    """Simulate every profile for every replicate (paired seeds, resumable in ``out``) and analyse the payoffs."""
    out = Path(out)
    open_folder(out, problem.record(), resume)
    profiles = problem.profiles()
    values = np.array(profiles, dtype=float).reshape(len(profiles), len(problem.players))
    design = Design("profiles", problem.players, values, values)
    seeds = [derive_seed(problem.spec.seed, r) for r in range(problem.spec.replications)]
    runs = [RunSpec(i, r, problem.strategy_of(p), seeds[r], tuple(values[i]))
            for i, p in enumerate(profiles) for r in range(problem.spec.replications)]
    record = {"format": FORMAT, "hash": problem.hash, "experiment": {"name": problem.spec.name}}
    strategies = list(dict.fromkeys(r.strategy for r in runs))
    results, ran = run_batch(out / "runs", record, problem.base, design, runs, problem.context(), evaluator,
                             strategies, on_progress)
    return analyse(problem, results, ran)


def payoff_table(problem: GameProblem, results: pd.DataFrame) -> tuple[pd.DataFrame, np.ndarray]:
    """Tidy payoffs (items by name) and the array ``samples[*profile, player, replicate]``."""
    results = results.sort_values(["point", "replicate"], kind="stable").reset_index(drop=True)
    profiles = problem.profiles()
    frame = {"profile": results["point"].to_numpy()}
    for j, player in enumerate(problem.players):
        names = [item.name for item in problem.menus[j]]
        frame[player] = [names[profiles[i][j]] for i in results["point"]]
    frame["strategy"] = results["strategy"].to_numpy()
    frame["replicate"] = results["replicate"].to_numpy()
    frame["seed"] = results["seed"].to_numpy()
    for player, metric in zip(problem.players, problem.payoffs, strict=True):
        frame[f"payoff.{player}"] = results[metric].to_numpy(dtype=float)
    for m in problem.metrics:
        if m not in problem.payoffs:
            frame[m] = results[m].to_numpy(dtype=float)
    table = pd.DataFrame(frame)
    reps = problem.spec.replications
    cube = np.column_stack([table[f"payoff.{p}"] for p in problem.players]).reshape(len(profiles), reps, -1)
    samples = cube.transpose(0, 2, 1).reshape(*problem.shape, len(problem.players), reps)
    return table, samples


def analyse(problem: GameProblem, results: pd.DataFrame, ran: int = 0) -> GameResult:
    """The game's analysis from its runs: payoff summary, best responses, equilibria, best-response dynamics from
    the status quo and Meta's view as a leader."""
    table, samples = payoff_table(problem, results)
    mean = samples.mean(axis=-1)
    name = _namer(problem)
    summary = _summary(problem, samples, name)
    best = _best_responses(problem, mean, name)
    equilibria = _equilibria(problem, samples, mean, name)
    path, how = game.iterated_best_responses(mean, problem.status_quo)
    path_frame = pd.DataFrame([{"step": s, "mover": problem.players[i] if i >= 0 else "(start)", **name(p),
                                **{f"payoff.{q}": mean[p + (j,)] for j, q in enumerate(problem.players)}}
                               for s, (i, p) in enumerate(path)])
    path_frame["ended"] = how
    leader = leader_table(problem, samples, mean, name)
    leader["breakeven_spend_share"] = leader_breakeven(problem, table, leader)
    return GameResult(table, summary, best, equilibria, path_frame, leader, headline(problem, samples, leader),
                      samples, ran)


def _namer(problem: GameProblem):
    def name(profile) -> dict[str, str]:
        return {p: (problem.menus[j][a].name if a >= 0 else "*") for j, (p, a) in
                enumerate(zip(problem.players, profile, strict=True))}
    return name


def _summary(problem: GameProblem, samples: np.ndarray, name) -> pd.DataFrame:
    rows = []
    for p in game.profiles(problem.shape):
        for j, player in enumerate(problem.players):
            ci = game.paired_interval(samples[p + (j,)], CONFIDENCE)  # a mean's t interval
            rows.append({**name(p), "player": player, "payoff": ci.mean, "ci_low": ci.low, "ci_high": ci.high})
    return pd.DataFrame(rows)


def _best_responses(problem: GameProblem, mean: np.ndarray, name) -> pd.DataFrame:
    rows = []
    for j, player in enumerate(problem.players):
        for others, best in game.best_response_table(mean, j).items():
            rows.append({"player": player, **name(others),
                         "best": "|".join(problem.menus[j][a].name for a in best)})
    return pd.DataFrame(rows)


def _equilibria(problem: GameProblem, samples: np.ndarray, mean: np.ndarray, name) -> pd.DataFrame:
    nash = set(game.pure_nash(mean))
    eps = set(game.epsilon_equilibria(samples, CONFIDENCE))
    rows = []
    for p in sorted(nash | eps):
        rows.append({**name(p), "nash": p in nash, "epsilon": p in eps,
                     **{f"payoff.{q}": mean[p + (j,)] for j, q in enumerate(problem.players)}})
    columns = [*problem.players, "nash", "epsilon", *[f"payoff.{q}" for q in problem.players]]
    return pd.DataFrame(rows, columns=columns)


def meta_player(problem: GameProblem) -> int | None:
    """The player whose items set the run's strategy (Meta), if any."""
    for j, menu in enumerate(problem.menus):
        if any(item.strategy is not None for item in menu):
            return j
    return None


def labs_response(mean: np.ndarray, start: tuple[int, ...], leader: int) -> tuple[tuple[int, ...], str]:
    """Where the other players settle by iterated best responses while ``leader`` keeps its item."""
    others = tuple(i for i in range(mean.ndim - 1) if i != leader)
    path, how = game.iterated_best_responses(mean, start, others)
    return path[-1][1], how


def leader_table(problem: GameProblem, samples: np.ndarray, mean: np.ndarray, name) -> pd.DataFrame:
    """For each of Meta's items: where the labs settle (iterated best responses from the status quo with Meta's
    item fixed), how that ended, and Meta's payoff there with its 95% CI."""
    j = meta_player(problem)
    if j is None:
        return pd.DataFrame(columns=["item", "strategy", "payoff", "ci_low", "ci_high", "ended"])
    rows = []
    for a, item in enumerate(problem.menus[j]):
        start = problem.status_quo[:j] + (a,) + problem.status_quo[j + 1:]
        profile, how = labs_response(mean, start, j)
        ci = game.paired_interval(samples[profile + (j,)], CONFIDENCE)
        rows.append({"item": item.name, "strategy": item.strategy or problem.spec.strategy, **name(profile),
                     "profile": profile, "payoff": ci.mean, "ci_low": ci.low, "ci_high": ci.high, "ended": how})
    return pd.DataFrame(rows)


def leader_breakeven(problem: GameProblem, table: pd.DataFrame, leader: pd.DataFrame) -> list[float]:
    """f* of each of Meta's building items against its best staying-out item, each at the labs' response to it
    (paired over replicates; ``sim.breakeven``): the AI share of R&D and capex below which building pays. NaN for
    the staying-out items, or without one, or without the spend lines in the runs, or when a menu item moves what
    the spend per share reads (``sim.breakeven.moves_spend``)."""
    from sim.breakeven import BUILDERS, SPEND_LINES, STAYING_OUT, moves_spend, spend_per_share
    from sim.config import Scenario

    out = [float("nan")] * len(leader)
    payoff = f"payoff.{problem.players[meta_player(problem)]}" if meta_player(problem) is not None else None
    absent = leader.index[leader["strategy"] == STAYING_OUT] if len(leader) else []
    moved = [k for menu in problem.menus for item in menu for k, _ in item.overrides]
    if payoff is None or len(absent) == 0 or not set(SPEND_LINES) <= set(table.columns) or moves_spend(moved):
        return out
    absent = [leader.loc[absent, "payoff"].idxmax()]  # the best staying-out item, as sim optimize takes it
    index = {p: i for i, p in enumerate(problem.profiles())}
    before = (table[payoff] - table[list(SPEND_LINES)].sum(axis=1)).groupby(
        [table["profile"], table["replicate"]]).first()
    per_share = spend_per_share(Scenario.model_validate(problem.base))
    out_of_it = before.loc[index[leader.loc[absent[0], "profile"]]]
    for k, row in enumerate(leader.itertuples()):
        if row.strategy in BUILDERS and per_share > 0:
            out[k] = float((before.loc[index[row.profile]] - out_of_it).mean() / per_share)
    return out


def leader_headline(leader: pd.DataFrame, payoffs: dict[str, np.ndarray], player: str, metric: str) -> str:
    """What each of the leader's items earns once the labs have best-responded, and a verdict on the best one only
    when it is one. ``payoffs``: the leader's payoff per replicate at the labs' response to each item (paired:
    replicate r shares its seed in every profile).

    The rule is the run report's: with fewer than :data:`MIN_CI_REPLICATES` paired replicates no strategy is named
    best, nor when the 95% interval of the best item's gain over another includes 0."""
    from sim.catalog import PROVIDER_LABELS

    name = PROVIDER_LABELS.get(player, player[:1].upper() + player[1:])
    items = list(leader["item"])
    n = min(len(v) for v in payoffs.values())
    best = items[int(leader["payoff"].to_numpy().argmax())]
    gains = {other: game.paired_interval(payoffs[best] - payoffs[other]) for other in items if other != best}
    what = ", ".join(f"{item} {v.mean() / 1e9:,.2f} $B" for item, v in payoffs.items())
    told = "; ".join(f"{best} − {other} = {g.mean / 1e9:+,.2f} $B" + (
        f" [{g.low / 1e9:+,.2f}, {g.high / 1e9:+,.2f}]" if n >= MIN_CI_REPLICATES and np.isfinite(g.low) else "")
        for other, g in gains.items())
    cycle = " (the labs' responses cycle for some items; their last profile is used)" \
        if "ended" in leader and (leader["ended"] != "equilibrium").any() else ""
    head = f"If the labs best-respond{cycle}, {name}'s items earn {what} ({metric}, mean of {n} paired replicates)"
    if not gains:
        return f"{head}."
    if n < MIN_CI_REPLICATES:
        return (f"{head}; {told}: too few replicates to name {name}'s best strategy (at least {MIN_CI_REPLICATES} "
                "are needed).")
    if all(g.low > 0 for g in gains.values()):
        return f"{head}. {name}'s best strategy is {best}: {told} (95% CI; the interval excludes 0)."
    return f"{head}; {told} (95% CI): the interval includes 0, so no strategy of {name}'s is clearly best."


def headline(problem: GameProblem, samples: np.ndarray, leader: pd.DataFrame) -> str:
    """:func:`leader_headline` with Meta as the leader, then open − closed at the labs' responses (paired, 95% CI)
    and the break-even spend share f* of each way of building against staying out."""
    j = meta_player(problem)
    if j is None or leader.empty:
        return "No player sets Meta's strategy, so there is no headline about it."
    payoffs = {row["item"]: samples[tuple(row["profile"]) + (j,)] for _, row in leader.iterrows()}
    text = leader_headline(leader, payoffs, problem.players[j], problem.payoffs[j])
    by_kind = {}
    for k, row in leader.iterrows():
        if row["strategy"] not in by_kind or row["payoff"] > leader["payoff"].iloc[by_kind[row["strategy"]]]:
            by_kind[row["strategy"]] = k
    if comparisons_in(by_kind)[:1] == [COMPARISONS[0]]:
        o, c = (leader["profile"].iloc[by_kind[s]] for s in COMPARISONS[0])
        ci = game.paired_interval(samples[o + (j,)] - samples[c + (j,)], CONFIDENCE)
        text += (f" At the labs' responses open − closed = {ci.mean / 1e9:,.2f} $B [{ci.low / 1e9:,.2f}, "
                 f"{ci.high / 1e9:,.2f}] (best open item against best closed item, 95% CI over "
                 f"{problem.spec.replications} paired replicates).")
    if "breakeven_spend_share" in leader and leader["breakeven_spend_share"].notna().any():
        from sim.breakeven import describe_breakeven

        best_of = leader.dropna(subset=["breakeven_spend_share"]).groupby("strategy", sort=False)[
            "breakeven_spend_share"].max()
        text += (" Building breaks even with staying out below an AI share of R&D and capex f* of "
                 + describe_breakeven(best_of) + " (each at the labs' response).")
    return text
