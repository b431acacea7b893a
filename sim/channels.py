"""Meta's value channels (docs/model.md, "Meta's value channels"): one formula each, under every strategy.

A strategy simulator must not build its answer in: a channel that existed under one strategy only would decide the
answer by assumption. So each channel below is a pure function of a :class:`MetaMonth` (the month's inputs), and
Meta's strategy changes only those inputs: which model Meta's products run on and at what cost, whether a Meta API
sells tokens, whether released weights carry a licence fee or a misuse hazard. The ledger columns, their labels, the
two NPV lenses and the docs table are all read from :data:`CHANNELS`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple


class MetaMonth(NamedTuple):
    """Everything Meta's channels read in one month ($ per month unless stated); immutable, and a tuple because one
    is built every month of every run."""

    ad_revenue: float  # AR(t), Meta's advertising revenue
    attention_at_risk: float  # a(t), share of ad-relevant time AI products can take
    ad_yield: float  # m, Meta AI's ad yield relative to the feed
    meta_ai_share: float  # s, Meta AI's share of consumer AI users (its revenue follows users)
    meta_ai_use_share: float  # its share of consumer AI use (the attention it wins back follows use)
    consumer_users: float  # A(t), people using consumer AI
    revenue_per_user: float  # r, Meta AI's revenue per user-month
    engagement_lift: float  # zeta
    price_ratio: float  # p_ref / average price paid by developers (1 when nobody pays)
    own_products_cost: float  # cost of running Meta's own products on the model they use (make or buy)
    api_revenue: float  # Meta API price x tokens
    api_serving_cost: float  # serving those tokens
    host_fee: float  # licence fees from large hosts serving Llama
    support_revenue: float  # support and add-ons to business firms on Meta models
    misuse_hazard: float  # expected incidents per month of released weights and a served API
    liability: float  # L, cost of an incident
    training_cost: float  # amortized training of Meta's releases
    rd_cost: float  # f_R x R&D while Meta runs a model programme (f_abs of it without one)
    capex_cost: float  # f_K x capex while Meta runs a programme: cash when spent, or one year's depreciation
    capex_depreciation: float  # the same capex depreciated by vintage (the reported lens)
    terminal_value: float = 0.0  # the last year's channel values going on after the horizon (final month only)
    internal_value: float = 0.0  # chi: ad revenue share a year per 100 Elo of internal model over the reference
    internal_gain: float = 0.0  # Q_int - Q_ref (Elo)


@dataclass(frozen=True)
class ValueChannel:
    """One line of Meta's ledger: its column name, a label, whether an investor sees it in the reported AI P&L,
    the argument it models, its formula, and the lens it counts in (``both``; ``strategic`` only, as capex paid in
    cash and the terminal value; ``reported`` only, as capex depreciated by vintage)."""

    name: str
    label: str
    reported: bool
    argument: str
    value: Callable[[MetaMonth], float]
    lens: str = "both"
    spend: bool = False  # a spend line (left out of "before spend" and of the terminal value)


CHANNELS = (
    ValueChannel("attention", "Attention lost to AI products", False,
                 "AI assistants take ad-relevant time; Meta AI's ads win some back (complement argument)",
                 lambda m: -m.ad_revenue * m.attention_at_risk * (1.0 - m.ad_yield * m.meta_ai_use_share)),
    ValueChannel("engagement", "Engagement from cheaper AI content", False,
                 "cheaper models make AI content cheaper and lift engagement on Meta's apps",
                 lambda m: m.ad_revenue * m.engagement_lift * math.log(m.price_ratio)),
    ValueChannel("consumer_revenue", "Meta AI revenue", True,
                 "Meta AI earns a little directly (subscriptions, business messaging)",
                 lambda m: m.meta_ai_share * m.consumer_users * m.revenue_per_user),
    ValueChannel("own_products", "Running Meta's products", True,
                 "make or buy: Meta serves its own model, or buys an API / self-hosts an open model",
                 lambda m: -m.own_products_cost),
    ValueChannel("api_revenue", "API revenue", True,
                 "a Meta API sells tokens like the labs (forgone when the weights are free)",
                 lambda m: m.api_revenue),
    ValueChannel("api_serving", "API serving cost", True,
                 "serving the API's tokens",
                 lambda m: -m.api_serving_cost),
    ValueChannel("host_fee", "Licence fees from large hosts", True,
                 "hosts above the MAU threshold pay for Meta's approval to serve Llama",
                 lambda m: m.host_fee),
    ValueChannel("support_revenue", "Support and add-ons", True,
                 "business firms on a Meta model buy support (small; an assumption)",
                 lambda m: m.support_revenue),
    ValueChannel("internal_use", "Internal use of a better model", False,
                 "a better model inside Meta (integrity, ad creative, business agents) than the best open one; "
                 "own, open or bought (design §9 item 10)",
                 lambda m: m.ad_revenue * m.internal_value / 12.0 * m.internal_gain / 100.0),
    ValueChannel("misuse", "Misuse and liability", False,
                 "released weights cannot be recalled or monitored; closed APIs are misused too",
                 lambda m: -m.misuse_hazard * m.liability),
    ValueChannel("training_cost", "Training runs", True,
                 "H100-hours per release (Llama 3.1 405B: $60-90M); inside the capex when Meta trains on its own "
                 "clusters",
                 lambda m: -m.training_cost, spend=True),
    ValueChannel("rd_cost", "AI share of R&D", True,
                 "investors saw the R&D spend (seed 002); most of it serves ranking and Reels",
                 lambda m: -m.rd_cost, spend=True),
    ValueChannel("capex_cost", "AI share of capex", False,
                 "GPU capex: cash when spent in the strategic lens (or one year's depreciation)",
                 lambda m: -m.capex_cost, lens="strategic", spend=True),
    ValueChannel("capex_depreciation", "AI capex, depreciated", True,
                 "what an investor sees of the capex: each vintage depreciated over its life",
                 lambda m: -m.capex_depreciation, lens="reported", spend=True),
    ValueChannel("terminal_value", "Value after the horizon", False,
                 "the last year's channel values go on while the last vintages last (spend excluded)",
                 lambda m: m.terminal_value, lens="strategic"),
)
CHANNEL_NAMES = tuple(c.name for c in CHANNELS)
REPORTED = tuple(c.name for c in CHANNELS if c.reported)
STRATEGIC = tuple(c.name for c in CHANNELS if c.lens != "reported")  # what npv.meta sums
SPEND = tuple(c.name for c in CHANNELS if c.spend)
BENEFITS = tuple(c.name for c in CHANNELS if not c.spend and c.lens == "both")  # what the terminal value extends
LABELS = {c.name: c.label for c in CHANNELS}


def book(month: MetaMonth) -> dict[str, float]:
    """Meta's ledger for one month: every channel's value (costs negative)."""
    return {c.name: float(c.value(month)) for c in CHANNELS}


def strategic_total(ledger: dict[str, float]) -> float:
    """Meta's month in the strategic lens (``profit.meta``): every line but the reported-only ones."""
    return float(sum(ledger[name] for name in STRATEGIC))
