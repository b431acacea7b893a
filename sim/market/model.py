"""The LLM market as a mesa Model: developers as numpy arrays, providers as Agents, one step per month.

Each month, in this order (docs/model.md; one module per phase in :mod:`sim.market`):

1. dated events edit the live scenario (:mod:`sim.edits`), and Meta's strategy in force is read (:mod:`sim.strategies`);
2. providers step: release models, update quality (flywheel, community) and prices (:mod:`sim.market.providers`);
3. the Llama licence is checked at each release (:mod:`sim.market.licence`);
4. the offer is built from the providers (:mod:`sim.market.offer`);
5. developers adopt, re-choose and pick by the logit rule (:mod:`sim.market.developers`);
6. consumers split their AI use and Meta's products make or buy (:mod:`sim.market.consumers`); every provider books
   the month's sales and one row is recorded (:mod:`sim.market.books`).

All randomness comes from ``model.rng`` through children spawned in a fixed order (population, schedules, licence,
dynamics, read in one block per month: :mod:`sim.streams`), so two runs with the same seed and different Meta
strategies share the population, the release dates, the adoption and re-choice draws and the taste shocks: they are
paired counterfactuals.
"""

from __future__ import annotations

import mesa
import numpy as np

from sim import strategies
from sim.catalog import DEFAULT, catalog_of
from sim.choice import Coefficients
from sim.config import Scenario, month_index
from sim.edits import apply_event, scenario_copy
from sim.market.books import Columns, Recorder, Shares, private_tokens
from sim.market.consumers import ConsumerMarket
from sim.market.developers import DeveloperMarket
from sim.market.licence import Licence
from sim.market.meta import Meta
from sim.market.offer import Offer
from sim.market.offer import build as build_offer
from sim.market.providers import ClosedLab, CloudHost, MarketView, OpenRival, Sales
from sim.market.terms import ScenarioTerms
from sim.population import shared_population


