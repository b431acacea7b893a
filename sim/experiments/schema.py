"""Experiment files (``experiments/*.yaml``): schema, loading and every check that can fail before a run starts.

A bad file gives one ``file: field.path: message`` line, as for scenarios. Parameter paths are checked against the
scenario schema, and each parameter's smallest and largest design value is applied to the scenario and validated,
so an unknown path or an out-of-range value fails at load time, not hours into a sweep.
"""

from __future__ import annotations

import copy
import fnmatch
import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
from pydantic import BaseModel, Field, ValidationError, field_validator, model_validator

from sim import paths
from sim.catalog import catalog_of
from sim.config import MAX_HORIZON, MAX_POPULATION, STRATEGIES, Scenario
from sim.errors import ConfigError, clip
from sim.experiments.designs import METHODS, Design, make_design, n_points
from sim.experiments.parameters import PARAMETER_KINDS, ParamSpec
from sim.experiments.runs import RunContext, RunSpec
from sim.loading import (
    PRESET_DIR,
    did_you_mean,
    is_file,
    load_merged_dict,
    raise_validation,
    read_yaml_mapping,
    resolve_scenario_path,
    set_in_dict,
    validate_scenario,
)
from sim.outcomes import NAMES, declared
from sim.runner import derive_seed
from sim.spec import StrictModel

EXPERIMENT_DIR = PRESET_DIR.parent / "experiments"
MAX_RUNS = 1_000_000  # more runs than this is a mistake on one machine and a budget question on a cluster
MAX_PARAMETERS = 100
STATISTICS = ("mean", "std", "min", "max", "median", "q05", "q25", "q75", "q95")
NOT_SWEPT = {"seed": "each run gets its own seed from the experiment's seed; sweep replications instead"}
FORMAT = 1  # bump when the results layout changes, so old output folders are not resumed into


class Section(StrictModel):
    """Base of the experiment file's blocks."""


class DesignSpec(Section):
    """How points are chosen: ``grid`` (every combination), ``lhs``, ``sobol`` (Saltelli) or ``morris``."""

    method: Literal[METHODS] = "grid"
    size: int | None = Field(None, ge=1, le=MAX_RUNS, description="grid: levels per range; lhs: points; "
                                                                  "sobol: base samples N (N(D+2) points); "
                                                                  "morris: trajectories (N(D+1) points)")
    levels: int = Field(4, ge=2, le=100, description="Morris grid levels (even)")

    @model_validator(mode="after")
    def _sizes(self):
        if self.method != "grid" and self.size is None:
            raise ValueError(f"a {self.method} design needs a size")
        if self.method == "sobol" and self.size & (self.size - 1):
            raise ValueError(f"Sobol' sampling needs size to be a power of 2 (got {self.size})")
        if self.method == "morris" and self.levels % 2:
            raise ValueError("Morris levels must be even")
        return self


class OutputSpec(Section):
    """Which summary metrics to keep (names or glob patterns; all by default) and which statistics to report."""

    metrics: list[str] | None = Field(None, min_length=1, max_length=1_000)
    statistics: list[Literal[STATISTICS]] = Field(default_factory=lambda: ["mean", "std", "q05", "q95"],
                                                  min_length=1)


class BackendSpec(Section):
    """Where runs go by default; ``sim sweep --workers/--scheduler`` override it."""

    workers: int | None = Field(None, ge=1, le=4096)
    scheduler: str | None = Field(None, pattern=r"^(tcp|tls|inproc|ucx|ws|wss)://\S+$")
    bundle: int | None = Field(None, ge=1, le=10_000, description="runs per cluster task")


class ExperimentSpec(Section):
    """An experiment file as written: the scenario, strategies, replications, parameters to vary, design and
    outputs."""

    name: str = Field(min_length=1, max_length=200)
    description: str = Field(min_length=1, max_length=20_000)
    seed: int = Field(ge=0, le=2**63 - 1)
    scenario: str = Field(min_length=1, max_length=1_000, description="preset name or path (relative to this file)")
    strategies: list[Literal[STRATEGIES]] = Field(default_factory=lambda: list(STRATEGIES), min_length=1)
    replications: int = Field(1, ge=1, le=100_000)
    parameters: dict[str, ParamSpec] = Field(default_factory=dict, max_length=MAX_PARAMETERS)
    design: DesignSpec = DesignSpec()
    population: int | None = Field(None, ge=1, le=MAX_POPULATION, description="overrides population.n")
    horizon_months: int | None = Field(None, ge=1, le=MAX_HORIZON, description="overrides horizon_months")
    outputs: OutputSpec = OutputSpec()
    backend: BackendSpec = BackendSpec()

    @field_validator("strategies")
    @classmethod
    def _unique(cls, value):
        if len(set(value)) != len(value):
            raise ValueError("strategies must not repeat")
        return value

    @model_validator(mode="after")
    def _needs_parameters(self):
        if self.design.method != "grid" and not self.parameters:
            raise ValueError(f"a {self.design.method} design needs at least one parameter")
        return self


