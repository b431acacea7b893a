"""Decision files (``kind: optimize`` or ``kind: game``): schema, loading and every check that can fail before a run.

An optimize file names Meta's levers (dotted scenario paths with a ``{low, high}`` range or a list of choices, plus
the special lever ``strategy``: the run's open/closed/absent) and the uncertainties, declared exactly like an
experiment's ``parameters``. A game file gives each player a finite menu; a menu item is a set of dotted overrides.
A bad file gives one ``file: field.path: message`` line. Every lever extreme, every choice and every menu item is
applied to the base scenario and validated at load time, so any dotted path the scenario schema knows works, and an
unknown one fails before the first run.
"""

from __future__ import annotations

import contextlib
import copy
import hashlib
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import (
    Discriminator,
    Field,
    StrictBool,
    StrictFloat,
    StrictInt,
    StrictStr,
    Tag,
    ValidationError,
    model_validator,
)

from sim.breakeven import SPEND_LINES
from sim.config import STRATEGIES, Scenario
from sim.decision import game
from sim.decision.context import DecisionContext, Overrides
from sim.errors import ConfigError
from sim.experiments.designs import Design, make_design
from sim.experiments.parameters import PARAMETER_KINDS, ParamSpec, Range
from sim.experiments.schema import (
    EXPERIMENT_DIR,
    BackendSpec,
    _base_scenario,
    _check_values,
    _is_integer_field,
    resolve_experiment_path,
    summary_metrics,
)
from sim.loading import raise_validation, read_yaml_mapping, set_in_dict, validate_scenario
from sim.outcomes import LLAMA_SHARE
from sim.runner import derive_seed
from sim.spec import StrictModel

FORMAT = 1  # bump when the output layout changes, so old folders are not resumed into
OBJECTIVES = ("mean", "p10", "max_regret")
MAX_PROFILES = 100_000
Scalar = StrictBool | StrictInt | StrictFloat | StrictStr


class Section(StrictModel):
    """Base of the decision file's blocks."""


class Choices(Section):
    """A list of values (numbers, booleans or names): the search picks one."""

    values: list[Scalar] = Field(min_length=1, max_length=1_000)

    @model_validator(mode="before")
    @classmethod
    def _from_list(cls, data):
        return {"values": data} if isinstance(data, list) else data

    @model_validator(mode="after")
    def _unique(self):
        if len({json.dumps(v) for v in self.values}) != len(self.values):
            raise ValueError("choices must not repeat")
        return self


def _lever_kind(value: Any) -> str | None:
    if isinstance(value, list) or (isinstance(value, dict) and "values" in value) or isinstance(value, Choices):
        return "choices"
    if isinstance(value, (dict, Range)):
        return "range"
    return None


LeverSpec = Annotated[
    Annotated[Choices, Tag("choices")] | Annotated[Range, Tag("range")],
    Discriminator(_lever_kind, custom_error_type="lever_spec",
                  custom_error_message="must be a list of choices or {low, high[, log]}"),
]


