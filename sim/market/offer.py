"""The offer: each month's options, with their quality, price and availability (docs/model.md, "Options").

Closed labs sell their APIs; Meta offers what its strategy offers (a closed API, or Llama weights hosted by the
clouds and self-hostable; weights left behind by a switch stay on offer); the other open families and the labs' own
open weights are served by the clouds. Hosted open weights cost serving cost x (1 + the host's margin), self-hosted
ones the variable cost; regulation adds a compliance charge or bans the options it covers.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from sim.choice import OptionTable
from sim.market.curves import (
    frontier,
    jevons,
    open_extra_cost,
    reference_cost_term,
    regulation_covers,
    serving_cost,
)


class Offer(NamedTuple):
    """This month's options: quality (NaN where none), list price, availability, tokens per base token at that
    price (Jevons), and the table the developers' choice rule reads."""

    quality: np.ndarray
    price: np.ndarray
    available: np.ndarray
    jevons: np.ndarray
    table: OptionTable


def covered(cfg, cat) -> np.ndarray:
    """Options the regulation covers (``regulation.applies_to``: open weights, closed APIs or all)."""
    opens, closed = regulation_covers(cfg)
    return np.where(cat.IS_OPEN, opens, closed)


def open_weight_prices(cfg, unit: float) -> tuple[float, float]:
    """$/M tokens of an open model whose flagship costs ``unit`` to serve, as users pay them across the family's sizes
    (``market.open_size_mix``): by a cloud host (cost x (1 + margin)) and self-hosted (cost x the self-host
    multiplier; the fixed cost is separate), both plus any regulatory compliance charge."""
    extra = open_extra_cost(cfg)
    if cfg.market.open_size_mix != 1.0:  # the tokens users buy are mostly from smaller sizes of the family
        unit = unit * cfg.market.open_size_mix
    return (unit * (1.0 + cfg.providers.cloud_host.margin) + extra,
            unit * cfg.providers.selfhost.variable_cost_multiplier + extra)


def build(cfg, cat, t: int, labs, meta, rivals, family_share: np.ndarray, terms) -> Offer:
    """The options of month ``t`` from the providers' state, and the choice table over them."""
    quality, price, available = np.full(cat.K, np.nan), np.zeros(cat.K), np.zeros(cat.K, dtype=bool)
    for lab in labs:
        quality[lab.option], price[lab.option], available[lab.option] = lab.quality, lab.price, lab.enabled
    offer_meta(cfg, cat, t, meta, quality, price, available, terms)
    for rival in rivals:  # the other open families, hosted and self-hosted
        routes = cat.family_routes(rival.key)
        quality[routes] = rival.quality
        price[routes[0]], price[routes[1]] = open_weight_prices(cfg, serving_cost(cfg, t, rival.release_quality))
        available[routes] = rival.enabled
    for lab in labs:  # a lab's own open-weight model, served by the clouds
        if lab.open_weights_live(t):
            j = cat.LAB_OPEN[lab.key]
            quality[j], released = lab.open_weights_quality()
            unit = serving_cost(cfg, t, released) * lab.params().serving_efficiency
            price[j], available[j] = open_weight_prices(cfg, unit)[0], True
    reg = cfg.regulation
    if regulation_covers(cfg)[1]:  # compliance on closed APIs (open weights pay it through open_weight_prices)
        price[~cat.IS_OPEN] += reg.extra_cost
    if reg.banned:
        available[covered(cfg, cat)] = False
    tokens_per_base = jevons(cfg, price)
    table = choice_table(cfg, cat, t, quality, price * tokens_per_base, available, (*labs, meta), family_share,
                         terms)
    if cfg.population.tasks.agentic_share > 0:
        edges = {m.key: m.agentic_edge(t) for m in (*labs, meta, *rivals)}
        table.trust = task_columns(cfg, t, table.trust, quality, np.array([edges.get(o.owner, 0.0)
                                                                           for o in cat.option_table]))
    return Offer(quality, price, available, tokens_per_base, table)