@dataclass(frozen=True)
class Experiment:
    """A validated experiment with everything resolved: base scenario, design, metrics and identity hash."""

    spec: ExperimentSpec
    file: Path
    scenario_file: Path
    base: dict
    integer: tuple[bool, ...]
    design: Design
    metrics: tuple[str, ...]
    hash: str

    @property
    def names(self) -> tuple[str, ...]:
        """The varied parameters' paths, in design column order."""
        return self.design.names

    @property
    def n_runs(self) -> int:
        """Runs the sweep makes: design points x replications x strategies."""
        return self.design.size * self.spec.replications * len(self.spec.strategies)

    def context(self) -> RunContext:
        """What every run shares (scenario, base values, parameter names, outputs), shipped once to the
        workers."""
        return RunContext(self.spec.name, str(self.scenario_file), self.base, self.names, self.integer, self.metrics)

    def runs(self) -> Iterator[RunSpec]:
        """Every planned run in results order: point, replicate, then strategy as listed."""
        for point in range(self.design.size):
            values = tuple(float(v) for v in self.design.values[point])
            for rep in range(self.spec.replications):
                seed = derive_seed(self.spec.seed, point, rep)
                for strategy in self.spec.strategies:
                    yield RunSpec(point, rep, strategy, seed, values)

    def record(self) -> dict:
        """What is stored beside the results (experiment.json) for analysis and for refusing a mixed folder."""
        return {"format": FORMAT, "hash": self.hash, "file": str(self.file), "scenario_file": str(self.scenario_file),
                "experiment": self.spec.model_dump(mode="json"), "metrics": list(self.metrics),
                "parameters": list(self.names), "points": self.design.size, "runs": self.n_runs}


def resolve_experiment_path(ref: str | Path) -> Path:
    """A preset's name (``smoke``) or a path to a YAML file."""
    candidate = Path(ref)
    if candidate.suffix in (".yaml", ".yml") or is_file(candidate, Path.exists) or "/" in str(ref):
        return candidate
    shipped = EXPERIMENT_DIR / f"{ref}.yaml"
    if not is_file(shipped):
        names = sorted(p.stem for p in EXPERIMENT_DIR.glob("*.yaml"))
        raise ConfigError(clip(str(ref)), "", f"no experiment or decision file of that name"
                                              f"{did_you_mean(str(ref), names)}")
    return shipped


def load_experiment(ref: str | Path) -> Experiment:
    """Read, validate and resolve an experiment file; raises ConfigError naming the file and field."""
    file = resolve_experiment_path(ref)
    data = read_yaml_mapping(file)
    if data.get("kind") in ("optimize", "game"):  # decision files (sim.decision) share experiments/
        raise ConfigError(file, "kind", f"is a {data['kind']} file, not a sweep: run it with sim {data['kind']}")
    try:
        spec = ExperimentSpec.model_validate(data)
    except ValidationError as err:
        _raise_without_tags(file, err, data)
    scenario_file, base = _base_scenario(spec, file)
    live = Scenario.model_validate(base)
    integer = tuple(_is_integer_field(live, name, file) for name in spec.parameters)
    _count_runs(spec, file)
    seed = derive_seed(spec.seed)
    try:
        design = make_design(spec.parameters, spec.design.method, spec.design.size, seed, spec.design.levels)
    except ValueError as exc:
        raise ConfigError(file, "design", str(exc)) from None
    if any(integer):
        design.values[:, list(integer)] = np.round(design.values[:, list(integer)])
    _check_values(spec, file, scenario_file, base, design, integer)
    metrics = _select_metrics(spec, file, base)
    return Experiment(spec, file, scenario_file, base, integer, design, metrics, _hash(spec, base, metrics))


def _raise_without_tags(file: Path, err: ValidationError, data: dict):
    """raise_validation minus the union tag pydantic adds: ``parameters.x.range.low`` -> ``parameters.x.low``."""
    try:
        raise_validation(file, err, model=ExperimentSpec)
    except ConfigError as exc:
        names = data.get("parameters") if isinstance(data.get("parameters"), dict) else {}
        path = exc.path
        for name in names:
            for tag in PARAMETER_KINDS:
                prefix = f"parameters.{name}.{tag}"
                if path == prefix or path.startswith(prefix + "."):
                    path = f"parameters.{name}" + path[len(prefix):]
        raise ConfigError(exc.file, path, exc.message) from None


def _base_scenario(spec: ExperimentSpec, file: Path) -> tuple[Path, dict]:
    """The scenario the experiment sweeps, merged and with the population/horizon overrides, as a full mapping."""
    scenario_file = resolve_scenario_path(spec.scenario, relative_to=file)
    if not scenario_file.exists():
        raise ConfigError(file, "scenario", f"no scenario {spec.scenario!r} (looked for {scenario_file})")
    try:
        data = load_merged_dict(scenario_file)
        if spec.population is not None:
            set_in_dict(data, "population.n", spec.population, str(scenario_file))
        if spec.horizon_months is not None:
            set_in_dict(data, "horizon_months", spec.horizon_months, str(scenario_file))
        scenario = validate_scenario(data, scenario_file)
    except ConfigError as exc:
        raise ConfigError(file, "scenario", f"in {exc.file}: {exc.path}: {exc.message}") from None
    # The full dump (defaults included) so a parameter path into a default list or section exists in the mapping.
    return scenario_file, scenario.model_dump(mode="json")


