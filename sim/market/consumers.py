"""Consumers and make-or-buy (docs/model.md, "Consumer AI"): people's AI use split among products, and what Meta's
own products run on.

The split is the logit of :mod:`sim.consumer`; the quality of each product is that of the model it runs on: each
lab's assistant on its own, third-party apps on what the platform segment of the developers chose, Meta AI on Meta's
own model while Meta has one, otherwise on the better of a bought closed API (Nash-bargained price) and the best open
model Meta can self-host.
"""

from __future__ import annotations

import numpy as np

from sim import consumer
from sim.market.curves import ad_revenue, serving_cost
from sim.market.providers import Consumers
from sim.population import SEGMENT_CODE

PLATFORM = SEGMENT_CODE["platform"]


def weighted_mean(values: np.ndarray, weights: np.ndarray) -> float:
    """np.average's weighted mean in float64, without its argument checks (called every month)."""
    w = weights.astype(np.float64)
    return float(np.multiply(values, w).sum() / w.sum())


class ConsumerMarket:
    """The consumer layer's fixed facts about the developer population (the named giants' rows, the reach of the
    other platform apps), and each month's split of AI use."""

    def __init__(self, devs, giants: int, cat):
        n = devs.n
        self.devs, self.cat = devs, cat
        self.lab_products = tuple(k for k, owner in cat.PRODUCT_OWNER.items() if owner != "meta")  # labs' assistants
        self.platforms, self.apps = cat.PRODUCT["platforms"], cat.PRODUCT["apps"]
        self.giant_rows = np.arange(n - giants, n)
        apps = (devs.segment == PLATFORM)
        apps[n - giants:] = False
        self.apps_reach = float((devs.weight[apps].astype(np.float64) * devs.mau[apps]).sum())
        self.apps_firms = float(devs.weight[apps].astype(np.float64).sum())

    def month(self, t: int, cfg, terms, quality: np.ndarray, users_seg: np.ndarray, labs, meta, rivals) -> Consumers:
        """Split consumer AI use among products; decide what Meta's products run on (make or buy)."""
        c = cfg.consumer
        q, reach = self.qualities(labs, quality, users_seg, terms.reach.copy())
        launched = terms.launched(t)
        users = consumer.consumer_users(cfg, t)
        at_risk = terms.attention_at_risk(t)
        attention = ad_revenue(cfg, t) * at_risk * c.meta_ad_yield
        meta_revenue = users * c.meta_ai.revenue_per_user_month

        def shares_with(meta_quality: float) -> np.ndarray:
            q[consumer.META_AI] = meta_quality
            return terms.shares(q, reach, launched & np.isfinite(q))

        def worth(s: np.ndarray) -> float:
            """What Meta AI's shares are worth a month: the attention it wins back (by use) and its revenue (by
            users)."""
            if terms.uniform_use:
                return (attention + meta_revenue) * s[consumer.META_AI]
            return attention * terms.use_shares(s)[consumer.META_AI] + meta_revenue * s[consumer.META_AI]

        seller, contract = None, (0.0, 0.0)
        if meta.strategy.makes_own_products_model(meta.released):  # make: Meta runs its own model
            s = shares_with(meta.quality)
            own_tokens = c.tokens_per_user_month * s[consumer.META_AI] * users
            cost = own_tokens * meta.unit_cost(t) * (1.0 - meta.community_cost_cut())
        else:  # buy the best closed API at a negotiated price, or self-host the best open model
            s, cost, seller, contract, q[consumer.META_AI] = source_meta_products(cfg, t, labs, rivals, meta,
                                                                                 shares_with, worth, users)
        revenue = {k: s[self.cat.PRODUCT[k]] * users * getattr(c, k).revenue_per_user_month
                   for k in self.lab_products}
        return Consumers(s, terms.use_shares(s), users, q.copy(), cost, seller, contract, revenue, at_risk)

    def qualities(self, labs, quality: np.ndarray, users_seg: np.ndarray, reach: np.ndarray):
        """Each product's model quality (NaN: none yet) and reach. The named giants ("platforms") and the rest of the
        platform segment ("apps") run on what they chose."""
        q = np.full(len(self.cat.PRODUCTS), np.nan)
        for lab in labs:
            if lab.key in self.cat.PRODUCT:  # a lab with an assistant of its own
                q[self.cat.PRODUCT[lab.key]] = lab.quality if lab.enabled else np.nan
        quality = np.where(np.isnan(quality), 0.0, quality)
        gch = self.devs.choice[self.giant_rows]
        on = gch >= 0
        giant_mau = self.devs.mau[self.giant_rows][on]
        reach[self.platforms] = float(giant_mau.sum())
        if on.any():
            q[self.platforms] = weighted_mean(quality[gch[on]], giant_mau)
        firms = users_seg[1:, PLATFORM] - np.bincount(gch[on], minlength=self.cat.K)  # giants have weight 1
        firms = np.maximum(firms, 0.0)
        if firms.sum() > 0:
            q[self.apps] = weighted_mean(quality, firms)
        reach[self.apps] = self.apps_reach * firms.sum() / max(self.apps_firms, 1.0)
        return q, reach


def source_meta_products(cfg, t, labs, rivals, meta, shares_with, worth, users: float):
    """Make or buy when Meta has no model of its own: buy the best closed API at P = c_j T + theta_b S (S: Meta's
    surplus over self-hosting, shared by Nash bargaining), booked by the seller as a private contract, or self-host
    the best open model (the other families, a lab's own open weights, or Llama weights left behind), whichever is
    worth more. Returns (shares, cost, seller key or None, (price paid, M tokens), the quality Meta AI runs on)."""
    tau = cfg.consumer.tokens_per_user_month
    sellers = [lab for lab in labs if lab.enabled]
    opens = [lab.open_weights_quality() for lab in labs if lab.open_weights_live(t)]
    opens += [(rival.quality, rival.release_quality) for rival in rivals if rival.enabled]
    if meta.legacy is not None:
        opens.append(meta.legacy)
    self_unit = cfg.providers.selfhost.variable_cost_multiplier
    best_self = None
    if opens:
        q_open, q_rel = max(opens)
        s_self = shares_with(q_open)
        unit = serving_cost(cfg, t, q_rel) * self_unit
        tokens = tau * s_self[consumer.META_AI] * users
        best_self = (s_self, tokens * unit, worth(s_self) - tokens * unit, q_open)
    if sellers:
        lab = max(sellers, key=lambda x: x.quality)
        s_buy = shares_with(lab.quality)
        tokens = tau * s_buy[consumer.META_AI] * users
        at_cost = tokens * lab.cost
        surplus = worth(s_buy) - at_cost - (best_self[2] if best_self else 0.0)
        if best_self is None or surplus > 0:
            paid = at_cost + cfg.consumer.buy_surplus_share * max(surplus, 0.0)
            return s_buy, paid, lab.key, (paid, tokens), lab.quality
    if best_self is not None:
        return best_self[0], best_self[1], None, (0.0, 0.0), best_self[3]
    return shares_with(np.nan), 0.0, None, (0.0, 0.0), np.nan
