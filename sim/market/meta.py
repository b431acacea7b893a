"""Meta as a provider (docs/model.md, "Meta"): a model maker whose strategy is the policy the simulator compares.

Under every strategy Meta is one mesa Agent with the providers' shape (``step()``, ``book(sales)``); its strategy
(:mod:`sim.strategies`) decides whether it releases models, whether the weights are open or sold through an API, and
which model its own products run on. Its ledger is :mod:`sim.channels`, one formula per channel under every strategy.
"""

from __future__ import annotations

import math
from collections import deque

import numpy as np

from sim import channels
from sim.consumer import META_AI
from sim.market.curves import ad_revenue, frontier, open_community_gain, open_gap, serving_cost, talent
from sim.market.providers import BUSINESS, ClosedLab, Sales
from sim.market.spend import Vintages, annuity, capex_month, rd_month

REVENUE_LINES = ("api_revenue", "host_fee", "support_revenue", "consumer_revenue")  # Meta's revenue lines


class Meta(ClosedLab):
    """Meta under one of its strategies (:mod:`sim.strategies`), possibly switching at a date (docs/model.md, "Meta"):
    open weights under the 700M-MAU clause, a credible closed API, or no model of its own. Its value is booked by
    :mod:`sim.channels`, one formula per channel under every strategy."""

    def __init__(self, model, rng, strategy):
        self.strategy = strategy
        self.devs_share = 0.0  # Llama's share of adopters (community)
        self.mindshare = 0.0  # Meta models' share of adopters (talent)
        self.open_share = 0.0
        self.released_now = False
        self.weights_out = False  # Llama weights have been released: they cannot be recalled
        self.legacy: tuple[float, float] | None = None  # (quality, release quality) of weights left behind
        self.business_firms = np.ix_(np.flatnonzero(model.catalog.IS_META) + 1, BUSINESS)  # (option + 1, segment)
        self.vintages = Vintages(model.cfg.meta.spend.capex_life_years)  # capex by vintage (the reported lens)
        self.last_year: deque = deque(maxlen=12)  # the channel values of the last 12 months (spend excluded)
        super().__init__(model, "meta", rng=rng)
        self.released = False
        self.release_quality = self.target_quality(0)

    def params(self):
        """Meta's parameters (``meta``)."""
        return self.cfg.meta

    @property
    def enabled(self) -> bool:
        """Meta has a model programme under its strategy in force."""
        return self.strategy.runs_programme

    def adopt(self, strategy) -> None:
        """Meta changes strategy (a dated switch). Llama weights already released stay usable (they cannot be
        recalled): they remain on offer at their last quality, under the licence, with their misuse hazard."""
        if self.strategy.releases_weights and self.weights_out and not strategy.releases_weights:
            self.legacy = (self.quality, self.release_quality)
        if strategy.releases_weights:
            self.legacy = None
        self.strategy = strategy
        self.priced = False

    @property
    def sells_api(self) -> bool:
        """A Meta API is on sale: under closed, and under open when ``api_with_open_weights`` (the Llama API)."""
        return self.strategy.serves_api or (self.strategy.releases_weights and self.params().api_with_open_weights)

    def step(self) -> None:
        """Releases and learning while Meta runs a programme; the API's price while it sells one (beside open
        weights the offer prices it against the weights' hosts instead)."""
        view, strategy = self.model.view, self.strategy
        self.devs_share, self.mindshare, self.open_share = view.llama_share, \
            view.family_share[self.catalog.FAMILY["meta"]], view.open_share
        self.released_now = self.update_quality(view.t) if strategy.runs_programme else False
        if strategy.serves_api:
            self.update_price(view.t, view.user_share[self.option])
        if strategy.releases_weights and self.released:
            self.weights_out = True

    def weights_quality(self) -> float | None:
        """Release quality of the Llama weights anyone can download now (None before the first open release)."""
        if self.strategy.releases_weights and self.released:
            return self.release_quality + self.params().quality_bonus
        return self.legacy[1] + self.params().quality_bonus if self.legacy is not None else None

    def first_release(self) -> int | None:
        """The first dated release (``meta.releases``; at month 0 if dated before the start, or with none listed)."""
        return self.listing.first() if self.listing else 0

    def following_release(self, t: int) -> int | None:
        """The next dated release, then every ``cadence_after`` months."""
        later = self.listing.next_after(t)
        return later if later is not None else t + self.params().cadence_after

    def reference(self, t: int) -> float:
        """Llama is measured, as every open family, against frontier - open gap."""
        return frontier(self.cfg, t) - open_gap(self.cfg, t)

    def shift(self, t: int) -> float:
        """Releases after the listed ones: ``offset_after``."""
        return self.params().offset_after

    def measured(self, t: int, elo: float) -> float:
        """A listed Llama score net of what the open world added when it was measured: the community gain at the
        measured shares, the talent term at the measured mindshare and what it learnt from the other open weights
        out then (the run adds back what its strategy earns)."""
        return self.measured_open(t, elo)

    def spillover_rate(self) -> float:
        """sigma (``meta.spillover``): what a Meta release absorbs of a better open model's lead, open or closed."""
        return self.params().spillover

    def released_weights(self, t: int) -> float | None:
        """Llama weights anyone can download (:meth:`weights_quality`)."""
        return self.weights_quality()

    def target_quality(self, t: int) -> float:
        """The release's quality (listed, or frontier - open gap + offset) plus what it learns from the other open
        weights out, + the quality investment lever."""
        return self.learn(super().target_quality(t), t) + self.params().investment.extra_elo

    def training_cost(self, t: int) -> float:
        """Training per release, times cost_per_100_elo^(extra / 100) for the quality investment lever. Training on
        Meta's own clusters is inside the capex (``training_inside_capex``): then only the investment's extra compute
        is charged."""
        p = self.params()
        factor = p.investment.cost_per_100_elo ** (p.investment.extra_elo / 100.0)
        if p.spend.training_inside_capex:
            return p.training_cost * max(factor - 1.0, 0.0)
        return p.training_cost * factor

    def talent_gain(self) -> float:
        """Talent as quality: a base for doing frontier work at all, plus delta_T x Meta's developer mindshare, of
        which a closed programme earns ``closed_factor`` (open work's premium, seed 002 and Meta's letters)."""
        return talent(self.cfg, self.mindshare, self.strategy.talent_factor(self.params().talent.closed_factor))

    def endogenous_quality(self) -> float:
        """Talent, plus community gains while the weights are open, or an API's flywheel otherwise."""
        gain = self.talent_gain()
        if self.strategy.learns_from_community():
            return gain + self.cfg.community.strength * open_community_gain(self.cfg, self.devs_share,
                                                                            self.open_share)
        return gain + self.flywheel_gain()  # closed: a flywheel like any closed API

    def community_cost_cut(self) -> float:
        """Community efficiency work (quantization, kernels, distillation) cuts the cost of running open weights,
        scaled by the same phi-weighted community size as the quality gains (zero with no open developers)."""
        c = self.cfg.community
        if self.devs_share <= 0.0:
            return 0.0
        return min(c.cost_cut * open_community_gain(self.cfg, self.devs_share, self.open_share), c.cost_cut_max)

    def private_threshold(self) -> float:
        """A Meta API has no private tier (its parameters have none): inf, without asking pydantic for a missing
        field every month, which costs an exception."""
        return math.inf

    def unit_cost(self, t: int) -> float:
        """$/M tokens to run the current Meta model before community savings."""
        return serving_cost(self.cfg, t, self.release_quality) * self.params().serving_efficiency

    def book(self, sales: Sales) -> None:
        """Meta's inputs for this month, then its ledger from :mod:`sim.channels` (one formula per channel): an API's
        tokens also feed its own flywheel. In the last month the strategic lens adds the value after the horizon:
        the last year's channel values (spend excluded) for ``terminal_years``, discounted."""
        api_tokens = sales.tokens[self.option] if self.sells_api else 0.0
        if api_tokens:
            self.captured += api_tokens
        self.ledger = channels.book(self.month_inputs(sales, api_tokens))
        self.last_year.append(sum(self.ledger[name] for name in channels.BENEFITS))
        years = self.cfg.meta.spend.terminal_years
        if years and sales.t == self.model.horizon - 1:
            monthly = sum(self.last_year) / len(self.last_year)
            self.ledger["terminal_value"] = monthly * annuity(years, self.cfg.market.discount_rate)

    @property
    def profit(self) -> float:
        """This month in the strategic lens (the reported-only lines left out)."""
        return channels.strategic_total(self.ledger)

    def month_inputs(self, sales: Sales, api_tokens: float) -> channels.MetaMonth:
        """Everything Meta's channels read this month (:class:`sim.channels.MetaMonth`)."""
        cfg, t, cons = self.cfg, sales.t, sales.consumers
        avg_price = float((sales.price * sales.tokens).sum() / sales.served) if sales.served > 0 else 0.0
        spend, programme = cfg.meta.spend, self.strategy.runs_programme
        capex = spend.capex_share * capex_month(cfg, t, programme)
        return channels.MetaMonth(
            ad_revenue=ad_revenue(cfg, t),
            attention_at_risk=cons.at_risk,
            ad_yield=cfg.consumer.meta_ad_yield,
            meta_ai_share=float(cons.shares[META_AI]),
            meta_ai_use_share=float(cons.use[META_AI]),
            consumer_users=cons.users,
            revenue_per_user=cfg.consumer.meta_ai.revenue_per_user_month,
            engagement_lift=cfg.consumer.engagement_lift,
            price_ratio=cfg.choice.budget_per_mtok / avg_price if avg_price > 0 else 1.0,
            own_products_cost=cons.own_cost,
            api_revenue=self.price * api_tokens,
            api_serving_cost=self.cost * api_tokens,
            host_fee=sales.host_fee,
            support_revenue=cfg.meta.ledger.support_revenue_per_dev * sales.users_seg[self.business_firms].sum(),
            misuse_hazard=self.strategy.misuse_hazard(cfg.meta.misuse, self.weights_out,
                                                      self.sells_api and self.released),
            liability=cfg.meta.misuse.liability,
            training_cost=self.training_charge(t),
            rd_cost=spend.rd_share * rd_month(cfg, t, programme),
            capex_cost=capex,
            capex_depreciation=self.vintages.depreciation(capex) if spend.capex_as_cash else capex,
            internal_value=cfg.meta.internal.value_per_100_elo,
            internal_gain=cons.internal_gain,
        )

    @property
    def revenue(self) -> float:
        """Meta's revenue lines this month (API, host fees, support, Meta AI)."""
        return sum(v for k, v in self.ledger.items() if k in REVENUE_LINES)