def _is_integer_field(scenario: Scenario, dotted: str, file: Path, section: str = "parameters") -> bool:
    """Whether the scenario field at ``dotted`` holds an int (values get rounded) or a float; errors otherwise."""
    where = f"{section}.{dotted}"
    if dotted in NOT_SWEPT:
        raise ConfigError(file, where, f"cannot be swept: {NOT_SWEPT[dotted]}")
    try:
        node = paths.get(scenario, dotted, mappings=False)
    except paths.NoSuchPath as exc:
        known = ".".join(exc.parts[: exc.at]) or "the scenario"
        raise ConfigError(file, where, f"no such scenario parameter ({exc.parts[exc.at]!r} is not a field of "
                                       f"{known})") from None
    if isinstance(node, (BaseModel, dict, list)):
        raise ConfigError(file, where, "is a section, not a number; name a field inside it")
    if isinstance(node, bool) or not isinstance(node, (int, float)):
        raise ConfigError(file, where, f"is a {type(node).__name__} field; only numbers can be swept")
    return isinstance(node, int)


def _count_runs(spec: ExperimentSpec, file: Path) -> int:
    try:
        points = n_points(spec.design.method, spec.parameters, spec.design.size)
    except ValueError as exc:
        raise ConfigError(file, "design.size", str(exc)) from None
    total = points * spec.replications * len(spec.strategies)
    if total > MAX_RUNS:
        where = "design.size" if spec.design.method != "grid" or spec.design.size else "parameters"
        raise ConfigError(file, where, f"{points:,} points x {spec.replications} replications x "
                                       f"{len(spec.strategies)} strategies = {total:.3g} runs; the limit is "
                                       f"{MAX_RUNS:,}")
    return total


def _check_values(spec: ExperimentSpec, file: Path, scenario_file: Path, base: dict, design: Design,
                  integer: tuple[bool, ...], section: str = "parameters") -> None:
    """Apply each parameter's smallest and largest design value to the scenario; the schema judges them."""
    if design.size == 0:
        return
    lows, highs = design.values.min(axis=0), design.values.max(axis=0)

    def check(assign: dict[str, float], blame: str) -> None:
        data = copy.deepcopy(base)
        for name, value in assign.items():
            set_in_dict(data, name, value, str(scenario_file))
        try:
            validate_scenario(data, scenario_file)
        except ConfigError as exc:
            shown = ", ".join(f"{k}={v:g}" for k, v in assign.items())
            raise ConfigError(file, f"{section}.{blame}", f"{shown} is rejected: {exc.path}: {exc.message}") from None

    def as_value(j: int, v: float):
        return int(v) if integer[j] else float(v)

    for j, name in enumerate(design.names):
        for v in sorted({lows[j], highs[j]}):
            check({name: as_value(j, v)}, name)
    for corner in (lows, highs):  # all at once: catches rules that tie fields together
        check({n: as_value(j, corner[j]) for j, n in enumerate(design.names)}, design.names[0] if design.names
              else "")


def summary_metrics(base: dict | None = None) -> tuple[str, ...]:
    """Every metric ``sim.runner.outcomes`` reports, in its order: the declared outcomes of the base scenario's
    catalogue (with the providers it adds), or of the built-in one (no model is run)."""
    if base is None:
        return NAMES
    return tuple(o.name for o in declared(catalog_of(Scenario.model_validate(base))))


def _select_metrics(spec: ExperimentSpec, file: Path, base: dict | None = None) -> tuple[str, ...]:
    available = summary_metrics(base)
    if spec.outputs.metrics is None:
        return available
    keep = set()
    for i, pattern in enumerate(spec.outputs.metrics):
        hits = fnmatch.filter(available, pattern)
        if not hits:
            raise ConfigError(file, f"outputs.metrics[{i}]", f"no summary metric matches {pattern!r} "
                                                             f"(e.g. npv.meta, final_share_tokens.llama_self, npv.*)")
        keep.update(hits)
    return tuple(m for m in available if m in keep)


def _hash(spec: ExperimentSpec, base: dict, metrics: tuple[str, ...]) -> str:
    """Identity of what the runs compute: the experiment (less prose and backend), the scenario and the metrics."""
    body = spec.model_dump(mode="json", exclude={"description", "backend"})
    body["outputs"].pop("statistics", None)
    text = json.dumps({"format": FORMAT, "experiment": body, "scenario": base, "metrics": list(metrics)},
                      sort_keys=True, default=str, allow_nan=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]

