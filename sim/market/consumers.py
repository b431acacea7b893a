"""Consumers and make-or-buy (docs/model.md, "Consumer AI"): people's AI use split among products, and what Meta's
own products run on.

The split is the logit of :mod:`sim.consumer`; the quality of each product is that of the model it runs on: each
lab's assistant on its own, third-party apps on what the platform segment of the developers chose, Meta AI on the
source :mod:`sim.market.sourcing` picks under every strategy (its own model, a lab's API or licensed weights, or the
best open model self-hosted).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from sim import consumer
from sim.market.curves import ad_revenue
from sim.market.providers import Consumers
from sim.market.sourcing import Sourcing, candidates, internal_gain
from sim.population import SEGMENT_CODE

PLATFORM = SEGMENT_CODE["platform"]


def weighted_mean(values: np.ndarray, weights: np.ndarray, total: float | None = None) -> float:
    """np.average's weighted mean in float64, without its argument checks (called every month); ``total``: the
    weights' float64 sum when the caller has it."""
    w = weights if weights.dtype == np.float64 else weights.astype(np.float64)
    return float(np.multiply(values, w).sum() / (w.sum() if total is None else total))


class Platform(NamedTuple):
    """What the platform segment runs on this month (:meth:`ConsumerMarket.platform_choices`): the options of the
    named giants that have adopted, their MAU (float32, and as float64 weights with their sum), and the other platform
    firms by option (float64, with their sum)."""

    giants_on: np.ndarray
    giant_mau: np.ndarray
    giant_weights: np.ndarray
    giant_total: float
    firms: np.ndarray
    firms_total: float