def offer_meta(cfg, cat, t: int, meta, quality: np.ndarray, price: np.ndarray, available: np.ndarray,
               terms) -> None:
    """What Meta's strategy puts on offer: its API while it sells one (beside open weights, at the hosts' price of
    the same weights x (1 + ``api_open_premium``)), Llama weights while it releases them (their serving cost cut by
    the community's efficiency work), or the weights a switch left behind."""
    strategy = meta.strategy
    api, llama = cat.META_API, cat.IS_LLAMA
    if meta.sells_api:
        quality[api], price[api], available[api] = meta.quality, meta.price, meta.released
    cut = meta.community_cost_cut()
    if strategy.releases_weights and meta.released:
        quality[llama] = meta.quality
        price[cat.LLAMA_HOSTED], price[cat.LLAMA_SELF] = open_weight_prices(cfg, meta.unit_cost(t) * (1.0 - cut))
        available[llama] = True
    elif meta.legacy is not None:
        quality[llama] = meta.legacy[0]
        unit = serving_cost(cfg, t, meta.legacy[1]) * cfg.meta.serving_efficiency * (1.0 - cut)
        price[cat.LLAMA_HOSTED], price[cat.LLAMA_SELF] = open_weight_prices(cfg, unit)
        available[llama] = True
    markup = terms.llama_fee_markup
    if markup != 1.0 and available[cat.LLAMA_HOSTED]:  # fee-paying hosts pass part of Meta's fee on
        price[cat.LLAMA_HOSTED] *= markup
    if meta.sells_api and not strategy.serves_api:  # the Llama API beside the weights: priced against their hosts
        meta.cost = meta.unit_cost(t) * (1.0 - cut) * cfg.market.open_size_mix  # the hosts' size mix, as their price
        meta.price = price[cat.LLAMA_HOSTED] * (1.0 + cfg.meta.api_open_premium)
        price[api] = meta.price


def task_columns(cfg, t: int, trust: np.ndarray, quality: np.ndarray, edge: np.ndarray) -> np.ndarray:
    """The distrust matrix widened to (segment, task) groups: agentic firms' columns less what agentic work adds to
    an option's utility, beta ((w - 1) (q_j - frontier) + w edge_j) / 100 with w the agentic quality weight and
    edge_j how far the option's maker rates above its Arena score on the agentic benchmark. Measured from the frontier
    so that an agentic firm's outside option keeps its place (design §15, "Two tasks")."""
    tasks, beta = cfg.population.tasks, cfg.choice.beta_quality
    w, top = tasks.agentic_quality_weight, frontier(cfg, t)
    q = np.where(np.isnan(quality), top, quality)
    extra = beta * ((w - 1.0) * (q - top) + w * edge) / 100.0
    return np.concatenate((trust, trust - extra[:, None]), axis=1, dtype=np.float32)


def outside(cfg, t: int, terms) -> float:
    """u0 this month: the scenario's outside option, raised by ``outside_tracks_frontier`` x the frontier's rise since
    the start (in utility) and by ``outside_tracks_cost`` x what the fall in the frontier's serving cost adds to an
    option through the cost term, so what a firm expects of an LLM keeps pace with the best model and its cost
    (Kalish 1985: adoption weighs value net of price against a reservation that moves). The cost path is the
    exogenous one (``market.serving_cost_ref`` x the yearly decline), never a provider's price, so a price cut
    still draws firms in."""
    ch = cfg.choice
    tracks, tracks_cost = ch.outside_tracks_frontier, ch.outside_tracks_cost
    u0 = terms.outside
    if not (tracks or tracks_cost):
        return u0
    start, top = cfg.market.frontier_start_elo, frontier(cfg, t)
    if tracks:
        u0 += tracks * ch.beta_quality * (top - start) / 100.0
    if tracks_cost:
        u0 += tracks_cost * ch.alpha_price * (terms.reference_cost_term_0 - reference_cost_term(cfg, t, top))
    return u0


def choice_table(cfg, cat, t, quality, paid, available, sellers, family_share, terms) -> OptionTable:
    """The developers' option table: the common utility (quality, network, brand), the price paid per base token,
    the fixed columns of the scenario's terms and the private-tier thresholds of the API sellers."""
    ch = cfg.choice
    network = ch.gamma_network * np.log1p(family_share[cat.FAMILY_OF] / ch.network_s0)
    base = ch.beta_quality * np.where(np.isnan(quality), 0.0, quality) / 100.0 + network + terms.brand
    private_cap = np.full(cat.K, np.inf)
    for seller in sellers:
        private_cap[seller.option] = seller.private_threshold()
    return OptionTable(base=base.astype(np.float32), price=paid.astype(np.float32),
                       fixed_cost=terms.fixed_cost, ownership=terms.ownership, leak=terms.leak,
                       private_cap=private_cap.astype(np.float32), available=available, outside=outside(cfg, t, terms),
                       is_meta=cat.IS_META, is_self=cat.IS_SELF, licence_bits=terms.licence_bits,
                       trust=terms.trust)
