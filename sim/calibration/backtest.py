"""Backtest (docs/validation.md, "Backtest"; design §15): fit on the targets observed up to a cut-off, forecast the
later ones given the later inputs (the release history and list prices run on), and set each error beside the survey's
own uncertainty and beside two naive forecasts of the same metric: persistence (its last observed value) and a linear
trend through its last two observations."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from sim.calibration.fit import Problem, fit
from sim.calibration.targets import TargetsFile
from sim.config import Scenario, month_index


def split(spec: TargetsFile, start: str, cutoff: str) -> tuple[list, list]:
    """(targets observed by ``cutoff``, targets after it) of ``spec``."""
    last = month_index(start, cutoff)
    before = [t for t in spec.targets if t.months(start)[1] <= last]
    return before, [t for t in spec.targets if t.months(start)[1] > last]


def _middle(target, start: str) -> float:
    first, last = target.months(start)
    return 0.5 * (first + last)


def naive(target, observed: list, start: str) -> tuple[float, float]:
    """(persistence, trend) forecasts of ``target`` from the observed targets of the same metric: the last value,
    and the line through the last two carried to the target's month (the last value when only one was observed)."""
    same = sorted((t for t in observed if t.columns == target.columns), key=lambda t: _middle(t, start))
    if not same:
        return np.nan, np.nan
    last = same[-1]
    if len(same) == 1:
        return last.value, last.value
    prev = same[-2]
    dt = _middle(last, start) - _middle(prev, start)
    slope = (last.value - prev.value) / dt if dt else 0.0
    return last.value, last.value + slope * (_middle(target, start) - _middle(last, start))


def backtest(scenario: Scenario, spec: TargetsFile, cutoff: str = "2023-12",
             progress: Callable[[int, float], object] | None = None, **settings) -> tuple[pd.DataFrame, dict]:
    """Fit ``spec``'s free parameters on the targets observed by ``cutoff``, then forecast the rest. ``settings``
    override the fit settings (population, seeds, lhs_points, max_evaluations). Returns one row per forecast target
    and a summary (parameters fitted, targets used, loss)."""
    before, after = split(spec, scenario.start, cutoff)
    if not before or not after:
        raise ValueError(f"cut-off {cutoff} leaves no targets to {'fit' if not before else 'forecast'}")
    fit_settings = spec.fit.model_copy(update={k: v for k, v in settings.items()
                                               if k in ("lhs_points", "max_evaluations", "restarts")})
    size = {k: settings[k] for k in ("population",) if k in settings} | (
        {"n_seeds": settings["seeds"]} if "seeds" in settings else {})
    fitted = fit(Problem(scenario, spec.model_copy(update={"targets": before, "fit": fit_settings}), **size),
                 progress)
    whole = Problem(scenario, spec.model_copy(update={"targets": after}), **size)
    model, se = whole.moments(fitted.fitted)
    rows = []
    for t, m, s in zip(after, model, se, strict=True):
        persist, trend = naive(t, before, scenario.start)
        rows.append({"target": t.name, "date": t.when, "observed": t.value, "survey_scale": t.unit,
                     "forecast": m, "forecast_se": s, "z": (m - t.value) / t.unit,
                     "within_survey": bool(abs(m - t.value) <= t.unit),
                     "persistence": persist, "persistence_z": (persist - t.value) / t.unit,
                     "trend": trend, "trend_z": (trend - t.value) / t.unit, "weight": t.weight})
    summary = {"cutoff": cutoff, "parameters": len(fitted.names), "fit_targets": sum(t.weight > 0 for t in before),
               "forecast_targets": len(after), "loss_fit": fitted.loss_fit, "evaluations": fitted.evaluations}
    return pd.DataFrame(rows), summary


def markdown(table: pd.DataFrame, summary: dict) -> str:
    """The backtest as a Markdown table with a one-line summary (for docs/validation.md)."""

    def num(x: float) -> str:
        if not np.isfinite(x):
            return "–"
        return f"{x:.3g}" if abs(x) < 1e4 else f"{x:.3g}".replace("e+0", "e").replace("e+", "e")

    def signed(z: float) -> str:
        return f"{z:+.2f}" if np.isfinite(z) else "–"

    lines = [f"Fitted {summary['parameters']} parameters on {summary['fit_targets']} targets observed by "
             f"{summary['cutoff']} (loss {summary['loss_fit']:.3g}, {summary['evaluations']} evaluations); "
             f"forecast {summary['forecast_targets']} later targets. z = error / the survey's scale.", "",
             "| target | date | observed | scale | model | z | persistence z | trend z |",
             "|---|---|---:|---:|---:|---:|---:|---:|"]
    for r in table.itertuples():
        lines.append(f"| {r.target} | {r.date} | {num(r.observed)} | {num(r.survey_scale)} | {num(r.forecast)} | "
                     f"{signed(r.z)} | {signed(r.persistence_z)} | {signed(r.trend_z)} |")
    scored = table[(table["weight"] > 0) & np.isfinite(table["persistence_z"])]
    rms = {k: float(np.sqrt(np.mean(scored[k] ** 2))) for k in ("z", "persistence_z", "trend_z")}
    lines += ["", f"Root mean square z over the {len(scored)} weighted targets whose metric was observed before "
                  f"the cut-off: model {rms['z']:.2f}, persistence {rms['persistence_z']:.2f}, trend "
                  f"{rms['trend_z']:.2f}. Targets with no earlier observation have no naive forecast (–)."]
    return "\n".join(lines)