class Common(Section):
    """What optimize and game files share: the scenario, seed, sizes, Meta's default strategy and the backend."""

    name: str = Field(min_length=1, max_length=200, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
    description: str = Field(min_length=1, max_length=20_000)
    seed: int = Field(ge=0, le=2**63 - 1)
    scenario: str = Field(min_length=1, max_length=1_000, description="preset name or path (relative to this file)")
    population: int | None = Field(None, ge=1, le=20_000_000, description="overrides population.n")
    horizon_months: int | None = Field(None, ge=1, le=600, description="overrides horizon_months")
    strategy: Literal[STRATEGIES] = Field("open", description="Meta's strategy when no lever or menu item sets it")
    backend: BackendSpec = BackendSpec()


class InvestorSpec(Section):
    """Investors' patience: the ``quantile`` of ``metric`` across worlds must stay at or above ``floor`` ($)."""

    metric: str = Field("npv.meta_reported", min_length=1, max_length=200)
    floor: float = Field(allow_inf_nan=False)
    quantile: float = Field(0.0, ge=0, le=1, description="0: in every world; 0.1: in 90% of worlds")


class SearchSpec(Section):
    """The NSGA-II search's size: policies per generation and generations."""

    population: int = Field(16, ge=4, le=10_000, description="NSGA-II population (policies per generation)")
    generations: int = Field(8, ge=1, le=10_000)


class OptimizeSpec(Common):
    """An optimize file: the levers Meta controls, the uncertain worlds, the outcome and objectives, an optional
    investor floor."""

    kind: Literal["optimize"]
    levers: dict[str, LeverSpec] = Field(min_length=1, max_length=100)
    uncertainties: dict[str, ParamSpec] = Field(default_factory=dict, max_length=100)
    worlds: int = Field(16, ge=1, le=100_000, description="N uncertain worlds, sampled once (Latin hypercube)")
    metric: str = Field("npv.meta", min_length=1, max_length=200, description="the outcome the objectives rank")
    objectives: list[Literal[OBJECTIVES]] = Field(default_factory=lambda: list(OBJECTIVES), min_length=1)
    investor: InvestorSpec | None = None
    search: SearchSpec = SearchSpec()

    @model_validator(mode="after")
    def _consistent(self):
        if len(set(self.objectives)) != len(self.objectives):
            raise ValueError("objectives must not repeat")
        return self


class PlayerSpec(Section):
    """A game player's menu of items (scenario overrides) and the metric it is paid in."""

    payoff: str | None = Field(None, min_length=1, max_length=200, description="summary metric (default npv.<name>)")
    menu: dict[str, dict[str, Scalar]] = Field(min_length=1, max_length=100)


class GameSpec(Common):
    """A game file: the players and their menus, replicates per profile and where best-response dynamics start."""

    kind: Literal["game"]
    players: dict[str, PlayerSpec] = Field(min_length=2, max_length=10)
    replications: int = Field(5, ge=1, le=10_000, description="paired replicates per profile")
    status_quo: dict[str, str] | None = Field(None, description="each player's item at the start of best-response "
                                                                "dynamics (default: each menu's first)")


def _spec_kind(value: Any) -> str | None:
    return value.get("kind") if isinstance(value, dict) else None


DecisionSpec = Annotated[
    Annotated[OptimizeSpec, Tag("optimize")] | Annotated[GameSpec, Tag("game")],
    Discriminator(_spec_kind, custom_error_type="decision_kind",
                  custom_error_message="kind must be optimize or game"),
]


# --- resolved problems --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Lever:
    """One decision variable, searched on the unit interval: ``decode(u)`` is its value."""

    name: str
    choices: tuple | None = None
    range: Range | None = None
    integer: bool = False

    def decode(self, u: float) -> Any:
        """The lever's value at ``u`` in [0, 1]: a choice by equal slices, or a range value rounded to 10^4
        steps so repeated policies hit the cache."""
        u = min(max(float(u), 0.0), 1.0)
        if self.choices is not None:
            return self.choices[min(int(u * len(self.choices)), len(self.choices) - 1)]
        value = float(self.range.ppf(np.array([round(u, 4)]))[0])  # 10^4 steps: readable values, a finite cache
        return int(round(value)) if self.integer else float(f"{value:.6g}")

    def as_float(self, value: Any) -> float:
        """The value a run carries: a choice's index, or the number itself."""
        return float(self.choices.index(value)) if self.choices is not None else float(value)


@dataclass(frozen=True)
class OptimizeProblem:
    """An optimize file resolved: its levers, the sampled worlds and their seeds, the metrics the runs must
    return."""

    spec: OptimizeSpec
    file: Path
    scenario_file: Path
    base: dict
    levers: tuple[Lever, ...]
    worlds: Design
    world_seeds: tuple[int, ...]
    metrics: tuple[str, ...]
    investor_metric: str | None  # None when the constraint is off or the run summary lacks its column
    hash: str

    @property
    def run_levers(self) -> tuple[Lever, ...]:
        """Levers applied to the scenario (all but ``strategy``, which is the run's own argument)."""
        return tuple(lev for lev in self.levers if lev.name != "strategy")

    def context(self) -> DecisionContext:
        """What every run shares: lever then world parameter names, which are integers, and each lever's choices
        as menus."""
        names = tuple(lev.name for lev in self.run_levers) + self.worlds.names
        integer = tuple(lev.integer for lev in self.run_levers) + tuple(self.world_integer)
        menus = tuple(tuple(((lev.name, c),) for c in lev.choices) if lev.choices is not None else None
                      for lev in self.run_levers) + (None,) * len(self.worlds.names)
        return DecisionContext(self.spec.name, str(self.scenario_file), self.base, names, integer, self.metrics, menus)

    @property
    def world_integer(self) -> tuple[bool, ...]:
        """Which uncertain parameters are integer fields of the scenario, so their sampled values are
        rounded."""
        live = Scenario.model_validate(self.base)
        return tuple(_is_integer_field(live, n, self.file, "uncertainties") for n in self.worlds.names)

    def strategy_of(self, policy: tuple) -> str:
        """Meta's strategy under ``policy``: the strategy lever's value, else the file's default."""
        for lev, value in zip(self.levers, policy, strict=True):
            if lev.name == "strategy":
                return str(value)
        return self.spec.strategy

    def record(self) -> dict:
        """What the output folder's manifest stores, so a resumed search refuses a changed file."""
        return {"format": FORMAT, "kind": "optimize", "hash": self.hash, "file": str(self.file),
                "scenario_file": str(self.scenario_file), "spec": self.spec.model_dump(mode="json"),
                "metrics": list(self.metrics), "investor_metric": self.investor_metric}


@dataclass(frozen=True)
class MenuItem:
    """One item of a player's menu: its scenario overrides and the Meta strategy it sets, if any."""

    name: str
    overrides: Overrides  # applied to the scenario
    strategy: str | None  # the run's Meta strategy, when this item sets it


@dataclass(frozen=True)
class GameProblem:
    """A game file resolved: the players, their menus, payoff metrics and the status-quo profile."""

    spec: GameSpec
    file: Path
    scenario_file: Path
    base: dict
    players: tuple[str, ...]
    menus: tuple[tuple[MenuItem, ...], ...]
    payoffs: tuple[str, ...]  # each player's payoff metric
    status_quo: tuple[int, ...]
    metrics: tuple[str, ...]
    hash: str

    @property
    def shape(self) -> tuple[int, ...]:
        """Menu sizes per player: the shape of the payoff array."""
        return tuple(len(m) for m in self.menus)

    def profiles(self) -> list[tuple[int, ...]]:
        """Every pure-strategy profile, in C order of the payoff array."""
        return game.profiles(self.shape)

    def strategy_of(self, profile: tuple[int, ...]) -> str:
        """Meta's strategy in ``profile``: set by the first item that sets one, else the file's default."""
        for menu, i in zip(self.menus, profile, strict=True):
            if menu[i].strategy is not None:
                return menu[i].strategy
        return self.spec.strategy

    def context(self) -> DecisionContext:
        """What every run shares: players as parameters, each taking its menu item's overrides."""
        menus = tuple(tuple(item.overrides for item in menu) for menu in self.menus)
        return DecisionContext(self.spec.name, str(self.scenario_file), self.base, self.players,
                               (False,) * len(self.players), self.metrics, menus)

    def record(self) -> dict:
        """What the output folder's manifest stores, so a resumed game refuses a changed file."""
        return {"format": FORMAT, "kind": "game", "hash": self.hash, "file": str(self.file),
                "scenario_file": str(self.scenario_file), "spec": self.spec.model_dump(mode="json"),
                "metrics": list(self.metrics)}


# --- loading ------------------------------------------------------------------------------------------------------


def decision_names(kind: str | None = None) -> list[str]:
    """The shipped decision files of ``kind`` (optimize or game; None: both), by name."""
    out = []
    for path in sorted(EXPERIMENT_DIR.glob("*.yaml")):
        with contextlib.suppress(ConfigError):
            found = read_yaml_mapping(path).get("kind")
            if found in ("optimize", "game") and (kind is None or found == kind):
                out.append(path.stem)
    return out


def load_decision(ref: str | Path, kind: str | None = None) -> OptimizeProblem | GameProblem:
    """Read, validate and resolve a decision file; ``kind`` (optimize/game) refuses the other kind."""
    from pydantic import TypeAdapter

    file = resolve_experiment_path(ref)
    data = read_yaml_mapping(file)
    found = data.get("kind")
    if found not in ("optimize", "game"):
        wanted = kind or "optimize or game"
        if found is None:  # a sweep file (sweeps have no kind): say so, and name the decision files there are
            names = decision_names(kind)
            listed = f" ({wanted} files: {', '.join(names)})" if names else ""
            raise ConfigError(file, "kind", f"is a sweep file, not {wanted}: run it with sim sweep{listed}")
        raise ConfigError(file, "kind", f"must be optimize or game (got {found!r})")
    if kind is not None and found != kind:
        article = "an" if found == "optimize" else "a"
        raise ConfigError(file, "kind", f"is {article} {found} file, not {kind}: run it with sim {found}")
    try:
        spec = TypeAdapter(DecisionSpec).validate_python(data)
    except ValidationError as err:
        _raise_tagless(file, err, data)
    scenario_file, base = _base_scenario(spec, file)
    if isinstance(spec, OptimizeSpec):
        return _optimize(spec, file, scenario_file, base)
    return _game(spec, file, scenario_file, base)


def _raise_tagless(file: Path, err: ValidationError, data: dict):
    """One line without pydantic's union tags (``optimize.``, ``range.``, ``normal.``...) in the field path."""
    try:
        raise_validation(file, err)
    except ConfigError as exc:
        path = exc.path
        for tag in ("optimize.", "game."):
            if path.startswith(tag):
                path = path[len(tag):]
        for section, tags in (("levers", ("choices", "range")), ("uncertainties", PARAMETER_KINDS)):
            names = data.get(section) if isinstance(data.get(section), dict) else {}
            for name in names:
                for tag in tags:
                    prefix = f"{section}.{name}.{tag}"
                    if path == prefix or path.startswith(prefix + "."):
                        path = f"{section}.{name}" + path[len(prefix):]
        raise ConfigError(exc.file, path, exc.message) from None


def _check(file: Path, scenario_file: Path, base: dict, where: str, assign: dict) -> None:
    """Apply ``assign`` (dotted path -> value) to the base scenario; the scenario schema judges it."""
    data = copy.deepcopy(base)
    try:
        for path, value in assign.items():
            set_in_dict(data, path, value, str(scenario_file))
        validate_scenario(data, scenario_file)
    except ConfigError as exc:
        shown = ", ".join(f"{k}={v!r}" for k, v in assign.items())
        raise ConfigError(file, where, f"{shown} is rejected: {exc.path}: {exc.message}") from None


def _metrics_known(file: Path, where: str, metric: str, available: tuple[str, ...]) -> None:
    if metric not in available:
        raise ConfigError(file, where, f"no summary metric {metric!r} (e.g. npv.meta, npv.openai)")


def _lever(spec, name: str, file: Path, scenario_file: Path, base: dict, live: Scenario) -> Lever:
    where = f"levers.{name}"
    if name == "strategy":
        if not isinstance(spec, Choices) or any(v not in STRATEGIES for v in spec.values):
            raise ConfigError(file, where, f"the strategy lever is a list of {', '.join(STRATEGIES)}")
        return Lever(name, choices=tuple(spec.values))
    if isinstance(spec, Choices):
        for value in spec.values:
            _check(file, scenario_file, base, where, {name: value})
        return Lever(name, choices=tuple(spec.values))
    integer = _is_integer_field(live, name, file, "levers")
    for u in (0.0, 1.0):
        value = float(spec.ppf(np.array([u]))[0])
        _check(file, scenario_file, base, where, {name: int(round(value)) if integer else value})
    return Lever(name, range=spec, integer=integer)


def _optimize(spec: OptimizeSpec, file: Path, scenario_file: Path, base: dict) -> OptimizeProblem:
    both = [n for n in spec.uncertainties if n in spec.levers]
    if both:
        raise ConfigError(file, f"uncertainties.{both[0]}", "is a lever too; Meta either decides it or does not")
    live = Scenario.model_validate(base)
    levers = tuple(_lever(s, n, file, scenario_file, base, live) for n, s in spec.levers.items())
    world_integer = tuple(_is_integer_field(live, n, file, "uncertainties") for n in spec.uncertainties)
    worlds = sample_worlds(spec.uncertainties, spec.worlds, spec.seed)
    if any(world_integer):
        worlds.values[:, list(world_integer)] = np.round(worlds.values[:, list(world_integer)])
    _check_values(spec, file, scenario_file, base, worlds, world_integer, "uncertainties")
    available = summary_metrics(base)
    _metrics_known(file, "metric", spec.metric, available)
    investor = None
    if spec.investor is not None and spec.investor.metric in available:
        investor = spec.investor.metric
    spend = SPEND_LINES if spec.metric == "npv.meta" else ()  # Meta's break-even spend share against staying out
    metrics = tuple(dict.fromkeys(m for m in (spec.metric, investor, LLAMA_SHARE, *spend) if m in available))
    seeds = tuple(derive_seed(spec.seed, 1, w) for w in range(spec.worlds))
    return OptimizeProblem(spec, file, scenario_file, base, levers, worlds, seeds, metrics, investor,
                           _hash(spec, base, metrics))


def sample_worlds(uncertainties: dict, n: int, seed: int) -> Design:
    """N worlds sampled once by Latin hypercube (every policy meets the same ones: common random numbers)."""
    if not uncertainties:
        return Design("lhs", (), np.zeros((n, 0)), np.zeros((n, 0)))
    return make_design(uncertainties, "lhs", n, derive_seed(seed))


def _game(spec: GameSpec, file: Path, scenario_file: Path, base: dict) -> GameProblem:
    available = summary_metrics(base)
    players = tuple(spec.players)
    menus, payoffs, owner = [], [], {}
    for player, p in spec.players.items():
        payoff = p.payoff or f"npv.{player}"
        _metrics_known(file, f"players.{player}.payoff", payoff, available)
        payoffs.append(payoff)
        items = []
        for item, overrides in p.menu.items():
            where = f"players.{player}.menu.{item}"
            strategy = overrides.get("strategy")
            if strategy is not None and strategy not in STRATEGIES:
                raise ConfigError(file, f"{where}.strategy", f"must be one of {', '.join(STRATEGIES)}")
            rest = {k: v for k, v in overrides.items() if k != "strategy"}
            for key in overrides:
                if owner.setdefault(key, player) != player:
                    raise ConfigError(file, f"{where}.{key}", f"is also set by player {owner[key]}; each path "
                                                              f"belongs to one player")
            _check(file, scenario_file, base, where, rest)
            items.append(MenuItem(item, tuple(rest.items()), strategy))
        menus.append(tuple(items))
    n_profiles = math.prod(len(m) for m in menus)
    if n_profiles * spec.replications > MAX_PROFILES * 10:
        raise ConfigError(file, "players", f"{n_profiles:,} profiles x {spec.replications} replications is more "
                                           f"runs than this tool plans at once")
    status = []
    for j, player in enumerate(players):
        chosen = (spec.status_quo or {}).get(player)
        names = [item.name for item in menus[j]]
        if chosen is not None and chosen not in names:
            raise ConfigError(file, f"status_quo.{player}", f"{chosen!r} is not on {player}'s menu "
                                                            f"({', '.join(names)})")
        status.append(names.index(chosen) if chosen is not None else 0)
    unknown = sorted(set(spec.status_quo or {}) - set(players))
    if unknown:
        raise ConfigError(file, f"status_quo.{unknown[0]}", "is not a player")
    spend = SPEND_LINES if "npv.meta" in payoffs else ()  # Meta's break-even spend share against staying out
    metrics = tuple(dict.fromkeys(m for m in (*payoffs, LLAMA_SHARE, *spend) if m in available))
    return GameProblem(spec, file, scenario_file, base, players, tuple(menus), tuple(payoffs), tuple(status),
                       metrics, _hash(spec, base, metrics))


def _hash(spec, base: dict, metrics: tuple[str, ...]) -> str:
    """Identity of what the runs compute: the file (less prose and backend), the scenario and the metrics."""
    body = spec.model_dump(mode="json", exclude={"description", "backend"})
    text = json.dumps({"format": FORMAT, "spec": body, "scenario": base, "metrics": list(metrics)},
                      sort_keys=True, default=str, allow_nan=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]