class LLMMarket(mesa.Model):
    """Developers choosing between closed APIs and open weights, month by month, and consumers choosing AI products.

    Args:
        scenario: a validated :class:`sim.config.Scenario` (it is copied; events edit the copy).
        strategy: Meta's strategy for this run (``open``, ``closed`` or ``absent``); defaults to the scenario's.
            The scenario's ``meta.switch`` applies to the run whose strategy is the scenario's own ``meta.strategy``.
        seed: the run's seed; defaults to ``scenario.seed``. Runs with the same seed are paired.
        keep: the record columns the caller reads (None: all); a sweep's run records only those its metrics read.
    """

    def __init__(self, scenario: Scenario, strategy: str | None = None, seed: int | None = None,
                 keep: frozenset[str] | None = None):
        super().__init__(rng=int(scenario.seed if seed is None else seed))
        self.cfg = scenario_copy(scenario)
        self.edits = 0  # events applied so far: what a provider caches from the scenario is keyed on it
        self._terms: ScenarioTerms | None = None  # built on first use (providers read it as they are built)
        self.plan = strategies.plan(self.cfg, strategy)
        self.cfg.meta.strategy = self.plan.name
        self.horizon = self.cfg.horizon_months
        self.catalog = cat = catalog_of(self.cfg)
        self.columns = Columns(cat)
        pop_rng, sched_rng, license_rng, dynamics_rng = self.rng.spawn(4)
        keys = DEFAULT.PROVIDERS + tuple(k for k in cat.PROVIDERS if k not in DEFAULT.PROVIDERS)  # added: last
        provider_rngs = dict(zip(keys, sched_rng.spawn(len(keys)), strict=True))
        sourcing_rng = self.rng.spawn(1)[0]  # cut-offs of what Meta buys (spawned last: the streams above keep theirs)

        self.devs = shared_population(self.cfg.population, pop_rng)
        self.market_volume0 = float(self.devs.volume.astype(np.float64).sum())  # M tokens/month at month 0
        self.consumers = ConsumerMarket(self.devs, len(self.cfg.population.giants[:self.devs.n]), cat, sourcing_rng)
        self.licence = Licence(self.devs.n, license_rng, cat, self.cfg.providers)
        sample = min(self.cfg.outputs.surplus_sample, self.devs.n)
        self.surplus_sample = np.unique(np.linspace(0, self.devs.n - 1, sample).astype(np.intp))  # over the strata

        self.labs = [ClosedLab(self, key, provider_rngs[key]) for key in cat.CLOSED_LABS]
        self.meta = Meta(self, provider_rngs["meta"], self.plan.at(-1))
        self.rivals = [OpenRival(self, provider_rngs[key], key) for key in cat.OPEN_FAMILIES]
        self.host = CloudHost(self, "cloud_host")
        self.providers = {p.key: p for p in (*self.labs, self.meta, *self.rivals, self.host)}
        self.book_order = (*self.labs, self.host, *self.rivals, self.meta)  # Meta books last, after the host

        self.events = sorted(self.cfg.events, key=lambda e: e.date)
        self.shares = Shares(cat)  # last month's shares of adopters
        self.developers = DeveloperMarket(self.devs, self.cfg, cat, dynamics_rng)
        self.offer: Offer | None = None
        self.view: MarketView | None = None
        self.rows: list[dict] = []
        self.recorder = Recorder(self, keep)
        self.usage = 1.0  # token use per firm relative to month 0 (population.tokens_growth_per_year)

    def makers(self) -> tuple:
        """The model makers built so far (labs, Meta, the open families): whose weights can teach whom."""
        return (*getattr(self, "labs", ()), *((self.meta,) if hasattr(self, "meta") else ()),
                *getattr(self, "rivals", ()))

    @property
    def month(self) -> int:
        """The month being simulated (0 at the start; mesa counts steps from 1)."""
        return self.steps - 1

    @property
    def strategy(self) -> str:
        """The name of Meta's strategy in force (``strategy_now`` in the record)."""
        return self.meta.strategy.name

    def step(self) -> None:
        """One month, its phases in order (the module docstring lists them)."""
        t, cfg = self.month, self.cfg
        self.apply_events(t)
        if self.plan.switches_at(t):
            self.meta.adopt(self.plan.at(t))
            cfg.meta.strategy = self.meta.strategy.name
        self.usage = cfg.population.tokens_growth_per_year ** (t / 12.0)  # token use per firm vs month 0
        shares = self.shares
        self.view = MarketView(t, shares.users, shares.family, shares.llama, shares.open, self.terms())
        for provider in self.providers.values():
            provider.step()
        self.licence.update(cfg.license, self.devs.mau, self.meta, self.rivals)
        self.offer = build_offer(cfg, self.catalog, t, self.labs, self.meta, self.rivals, shares.family, self.terms())
        self.developers.choose(t, cfg, self.offer, self.coefficients(), self.licence, self.usage)
        self.rows.append(self.settle(t))
        if t + 1 >= self.horizon:
            self.running = False

    def run(self, on_step=None) -> list[dict]:
        """Step to the horizon; ``on_step`` (a progress callback) is called after each month."""
        while self.running:
            self.step()
            if on_step is not None:
                on_step()
        return self.rows

    def apply_events(self, t: int) -> None:
        """Dated events edit the live scenario at the start of their month (earlier dates apply at month 0)."""
        while self.events and month_index(self.cfg.start, self.events[0].date) <= t:
            apply_event(self.cfg, self.events.pop(0))
            self._terms = None  # the scenario changed: rebuild what depends on it alone
            self.edits += 1

    def settle(self, t: int) -> dict:
        """Count firms and tokens, split consumer use, let every provider book the month's sales, record the row."""
        offer_now, cfg = self.offer, self.cfg
        users_seg, tokens = self.developers.count(t, self.usage, offer_now.jevons)
        users = users_seg.sum(axis=1)
        adopters = users[1:].sum()
        share_users = self.shares.update(users[1:], adopters)
        consumers = self.consumers.month(t, cfg, self.terms().consumer, offer_now.quality, users_seg, self.labs,
                                         self.meta, self.rivals, offer_now.price)
        private = private_tokens(self.devs, self.labs, offer_now.table, users, cfg, self.usage, offer_now.jevons)
        sales = Sales(t, tokens, private, offer_now.price, tokens.sum(), users_seg, consumers,
                      self.host.meta_fee(tokens, offer_now.price))
        for provider in self.book_order:
            provider.book(sales)
        return self.recorder.record(self, t, sales, users, share_users, adopters)

    def terms(self) -> ScenarioTerms:
        """The scenario's terms (built on first use, and again after an event edits the scenario)."""
        if self._terms is None:
            self._terms = ScenarioTerms(self.cfg, self.catalog)
        return self._terms

    def coefficients(self) -> Coefficients:
        """The choice rule's coefficients of the live scenario."""
        return self.terms().coefficients
