"""Meta's strategies as objects: the only place that knows what ``open``, ``closed`` and ``absent`` mean.

The engine asks a strategy questions instead of comparing names (docs/model.md, "Meta"):

* does Meta run a model programme (train and release models)?
* does it release the weights (Llama under its licence, hosted by clouds and self-hostable, improved by the
  community, "commoditize your complement": Zuckerberg's open-source letter, 2024)?
* does it sell a closed API (priced like the labs', with its own data flywheel)?
* what misuse is it exposed to, and may its own products run on its own model?

A dated switch (``meta.switch``) is a strategy that delegates to one strategy before its date and another after.
Every value channel is one formula under every strategy (:mod:`sim.channels`); a strategy changes only these answers.
"""

from __future__ import annotations

from dataclasses import dataclass

from sim.config import STRATEGIES, month_index


@dataclass(frozen=True)
class Strategy:
    """One of Meta's strategies, as the answers the engine needs (and, ``rival_phrase``, how a verdict names it)."""

    name: str
    runs_programme: bool  # trains and releases models of its own
    releases_weights: bool  # the weights are free under the licence (open): hosted, self-hosted, community gains
    serves_api: bool  # sells a closed API with its own data flywheel
    rival_phrase: str = ""  # "open beats <this>" in a verdict

    def at(self, t: int) -> Strategy:
        """The strategy in force in month ``t`` (itself: only a switch changes with the date)."""
        return self

    def switches_at(self, t: int) -> bool:
        """Whether Meta changes strategy in month ``t`` (never: only a switch does)."""
        return False

    def makes_own_products_model(self, released: bool) -> bool:
        """Meta's products run on its own model when it runs a programme and has released a model; otherwise Meta
        buys an API or self-hosts an open model (make or buy, :mod:`sim.market.consumers`)."""
        return self.runs_programme and released

    def learns_from_community(self) -> bool:
        """Open weights improve with their developers (fine-tunes, tooling); a closed model learns from its API's
        data instead (a flywheel like any closed lab's)."""
        return self.releases_weights

    def talent_factor(self, closed_factor: float) -> float:
        """Share of the talent gain from developer mindshare that this strategy earns: open work's premium (1), or
        ``closed_factor`` for a closed programme."""
        return 1.0 if self.releases_weights else closed_factor

    def misuse_hazard(self, misuse, weights_out: bool, api_live: bool) -> float:
        """Expected incidents per month: released weights cannot be recalled or monitored (their hazard lasts once
        they are out, whatever Meta does next); a served API is misused too (``api_live``: one is on sale)."""
        return (misuse.hazard_open_per_year * weights_out + misuse.hazard_closed_per_year * api_live) / 12.0


OPEN = Strategy("open", runs_programme=True, releases_weights=True, serves_api=False, rival_phrase="open")
CLOSED = Strategy("closed", runs_programme=True, releases_weights=False, serves_api=True, rival_phrase="closed")
ABSENT = Strategy("absent", runs_programme=False, releases_weights=False, serves_api=False,
                  rival_phrase="staying out")
BY_NAME = {s.name: s for s in (OPEN, CLOSED, ABSENT)}
assert tuple(BY_NAME) == STRATEGIES
COMPARISONS = ((OPEN.name, CLOSED.name), (OPEN.name, ABSENT.name))  # the paired differences reports show: open - each
PAIRS = (*COMPARISONS, (CLOSED.name, ABSENT.name))  # every paired difference discovery can label: building or not


def comparisons_in(present) -> list[tuple[str, str]]:
    """The :data:`COMPARISONS` whose two strategies are both among ``present`` (the strategies a result holds)."""
    present = set(present)
    return [(a, b) for a, b in COMPARISONS if a in present and b in present]


@dataclass(frozen=True)
class Switch:
    """Meta's strategy changes at a date: ``before`` until month ``month``, ``after`` from then on (a month at or
    before the start switches at month 0). Weights already released stay usable afterwards (the market keeps them)."""

    before: Strategy
    after: Strategy
    month: int

    @property
    def name(self) -> str:
        """The run's strategy is the one it starts with (the scenario's own)."""
        return self.before.name

    def at(self, t: int) -> Strategy:
        """``before`` until the switch month, ``after`` from then on."""
        return self.after if t >= max(self.month, 0) else self.before

    def switches_at(self, t: int) -> bool:
        """True in the switch month (month 0 for a date at or before the start)."""
        return t == max(self.month, 0)


def by_name(name: str) -> Strategy:
    """The strategy called ``name`` (``open``, ``closed`` or ``absent``)."""
    return BY_NAME[name]


def plan(cfg, name: str | None = None) -> Strategy | Switch:
    """Meta's strategy for a run: ``name`` (default: the scenario's own ``meta.strategy``). The scenario's dated
    ``meta.switch`` applies to the run of the scenario's own strategy only, so the other strategies stay the
    counterfactuals they are."""
    own = cfg.meta.strategy
    name = name or own
    sw = cfg.meta.switch
    if sw is not None and name == own:
        return Switch(by_name(name), by_name(sw.to), month_index(cfg.start, sw.date))
    return by_name(name)
