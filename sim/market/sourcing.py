"""What Meta's products run on: build, buy, license or self-host, one rule under every strategy (docs/model.md,
"What Meta's products run on"; design §9 item 3).

Every review (``consumer.sourcing.review_months``) Meta's products move to the source with the largest surplus W:

- its own model, while it runs a programme and has released one (absent simply lacks this source);
- a lab's API, served by the lab;
- a lab's weights licensed to run on Meta's servers (``licensed_weights``);
- the best open model Meta may self-host (another family's, a lab's own open weights, Llama weights left behind).

A source's value V is what Meta AI's shares on it are worth (attention won back, revenue), less the expected loss of a
cut-off; its floor F is its serving cost, and for a lab's source also the consumer revenue the lab's own assistant
loses against Meta's best source without it. W = V − F. A seller sells at P = F + θ_b (W − W₂), W₂ the best surplus
Meta has without that seller (competing sellers, Nash-in-Nash with the threat of replacement: Ho & Lee 2019): two
equal labs price at their floor, a single lab recovers the bilateral bargain, and a seller whose floor exceeds
Meta's value makes no deal. A change takes ``lag_months`` and costs ``switch_cost``; what Meta buys is cut off with
``cutoff_hazard_per_year`` (drawn every month for every lab, under every strategy, so paired runs stay paired), and
Meta then falls back at once to the best source it holds.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from sim import consumer
from sim.market.curves import serving_cost


class Source(NamedTuple):
    """One way to run Meta's products: its key (own, api:<lab>, weights:<lab>, self: the best open model, whichever it
    is this month), the quality Meta AI has on it (customisation included), the $/M tokens of serving it, the lab
    that sells it (None: Meta's own model or open weights), whether Meta's servers run it, its cut-off hazard a month,
    and a label for the record (self:<maker>)."""

    key: str
    quality: float
    unit_cost: float
    seller: object | None
    meta_serves: bool
    hazard: float
    label: str = ""


class Deal(NamedTuple):
    """A source as Meta values it this month: its shares, Meta's tokens on it, value V (net of the expected cut-off
    loss), floor F and surplus W = V − F."""

    source: Source
    shares: np.ndarray
    tokens: float
    value: float
    floor: float
    surplus: float


def candidates(cfg, t: int, labs, rivals, meta) -> list[Source]:
    """The sources on offer this month. Holding weights adds ``customisation`` (kappa_c); an API's buyer gets
    ``api_customisation_share`` of it."""
    sc = cfg.consumer.sourcing
    kappa, self_unit = sc.customisation, cfg.providers.selfhost.variable_cost_multiplier
    out = []
    if meta.strategy.makes_own_products_model(meta.released):
        out.append(Source("own", meta.quality + kappa, meta.unit_cost(t) * (1.0 - meta.community_cost_cut()), None,
                          True, 0.0))
    hazard = sc.cutoff_hazard_per_year / 12.0
    for lab in labs:
        if not lab.enabled:
            continue
        out.append(Source(f"api:{lab.key}", lab.quality + sc.api_customisation_share * kappa, lab.cost, lab, False,
                          hazard))
        if sc.licensed_weights:
            unit = serving_cost(cfg, t, lab.release_quality) * self_unit
            out.append(Source(f"weights:{lab.key}", lab.quality + kappa, unit, lab, True,
                              hazard * sc.licence_hazard_ratio))
    opens = [(lab.open_weights_quality(), lab.key) for lab in labs if lab.open_weights_live(t)]
    opens += [((r.quality, r.release_quality), r.key) for r in rivals
              if r.enabled and r.key not in sc.excluded_families]
    if meta.legacy is not None:
        opens.append((meta.legacy, "meta"))
    if opens:
        (q_open, q_release), key = max(opens, key=lambda o: o[0])
        out.append(Source("self", q_open + kappa, serving_cost(cfg, t, q_release) * self_unit, None, True, 0.0,
                          f"self:{key}"))
    return out


def appraise(cfg, sources: list[Source], shares_and_worth, users: float, products: dict) -> list[Deal]:
    """Each source's value, floor and surplus. ``shares_and_worth(qualities, costs)`` gives the consumer shares with
    Meta AI on each source (a row each) and what they are worth a month. A lab's floor adds the consumer revenue its
    assistant loses when Meta runs on this source rather than on its best source without the lab
    (r_j A (s_j[best without j] − s_j[here]))."""
    tau, lag = cfg.consumer.tokens_per_user_month, cfg.consumer.sourcing.lag_months
    shares, worth = shares_and_worth([src.quality for src in sources], [src.unit_cost for src in sources])
    tokens = (tau * shares[:, consumer.META_AI] * users).tolist()  # Meta's M tokens a month on each source
    values = np.asarray(worth).tolist()
    costs = [src.unit_cost * n for src, n in zip(sources, tokens, strict=True)]
    net = [v - c for v, c in zip(values, costs, strict=True)]  # value less serving cost
    held = max((w for src, w in zip(sources, net, strict=True) if src.seller is None), default=0.0)  # if cut off
    without: dict = {}  # each seller's best alternative for Meta, found once
    deals = []
    for i, src in enumerate(sources):
        value = values[i] - src.hazard * max(lag, 1) * max(net[i] - held, 0.0)  # expected months on the fallback
        floor = costs[i]
        if src.seller is not None:
            if src.seller.key not in without:
                without[src.seller.key] = best_without(src.seller, sources, net, shares)
            floor += lost_revenue(cfg, src.seller, shares[i], without[src.seller.key], users, products)
        deals.append(Deal(src, shares[i], tokens[i], value, floor, value - floor))
    return deals


def best_without(lab, sources: list[Source], net: list[float], shares: np.ndarray) -> np.ndarray | None:
    """Consumer shares on Meta's best source (by value less cost, ``net``) that ``lab`` does not sell (the first of
    equals); None if none."""
    top = None
    for i, src in enumerate(sources):
        if src.seller is not lab and (top is None or net[i] > net[top]):
            top = i
    return None if top is None else shares[top]


def lost_revenue(cfg, lab, shares: np.ndarray, without: np.ndarray | None, users: float, products: dict) -> float:
    """The consumer revenue lab ``lab``'s assistant loses a month when Meta runs on this source rather than on its
    best source without the lab (``without``: the shares there); 0 for a lab without an assistant (``products``:
    the catalogue's product index by key)."""
    product = products.get(lab.key)
    if product is None or without is None:
        return 0.0
    r = getattr(cfg.consumer, lab.key).revenue_per_user_month
    return max(r * users * (without[product] - shares[product]), 0.0)


def price(deal: Deal, deals: list[Deal], theta_b: float) -> float:
    """What Meta pays a month for a source: its floor, plus for a seller θ_b of its lead over the best surplus
    Meta has without that seller (none: 0)."""
    if deal.source.seller is None:
        return deal.floor
    runner_up = max((d.surplus for d in deals if d.source.seller is not deal.source.seller), default=0.0)
    return deal.floor + theta_b * max(deal.surplus - runner_up, 0.0)


def best(deals: list[Deal]) -> Deal | None:
    """The source with the largest surplus among those Meta can have: its own and open weights always, a seller's
    only at or above its floor (W ≥ 0)."""
    open_to_meta = [d for d in deals if d.source.seller is None or d.surplus >= 0.0]
    return max(open_to_meta, key=lambda d: d.surplus, default=None)


class Sourcing:
    """Meta's current source and a change under way (reviews, lag, switching cost, cut-offs)."""

    def __init__(self, rng: np.random.Generator, cat):
        self.rng, self.lab_keys, self.products = rng, list(cat.CLOSED_LABS), cat.PRODUCT
        self.current: str | None = None
        self.pending: tuple[str, int] | None = None  # (key, month it comes into force)

    def month(self, cfg, t: int, sources: list[Source], shares_and_worth, users: float):
        """This month's deal Meta runs on (None: nothing to run on), what it pays, and the switching cost charged.
        Losing the current source (cut off, or gone) falls back at once to the best source Meta holds and starts
        the move to the best one left; a review starts a move to a better source; a move takes ``lag_months``."""
        sc = cfg.consumer.sourcing
        draws = self.rng.random(len(self.lab_keys))  # one a lab every month, whatever Meta runs on: paired
        deals = appraise(cfg, sources, shares_and_worth, users, self.products)
        by_key = {d.source.key: d for d in deals}
        here, switched = by_key.get(self.current), 0.0
        seller = here.source.seller if here is not None else None
        cut = seller is not None and draws[self.lab_keys.index(seller.key)] < here.source.hazard
        if self.current is not None and (here is None or cut):
            here, switched = best([d for d in deals if d.source.seller is None]), sc.switch_cost
            left = best([d for d in deals if not cut or d.source.seller is not seller])
            self.pending = None
            if left is not None and (here is None or left.source.key != here.source.key):
                self.pending = (left.source.key, t + sc.lag_months)
        elif self.current is None and self.pending is None:  # the start, or nothing to run on and nothing coming
            here = best(deals)
        elif here is not None and t % sc.review_months == 0:
            chosen = best(deals)
            if chosen is not None and chosen.source.key not in (here.source.key, self.pending and self.pending[0]):
                self.pending = (chosen.source.key, t + sc.lag_months)
        if self.pending is not None and t >= self.pending[1]:
            arriving, self.pending = by_key.get(self.pending[0]), None
            if arriving is not None and (arriving.source.seller is None or arriving.surplus >= 0.0):
                here, switched = arriving, switched + sc.switch_cost * (self.current is not None)
        self.current = here.source.key if here is not None else None
        if here is None:
            return None, 0.0, switched
        return here, price(here, deals, cfg.consumer.buy_surplus_share), switched


def internal_gain(cfg, sources: list[Source]) -> float:
    """Q_int - Q_ref (design §9 item 10): Q_ref the best open model Meta may run (``self``), Q_int the best of its
    own model, that open model and Q_ref + psi (Q_bought - Q_ref) for a bought or licensed lab model; customisation
    left out (it is Meta AI's). 0 without an open model to measure against."""
    kappa, psi = cfg.consumer.sourcing.customisation, cfg.meta.internal.bought_share
    api_kappa = cfg.consumer.sourcing.api_customisation_share * kappa
    ref = next((s.quality - kappa for s in sources if s.key == "self"), None)
    if ref is None:
        return 0.0
    gains = [0.0]
    for s in sources:
        if s.key == "own":
            gains.append(s.quality - kappa - ref)
        elif s.seller is not None:
            raw = s.quality - (kappa if s.meta_serves else api_kappa)
            gains.append(psi * (raw - ref))
    return max(gains)
