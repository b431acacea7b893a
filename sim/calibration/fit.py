"""Simulated method of moments: move the free parameters until the model's moments match the targets.

Objective: sum over targets of weight x ((model - target) / scale)^2, where a target's model value is the mean over
a fixed set of seeds (common random numbers: every candidate runs on the same seeds, so the population, release
dates and taste shocks are the same and differences between candidates are not noise).

Search (bounded, in the unit cube of the parameters' [low, high] boxes): the scenario's current values, then
``lhs_points`` Latin-hypercube points (``scipy.stats.qmc.LatinHypercube``), then a local search from the best point
so far -- by default ``scipy.optimize.minimize(method="Nelder-Mead", bounds=...)``, derivative-free, which tolerates
the small steps that discrete choices put in the objective -- restarted ``restarts`` times from the best point with
a halved simplex (Nelder-Mead can stall on a collapsed simplex). ``method: powell`` (bounded Powell) and
``method: least-squares`` (``scipy.optimize.least_squares``, trust-region reflective on the residual vector with
forward differences) are alternatives; on the 2023-24 targets Nelder-Mead reached the lowest loss. The best point
ever evaluated wins.
"""

from __future__ import annotations

import copy
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.optimize import least_squares, minimize
from scipy.stats import qmc

from sim.calibration.targets import TargetsFile, target_series, target_value, typed_value, value_at
from sim.config import Scenario
from sim.loading import set_in_dict, validate_scenario
from sim.runner import derive_seed, month_dates, simulate

SIGNIFICANT = 4  # significant digits of the fitted values (the report is computed at the rounded values)
NAN_PENALTY = 100.0  # squared-error units charged when the model has no value for a target (e.g. no open option)


