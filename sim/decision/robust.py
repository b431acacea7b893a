"""Robust policy search: NSGA-II over Meta's levers, every policy scored on the same N uncertain worlds.

Why pymoo: NSGA-II with an ask-and-tell interface (so each generation's runs go through the sweep's evaluators
and its resumable store), a seeded ``numpy.random.Generator`` (no global state), hypervolume and non-dominated
sorting; Apache-2.0, wheels for Python 3.12 and numpy 2. EMA Workbench's optimisation goes through platypus, which
is little maintained and keeps its own global random state.

Levers are searched on the unit cube: a choice lever (the strategy, a switch) takes item ``floor(u k)``, a range
lever ``low + u (high - low)`` (log-spaced with ``log: true``, rounded for integer fields), so one real-coded
NSGA-II handles mixed levers. Objectives over the worlds, for the outcome ``metric`` (default ``npv.meta``): the
mean, the 10th percentile, and the maximum regret, where a policy's regret in a world is how far it falls short of
the best policy evaluated in that world (any generation). That reference grows during the search, so every
generation re-scores the surviving parents too, and the final Pareto set is taken over every evaluated policy with
the final reference.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from sim.decision.levers import FORMAT, OptimizeProblem
from sim.decision.store import open_folder, run_batch
from sim.experiments.base import Evaluator
from sim.experiments.designs import Design
from sim.experiments.runs import RunSpec
from sim.runner import derive_seed

Policy = tuple


def score(outcomes: np.ndarray, names: tuple[str, ...] | list[str], reference: np.ndarray | None = None
          ) -> np.ndarray:
    """Robustness of each policy (rows) over the worlds (columns), one column per objective name, in money terms.

    ``reference`` is the best outcome in each world (default: the best row of ``outcomes``)."""
    best = outcomes.max(axis=0) if reference is None else reference
    columns = {"mean": outcomes.mean(axis=1), "p10": np.quantile(outcomes, 0.1, axis=1),
               "max_regret": (best[None, :] - outcomes).max(axis=1)}
    return np.column_stack([columns[n] for n in names])


def to_minimise(values: np.ndarray, names) -> np.ndarray:
    """pymoo minimises: mean and p10 are maximised, regret minimised."""
    sign = np.array([1.0 if n == "max_regret" else -1.0 for n in names])
    return values * sign


def non_dominated(f: np.ndarray) -> np.ndarray:
    """Indices of the non-dominated rows of a minimisation problem."""
    from pymoo.util.nds.non_dominated_sorting import NonDominatedSorting

    if len(f) == 0:
        return np.array([], dtype=int)
    return np.sort(NonDominatedSorting().do(f, only_non_dominated_front=True))


def hypervolume(f: np.ndarray, ideal: np.ndarray, nadir: np.ndarray) -> float:
    """Hypervolume of ``f`` (minimised) after scaling ideal -> 0 and nadir -> 1, against the point 1.1."""
    from pymoo.indicators.hv import HV

    if len(f) == 0:
        return 0.0
    span = np.where(nadir > ideal, nadir - ideal, 1.0)
    scaled = (f - ideal) / span
    return float(HV(ref_point=np.full(f.shape[1], 1.1))(scaled))


@dataclass
class Archive:
    """Every evaluated policy, its first generation and its outcome in each world, per metric."""

    metrics: tuple[str, ...]
    policies: list[Policy] = field(default_factory=list)
    index: dict[Policy, int] = field(default_factory=dict)
    generation: list[int] = field(default_factory=list)
    outcomes: dict[str, list[np.ndarray]] = field(default_factory=dict)

    def add(self, policy: Policy, gen: int, values: dict[str, np.ndarray]) -> None:
        """Record a policy's outcomes in every world, with the generation that first proposed it."""
        self.index[policy] = len(self.policies)
        self.policies.append(policy)
        self.generation.append(gen)
        for m in self.metrics:
            self.outcomes.setdefault(m, []).append(values[m])

    def matrix(self, metric: str) -> np.ndarray:
        """One metric's outcomes, policies x worlds."""
        return np.vstack(self.outcomes[metric])


