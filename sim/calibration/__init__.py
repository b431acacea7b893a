"""Calibration by simulated method of moments (docs/calibration.md; the figures behind the targets in docs/sources.md).

``targets`` reads and checks the targets file, ``fit`` turns parameter vectors into moments and searches, ``report``
writes the calibrated scenario, the fit report and the figure. :func:`calibrate` runs the whole pipeline.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from sim.calibration.fit import FitResult, Problem, fit, parameter_table, paths_table, ranges_table, report_table
from sim.calibration.report import write_outputs
from sim.calibration.targets import TargetsFile, check_against, read_targets
from sim.config import Scenario

__all__ = ["FitResult", "Problem", "TargetsFile", "calibrate", "check_against", "fit", "read_targets"]


def calibrate(scenario: Scenario, spec: TargetsFile, out: str | Path, targets_file: str | Path = "(targets)",
              progress: Callable[[int, float], object] | None = None, **settings) -> dict:
    """Fit ``spec``'s free parameters of ``scenario`` to its targets and write the outputs to ``out``.

    ``settings`` override the file's fit settings (population, n_seeds, strategy). Returns a dict with the fit result,
    the report and parameter tables and the paths written."""
    check_against(spec, scenario, targets_file)
    problem = Problem(scenario, spec, **settings)
    result = fit(problem, progress)
    report = report_table(problem, result)
    params = parameter_table(problem, result)
    paths = paths_table(problem, result)
    fitted = problem.candidate(result.fitted, name=f"{scenario.name}_calibrated").model_dump(mode="json")
    summary = ", ".join(f"{n}={v:.4g}" for n, v in zip(result.names, result.fitted, strict=True))
    fitted["description"] = (f"{scenario.description.strip()} Calibrated with sim calibrate to "
                             f"{Path(targets_file).name} ({spec.name}): {summary}.")
    note = (f"written by sim calibrate: {len(spec.targets)} targets, {len(result.names)} free parameters, "
            f"loss {result.loss_start:.4g} -> {result.loss_fit:.4g} in {result.evaluations} evaluations")
    ranges = ranges_table(problem)
    written = write_outputs(Path(out), scenario.name, fitted, note, report, params, paths, ranges)
    return {"result": result, "report": report, "parameters": params, "ranges": ranges, "written": written}