@dataclass
class Problem:
    """A scenario, a targets file and the fit settings: turns parameter vectors into moments and an objective."""

    scenario: Scenario
    spec: TargetsFile
    population: int | None = None
    n_seeds: int | None = None
    strategy: str | None = None
    cache: dict = field(default_factory=dict)

    def __post_init__(self):
        fit = self.spec.fit
        self.population = self.population or fit.population
        self.n_seeds = self.n_seeds or fit.seeds
        self.strategy = self.strategy or fit.strategy or self.scenario.meta.strategy
        self.base = self.scenario.model_dump(mode="json")
        self.seeds = [derive_seed(self.scenario.seed, r) for r in range(self.n_seeds)]
        self.horizon = max(t.months(self.scenario.start)[1] for t in self.spec.targets) + 1
        self.low = np.array([p.low for p in self.spec.parameters])
        self.high = np.array([p.high for p in self.spec.parameters])
        self.current = [value_at(self.base, p.path) for p in self.spec.parameters]
        self.evaluations = 0

    @property
    def names(self) -> list[str]:
        """The free parameters' paths, in the order of the vectors the optimiser moves."""
        return [p.path for p in self.spec.parameters]

    def to_values(self, u) -> np.ndarray:
        """Parameter values from a point of the unit cube (clipped to it), or from many (rows): the optimiser works
        on [0, 1] per parameter."""
        return self.low + np.clip(np.asarray(u, float), 0.0, 1.0) * (self.high - self.low)

    def to_unit(self, values) -> np.ndarray:
        """The unit-cube point of parameter values (clipped to the bounds), the inverse of :meth:`to_values`."""
        return np.clip((np.asarray(values, float) - self.low) / (self.high - self.low), 0.0, 1.0)

    def candidate(self, values, population: int | None = None, horizon: int | None = None,
                  name: str | None = None) -> Scenario:
        """The scenario with the free parameters at ``values`` (population and horizon optionally changed)."""
        data = copy.deepcopy(self.base)
        for path, cur, v in zip(self.names, self.current, values, strict=True):
            set_in_dict(data, path, typed_value(cur, float(v)), "(calibration)")
        if population is not None:
            data["population"]["n"] = int(population)
        if horizon is not None:
            data["horizon_months"] = int(horizon)
        if name is not None:
            data["name"] = name
        return validate_scenario(data, "(calibration candidate)")

    def runs(self, values, population: int | None = None) -> tuple[Scenario, list[pd.DataFrame]]:
        """The candidate scenario at ``values`` and its run for every common seed (for the report's paths)."""
        s = self.candidate(values, population or self.population, self.horizon)
        return s, [simulate(s, self.strategy, seed) for seed in self.seeds]

    def moments(self, values, population: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Mean over the common seeds of each target's model value, and its standard error across seeds.
        """
        s = self.candidate(values, population or self.population, self.horizon)
        jobs = [(s, self.strategy, seed, self.spec.targets) for seed in self.seeds]
        per_seed = np.array([_seed_values(job) for job in jobs])
        with warnings.catch_warnings():  # a target with no value in any seed is NaN (charged NAN_PENALTY)
            warnings.simplefilter("ignore", RuntimeWarning)
            mean = np.nanmean(per_seed, axis=0)
            se = np.nanstd(per_seed, axis=0, ddof=1) / np.sqrt(len(jobs)) if len(jobs) > 1 else mean * np.nan
        return mean, se

    def weighted_errors(self, model: np.ndarray) -> np.ndarray:
        """sqrt(weight) x (model - target) / scale per target (NaN model values cost sqrt(NAN_PENALTY))."""
        out = np.empty(len(self.spec.targets))
        for i, (t, m) in enumerate(zip(self.spec.targets, model, strict=True)):
            z = (m - t.value) / t.unit if np.isfinite(m) else np.sqrt(NAN_PENALTY)
            out[i] = np.sqrt(t.weight) * z
        return out

    def loss(self, model: np.ndarray) -> float:
        """Sum of squared weighted errors of the model's target values: what the fit minimises."""
        return float(np.sum(self.weighted_errors(model) ** 2))

    def residuals(self, u) -> np.ndarray:
        """Weighted errors at the unit-cube point ``u`` (cached: a point is simulated once)."""
        key = tuple(np.round(np.clip(np.asarray(u, float), 0, 1), 10))
        if key not in self.cache:
            self.evaluations += 1
            self.cache[key] = self.weighted_errors(self.moments(self.to_values(key))[0])
        return self.cache[key]

    def objective(self, u) -> float:
        """The loss at the unit-cube point ``u`` (through the cached residuals)."""
        return float(np.sum(self.residuals(u) ** 2))


def _seed_values(job) -> list[float]:
    """One seed's value of every target."""
    scenario, strategy, seed, targets = job
    df = simulate(scenario, strategy, seed)
    return [target_value(df, t, scenario) for t in targets]


@dataclass
class FitResult:
    """A fit's outcome: parameter values before and after, the loss at each, evaluations spent and the optimiser's
    message."""

    names: list[str]
    start: np.ndarray
    fitted: np.ndarray
    loss_start: float
    loss_fit: float
    evaluations: int
    message: str


def fit(problem: Problem, progress: Callable[[int, float], object] | None = None) -> FitResult:
    """LHS start, then a bounded local search (see module docstring); returns the best point evaluated."""
    settings = problem.spec.fit
    d = len(problem.names)
    best: dict = {"u": None, "f": np.inf}

    def track(u, value):
        if value < best["f"]:
            best.update(u=np.clip(np.asarray(u, float), 0, 1).copy(), f=value)
        if progress is not None:
            progress(problem.evaluations, best["f"])

    def f(u):
        value = problem.objective(u)
        track(u, value)
        return value

    def r(u):
        res = problem.residuals(u)
        track(u, float(np.sum(res**2)))
        return res

    u0 = problem.to_unit(problem.current)
    loss_start = f(u0)
    if settings.lhs_points:
        for u in qmc.LatinHypercube(d=d, seed=settings.seed).random(settings.lhs_points):
            f(u)
    messages = []
    for k in range(1 + settings.restarts):  # each restart begins at the best point so far with a smaller simplex
        messages.append(_local_search(settings, best["u"].copy(), f, r, step=0.15 / 2**k))
    fitted = round_significant(problem.to_values(best["u"]), SIGNIFICANT)
    return FitResult(names=problem.names, start=np.array(problem.current, float), fitted=fitted,
                     loss_start=loss_start, loss_fit=problem.loss(problem.moments(fitted)[0]),
                     evaluations=problem.evaluations, message="; ".join(messages))


def round_significant(values: np.ndarray, digits: int) -> np.ndarray:
    """Fitted values are written to scenario files; more digits than the fit can resolve would only be noise."""
    return np.array([float(f"{v:.{digits}g}") for v in np.asarray(values, float)])


def _local_search(settings, start: np.ndarray, f, r, step: float) -> str:
    """One bounded local search from ``start`` in the unit cube; returns scipy's termination message."""
    d = start.size
    bounds = [(0.0, 1.0)] * d
    if settings.method == "nelder-mead":
        simplex = [start] + [np.where(np.eye(d)[i] > 0, _step(start[i], step), start) for i in range(d)]
        res = minimize(f, start, method="Nelder-Mead", bounds=bounds,
                       options={"maxfev": settings.max_evaluations, "initial_simplex": np.array(simplex),
                                "xatol": 1e-3, "fatol": 1e-3})
    elif settings.method == "powell":
        res = minimize(f, start, method="Powell", bounds=bounds,
                       options={"maxfev": settings.max_evaluations, "xtol": 1e-3, "ftol": 1e-4})
    else:  # trust-region reflective on the residual vector; an iteration costs d + 1 evaluations (forward differences)
        res = least_squares(r, start, bounds=(0.0, 1.0), method="trf", diff_step=settings.diff_step,
                            max_nfev=max(1, settings.max_evaluations // (d + 1)), x_scale=1.0)
    return str(res.message)


def _step(x: float, step: float) -> float:
    """A simplex vertex inside [0, 1]: step up, or down when that would leave the box."""
    return x + step if x + step <= 1.0 else x - step


# ---- tables for the report ---------------------------------------------------------------------------------------


def report_table(problem: Problem, result: FitResult, full_population: bool = True) -> pd.DataFrame:
    """One row per target: target and model values before and after the fit, error, error in scale units, and (when
    ``full_population``) ``model_full_pop``, the fitted model at the scenario's own population on the same seeds, an
    out-of-fit-size check."""
    before, _ = problem.moments(result.start)
    after, se = problem.moments(result.fitted)
    full = problem.moments(result.fitted, problem.scenario.population.n)[0] if full_population else None
    rows = []
    for i, t in enumerate(problem.spec.targets):
        err = after[i] - t.value
        rows.append({
            "target": t.name, "metric": "+".join(t.columns), "date": t.when, "value": t.value,
            "model": after[i], "error": err, "rel_error": err / t.value if t.value else np.nan,
            "scale": t.unit, "z": err / t.unit, "matched": bool(np.isfinite(err) and abs(err) <= t.unit),
            "model_se": se[i], "model_start": before[i],
            "model_full_pop": full[i] if full is not None else np.nan,
            "weight": t.weight, "source": t.source,
        })
    return pd.DataFrame(rows)


IMPLAUSIBLE = 3.0  # Pukelsheim's three-sigma rule, as in history matching (Vernon, Goldstein & Bower 2010)


def ranges_table(problem: Problem, cutoff: float = IMPLAUSIBLE) -> pd.DataFrame:
    """History matching on the points the fit evaluated: a point is not ruled out when no weighted target misses by
    more than ``cutoff`` scales (its implausibility, max |z|). One row per free parameter: its bounds, how many points
    were tried and not ruled out, the range of the latter (NaN when every point is ruled out) and the lowest
    implausibility reached. A range, not the one fitted point, is what the data leave open."""
    weights = np.array([t.weight for t in problem.spec.targets])
    units = np.array(list(problem.cache), dtype=float).reshape(-1, len(problem.names))
    residuals = np.array(list(problem.cache.values()), dtype=float).reshape(len(units), -1)
    z = np.abs(residuals[:, weights > 0]) / np.sqrt(weights[weights > 0])
    implausibility = z.max(axis=1) if z.size else np.zeros(len(units))
    kept = problem.to_values(units[implausibility <= cutoff])
    rows = []
    for j, name in enumerate(problem.names):
        rows.append({"parameter": name, "low": problem.low[j], "high": problem.high[j], "cutoff": cutoff,
                     "points_tried": len(units), "not_ruled_out": len(kept),
                     "lowest": kept[:, j].min() if len(kept) else np.nan,
                     "highest": kept[:, j].max() if len(kept) else np.nan,
                     "best_implausibility": float(implausibility.min()) if len(units) else np.nan})
    return pd.DataFrame(rows)


def parameter_table(problem: Problem, result: FitResult) -> pd.DataFrame:
    """One row per free parameter: its bounds, start and fitted value (parameters.csv)."""
    return pd.DataFrame({"parameter": result.names, "low": problem.low, "high": problem.high,
                         "start": result.start, "fitted": result.fitted})


def paths_table(problem: Problem, result: FitResult) -> pd.DataFrame:
    """Tidy monthly paths (mean over seeds) of every target's metric, before and after the fit, for the figure."""
    frames = []
    for label, values in (("start", result.start), ("fitted", result.fitted)):
        s, runs = problem.runs(values)
        dates = month_dates(s.start, problem.horizon)
        done = set()
        for t in problem.spec.targets:
            key = "+".join(t.columns)
            if key in done:
                continue
            done.add(key)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                series = np.nanmean([target_series(df, t, s) for df in runs], axis=0)
            frames.append(pd.DataFrame({"model": label, "metric": key, "date": dates, "value": series}))
    return pd.concat(frames, ignore_index=True)