@dataclass(frozen=True)
class OptimizeResult:
    """A finished search: every policy evaluated, the Pareto set, its per-world outcomes, convergence and notes."""

    policies: pd.DataFrame  # every evaluated policy: levers, objectives, feasibility, pareto flag
    pareto: pd.DataFrame  # policies.csv
    outcomes: pd.DataFrame  # per-world outcomes of the Pareto policies
    convergence: pd.DataFrame
    ran: int
    runs: int
    notes: tuple[str, ...]


class Search:
    """One search into one folder: evaluates what is not stored yet, replays the rest from the store."""

    def __init__(self, problem: OptimizeProblem, out: Path, evaluator: Evaluator,
                 on_progress: Callable[[int], object] | None = None):
        self.problem, self.out, self.evaluator, self.on_progress = problem, Path(out), evaluator, on_progress
        self.spec = problem.spec
        self.names = tuple(self.spec.objectives)
        self.archive = Archive(problem.metrics)
        self.context = problem.context()
        self.ran = self.runs = 0
        self.frames: list[pd.DataFrame] = []

    def decode(self, x: np.ndarray) -> Policy:
        """The policy (lever values) at NSGA-II's unit-cube point ``x``."""
        return tuple(lev.decode(u) for lev, u in zip(self.problem.levers, x, strict=True))

    def evaluate(self, policies: list[Policy], gen: int) -> None:
        """Simulate every policy not seen before on every world, and archive the outcomes."""
        new = [p for p in dict.fromkeys(policies) if p not in self.archive.index]
        if not new:
            return
        outcomes = self.simulate(new, gen)
        for k, p in enumerate(new):
            self.archive.add(p, gen, {m: outcomes[m][k] for m in self.problem.metrics})

    def simulate(self, new: list[Policy], gen: int) -> dict[str, np.ndarray]:
        """Outcomes (metric -> policies x worlds) of ``new`` policies: one sweep folder per generation."""
        problem, worlds = self.problem, self.problem.worlds
        run_levers = problem.run_levers
        positions = [i for i, lev in enumerate(problem.levers) if lev.name != "strategy"]
        encoded = np.array([[run_levers[k].as_float(p[i]) for k, i in enumerate(positions)] for p in new],
                           dtype=float).reshape(len(new), len(run_levers))
        design = Design("policies", tuple(lev.name for lev in run_levers), encoded, encoded)
        runs = [RunSpec(point, w, problem.strategy_of(p), problem.world_seeds[w],
                        tuple(encoded[point]) + tuple(float(v) for v in worlds.values[w]))
                for point, p in enumerate(new) for w in range(self.spec.worlds)]
        record = {"format": FORMAT, "hash": f"{problem.hash}-g{gen:04d}", "experiment": {"name": self.spec.name},
                  "generation": gen}
        strategies = list(dict.fromkeys(r.strategy for r in runs))
        results, ran = run_batch(self.out / "generations" / f"g{gen:04d}", record, problem.base, design, runs,
                                 self.context, self.evaluator, strategies, self.on_progress)
        self.ran += ran
        self.runs += len(runs)
        results = results.sort_values(["point", "replicate"], kind="stable").reset_index(drop=True)
        first = len(self.archive.policies)  # the ids evaluate() gives the new policies
        self.frames.append(results.assign(generation=gen, policy=results["point"] + first))
        shape = (len(new), self.spec.worlds)
        return {m: results[m].to_numpy(dtype=float).reshape(shape) for m in problem.metrics}

    def objectives(self, policies: list[Policy]) -> tuple[np.ndarray, np.ndarray | None]:
        """Minimised objectives and investor constraint (<= 0 is feasible) of ``policies``, current reference."""
        outcomes = self.archive.matrix(self.spec.metric)
        rows = [self.archive.index[p] for p in policies]
        f = to_minimise(score(outcomes[rows], self.names, outcomes.max(axis=0)), self.names)
        return f, self.constraint(rows)

    def constraint(self, rows: list[int]) -> np.ndarray | None:
        """pymoo's inequality constraint (feasible when <= 0): the investor's floor minus the policy's outcome
        quantile, or ``None`` without an investor."""
        metric = self.problem.investor_metric
        if metric is None:
            return None
        investor = self.spec.investor
        values = np.quantile(self.archive.matrix(metric)[rows], investor.quantile, axis=1)
        return (investor.floor - values)[:, None]

    def run(self) -> None:
        """Run NSGA-II for the configured generations, evaluating each generation's new policies in every world
        (ask and tell)."""
        from pymoo.algorithms.moo.nsga2 import NSGA2
        from pymoo.core.evaluator import Evaluator as PymooEvaluator
        from pymoo.core.problem import Problem
        from pymoo.problems.static import StaticProblem

        spec = self.spec
        n_constr = int(self.problem.investor_metric is not None)
        problem = Problem(n_var=len(self.problem.levers), n_obj=len(self.names), n_ieq_constr=n_constr,
                          xl=0.0, xu=1.0)
        algorithm = NSGA2(pop_size=spec.search.population)
        algorithm.setup(problem, termination=("n_gen", spec.search.generations), seed=derive_seed(spec.seed, 2),
                        verbose=False)
        gen = 0
        while algorithm.has_next():
            offspring = algorithm.ask()
            policies = [self.decode(x) for x in offspring.get("X")]
            self.evaluate(policies, gen)
            if algorithm.pop is not None and len(algorithm.pop):  # the reference moved: re-score the parents
                parents = [self.decode(x) for x in algorithm.pop.get("X")]
                algorithm.pop.set("F", self.objectives(parents)[0])
            f, g = self.objectives(policies)
            static = StaticProblem(problem, F=f, **({"G": g} if g is not None else {}))
            PymooEvaluator().eval(static, offspring)
            algorithm.tell(infills=offspring)
            gen += 1

    def result(self) -> OptimizeResult:
        """The search's result from the archive: objectives, feasibility, the Pareto front and its per-world
        outcomes."""
        problem, archive, names = self.problem, self.archive, self.names
        outcomes = archive.matrix(self.spec.metric)
        natural = score(outcomes, names)
        f = to_minimise(natural, names)
        rows = list(range(len(archive.policies)))
        g = self.constraint(rows)
        feasible = np.ones(len(rows), bool) if g is None else g[:, 0] <= 0
        notes = []
        if self.spec.investor is not None and problem.investor_metric is None:
            notes.append(f"investor constraint skipped: the run summary has no {self.spec.investor.metric} column")
        pool = np.flatnonzero(feasible)
        if len(pool) == 0:
            notes.append("no evaluated policy meets the investor constraint; the Pareto set ignores it")
            pool = np.arange(len(rows))
        front = pool[non_dominated(f[pool])]
        table = self.policy_table(natural, feasible, front)
        pareto = table[table["pareto"]].drop(columns="pareto").reset_index(drop=True)
        runs = pd.concat(self.frames, ignore_index=True) if self.frames else pd.DataFrame()
        per_world = self.world_table(runs[runs["policy"].isin(front)]) if len(runs) else runs
        convergence = self.convergence(f, feasible, pool)
        return OptimizeResult(table, pareto, per_world, convergence, self.ran, self.runs, tuple(notes))

    def policy_table(self, natural: np.ndarray, feasible: np.ndarray, front: np.ndarray) -> pd.DataFrame:
        """One row per evaluated policy: its levers, objectives, investor quantile, feasibility and whether it
        is on the front."""
        archive = self.archive
        frame: dict = {"policy": np.arange(len(archive.policies)), "generation": archive.generation}
        for j, lev in enumerate(self.problem.levers):
            frame[f"lever.{lev.name}"] = [p[j] for p in archive.policies]
        for j, n in enumerate(self.names):
            frame[n] = natural[:, j]
        if self.problem.investor_metric is not None:
            inv = self.spec.investor
            frame[f"investor.q{inv.quantile:g}"] = np.quantile(archive.matrix(self.problem.investor_metric),
                                                               inv.quantile, axis=1)
        frame["breakeven_spend_share"] = self.breakeven()
        frame["feasible"] = feasible
        frame["pareto"] = np.isin(np.arange(len(archive.policies)), front)
        return pd.DataFrame(frame)

    def breakeven(self) -> np.ndarray:
        """Each building policy's break-even spend share f* against staying out (:mod:`sim.breakeven`), its mean
        over the worlds: against the best evaluated staying-out policy of each world, paired (same worlds, same
        seeds). NaN for staying-out policies, when none was evaluated, or when a lever or an uncertainty moves what
        the spend per share reads (``sim.breakeven.moves_spend``)."""
        from sim.breakeven import BUILDERS, SPEND_LINES, STAYING_OUT, moves_spend, spend_per_share
        from sim.config import Scenario

        archive, problem = self.archive, self.problem
        out = np.full(len(archive.policies), np.nan)
        strategies = np.array([problem.strategy_of(p) for p in archive.policies])
        varied = [lev.name for lev in problem.levers] + list(problem.worlds.names)
        if problem.spec.metric != "npv.meta" or not set(SPEND_LINES) <= set(problem.metrics) or \
                not (strategies == STAYING_OUT).any() or moves_spend(varied):
            return out
        before = archive.matrix("npv.meta") - sum(archive.matrix(line) for line in SPEND_LINES)
        staying_out = before[strategies == STAYING_OUT].max(axis=0)
        per_share = spend_per_share(Scenario.model_validate(problem.base))
        building = np.isin(strategies, BUILDERS)
        if per_share > 0:
            out[building] = (before[building] - staying_out).mean(axis=1) / per_share
        return out

    def world_table(self, runs: pd.DataFrame) -> pd.DataFrame:
        """Per-world outcomes of the given runs, with each policy's levers and the world's uncertain values."""
        problem = self.problem
        out = runs.rename(columns={"replicate": "world"})
        levers = {f"lever.{lev.name}": [self.archive.policies[i][j] for i in out["policy"]]
                  for j, lev in enumerate(problem.levers)}
        params = [c for c in out.columns if c.startswith("param.") and c[6:] in problem.worlds.names]
        keep = ["policy", "world", "seed", *params, *problem.metrics]
        out = pd.concat([out[keep].reset_index(drop=True), pd.DataFrame(levers)], axis=1)
        out = out.rename(columns={c: "uncertainty." + c[6:] for c in params})
        for lev in problem.levers:  # a lever of mixed choices (bools, names) stored as text
            col = f"lever.{lev.name}"
            if lev.choices is not None and len({type(c) for c in lev.choices}) > 1:
                out[col] = out[col].astype(str)
        return out.sort_values(["policy", "world"], kind="stable").reset_index(drop=True)

    def convergence(self, f: np.ndarray, feasible: np.ndarray, pool: np.ndarray) -> pd.DataFrame:
        """Hypervolume of the Pareto set found up to each generation, all scored with the final reference."""
        gens = np.asarray(self.archive.generation)
        ideal, nadir = f[pool].min(axis=0), f[pool].max(axis=0)
        rows = []
        for g in range(int(gens.max()) + 1):
            seen = pool[gens[pool] <= g]
            front = seen[non_dominated(f[seen])] if len(seen) else seen
            rows.append({"generation": g, "policies": int((gens <= g).sum()),
                         "runs": int((gens <= g).sum()) * self.spec.worlds,
                         "pareto_size": len(front), "hypervolume": hypervolume(f[front], ideal, nadir)})
        return pd.DataFrame(rows)


def run_optimize(problem: OptimizeProblem, out: str | Path, evaluator: Evaluator, resume: bool = False,
                 on_progress: Callable[[int], object] | None = None) -> OptimizeResult:
    """Search ``problem`` into ``out``; with ``resume`` a killed search replays its stored evaluations."""
    out = Path(out)
    open_folder(out, problem.record(), resume)
    search = Search(problem, out, evaluator, on_progress)
    search.run()
    return search.result()


def most_robust(pareto: pd.DataFrame, names) -> dict[str, int]:
    """The row of the Pareto set that is best under each objective alone."""
    out = {}
    for n in names:
        col = pareto[n].to_numpy()
        out[n] = int(np.argmin(col) if n == "max_regret" else np.argmax(col))
    return out