class ConsumerMarket:
    """The consumer layer's fixed facts about the developer population (the named giants' rows, the reach of the
    other platform apps), and each month's split of AI use."""

    def __init__(self, devs, giants: int, cat, sourcing_rng: np.random.Generator):
        n = devs.n
        self.sourcing = Sourcing(sourcing_rng, cat)
        self.devs, self.cat = devs, cat
        self.lab_products = tuple(k for k, owner in cat.PRODUCT_OWNER.items() if owner != "meta")  # labs' assistants
        self.platforms, self.apps = cat.PRODUCT["platforms"], cat.PRODUCT["apps"]
        self.giant_rows = np.arange(n - giants, n)
        apps = (devs.segment == PLATFORM)
        apps[n - giants:] = False
        self.apps_reach = float((devs.weight[apps].astype(np.float64) * devs.mau[apps]).sum())
        self.apps_firms = float(devs.weight[apps].astype(np.float64).sum())

    def month(self, t: int, cfg, terms, quality: np.ndarray, users_seg: np.ndarray, labs, meta, rivals,
              price: np.ndarray | None = None) -> Consumers:
        """Split consumer AI use among products; decide what Meta's products run on (make or buy)."""
        c = cfg.consumer
        platform = self.platform_choices(users_seg)
        q, reach = self.qualities(labs, quality, platform, terms.reach.copy(), cfg.consumer.sourcing)
        unit_cost = self.unit_costs(labs, price, platform) if cfg.consumer.cost_weight and price is not None else None
        launched = terms.launched(t)
        users = consumer.consumer_users(cfg, t)
        at_risk = terms.attention_at_risk(t)
        attention = ad_revenue(cfg, t) * at_risk * c.meta_ad_yield
        meta_revenue = users * c.meta_ai.revenue_per_user_month

        costs = unit_cost.tolist() if unit_cost is not None else [np.nan] * len(q)
        base = [terms.utility(k, qk, rk, ok, ck) for k, (qk, rk, ok, ck) in
                enumerate(zip(q.tolist(), reach.tolist(), launched.tolist(), costs, strict=True))]
        meta_reach, meta_live = float(reach[consumer.META_AI]), bool(launched[consumer.META_AI])

        def shares_and_worth(qualities: list[float], costs: list[float]) -> tuple[np.ndarray, np.ndarray]:
            """The shares with Meta AI on models of these qualities and costs (a row each; the other products'
            utilities kept), and what Meta AI's shares on each are worth a month: the attention it wins back (by
            use) and its revenue (by users)."""
            quality = np.asarray(qualities, dtype=np.float64)
            cost = np.asarray(costs, dtype=np.float64) if unit_cost is not None else np.full(quality.size, np.nan)
            s, use = terms.shares_on(base, consumer.META_AI, quality, cost, meta_reach, meta_live)
            mine = s[:, consumer.META_AI]
            if terms.uniform_use:
                return s, (attention + meta_revenue) * mine
            return s, attention * use + meta_revenue * mine

        sources = candidates(cfg, t, labs, rivals, meta)
        deal, paid, switched = self.sourcing.month(cfg, t, sources, shares_and_worth, users)
        seller, contract, cost, source = None, (0.0, 0.0), paid + switched, "none"
        if deal is None:
            s = shares_and_worth([np.nan], [np.nan])[0][0]
        else:
            s, q[consumer.META_AI], source = deal.shares, deal.source.quality, deal.source.label or deal.source.key
            if deal.source.seller is not None:  # the seller books the price less what Meta's servers cost Meta
                seller = deal.source.seller.key
                served = deal.source.unit_cost * deal.tokens
                contract = (paid - served, 0.0) if deal.source.meta_serves else (paid, deal.tokens)
        revenue = {k: s[self.cat.PRODUCT[k]] * users * getattr(c, k).revenue_per_user_month
                   for k in self.lab_products}
        return Consumers(s, terms.use_shares(s), users, q.copy(), cost, seller, contract, revenue, at_risk, source,
                         internal_gain(cfg, sources))

    def unit_costs(self, labs, price: np.ndarray, platform: Platform) -> np.ndarray:
        """$/M tokens of the model each product runs on (NaN: unknown): a lab's assistant its lab's serving cost,
        the platforms and apps the price of what they chose (weighted as their quality); Meta AI's is its source's
        (set by the sourcing rule). ``platform``: :meth:`platform_choices` this month."""
        cost = np.full(len(self.cat.PRODUCTS), np.nan)
        for lab in labs:
            if lab.key in self.cat.PRODUCT:
                cost[self.cat.PRODUCT[lab.key]] = lab.cost
        if platform.giants_on.size:
            cost[self.platforms] = weighted_mean(price[platform.giants_on], platform.giant_weights,
                                                 platform.giant_total)
        if platform.firms_total > 0:
            cost[self.apps] = weighted_mean(price, platform.firms, platform.firms_total)
        return cost

    def platform_choices(self, users_seg: np.ndarray) -> Platform:
        """What the platform segment runs on: the options of the named giants that have adopted and their MAU, and
        the other platform firms by option (the giants, weight 1 each, taken out)."""
        gch = self.devs.choice[self.giant_rows]
        on = gch >= 0
        firms = np.maximum(users_seg[1:, PLATFORM] - np.bincount(gch[on], minlength=self.cat.K), 0.0)
        mau = self.devs.mau[self.giant_rows][on]
        weights = mau.astype(np.float64)
        return Platform(gch[on], mau, weights, weights.sum(), firms, firms.sum())

    def qualities(self, labs, quality: np.ndarray, platform: Platform, reach: np.ndarray, sourcing=None):
        """Each product's model quality (NaN: none yet) and reach. The named giants ("platforms") and the rest of the
        platform segment ("apps") run on what they chose. Customisation (``sourcing``: ``consumer.sourcing``) adds
        kappa_c to every product whose owner holds the weights — each lab's assistant on its own model, apps on open
        weights — and psi_c kappa_c to apps on an API (Meta AI's is its source's). ``platform``:
        :meth:`platform_choices` this month."""
        kappa = sourcing.customisation if sourcing is not None else 0.0
        q = np.full(len(self.cat.PRODUCTS), np.nan)
        for lab in labs:
            if lab.key in self.cat.PRODUCT:  # a lab with an assistant of its own
                q[self.cat.PRODUCT[lab.key]] = lab.quality + kappa if lab.enabled else np.nan
        quality = np.where(np.isnan(quality), 0.0, quality)
        if kappa:
            quality = quality + np.where(self.cat.IS_OPEN, kappa, sourcing.api_customisation_share * kappa)
        reach[self.platforms] = float(platform.giant_mau.sum())
        if platform.giants_on.size:
            q[self.platforms] = weighted_mean(quality[platform.giants_on], platform.giant_weights, platform.giant_total)
        if platform.firms_total > 0:
            q[self.apps] = weighted_mean(quality, platform.firms, platform.firms_total)
        reach[self.apps] = self.apps_reach * platform.firms_total / max(self.apps_firms, 1.0)
        return q, reach
