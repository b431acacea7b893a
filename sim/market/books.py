"""The books (docs/model.md, "Ledgers" and "Outputs"): the month's sales, every provider's ledger, and the record.

Counts come from the developers' tally; each provider books the same :class:`sim.market.providers.Sales` (Meta's
ledger through :mod:`sim.channels`, one formula per channel under every strategy); the record is one flat row of
stable column names per month, which the runner turns into the tidy tables.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from sim import channels, consumer
from sim.choice import add_utilities, nested_logsum
from sim.market.consumers import weighted_mean
from sim.market.providers import Sales
from sim.population import SEGMENT_CODE

REGULATED = SEGMENT_CODE["regulated"]
_META_COLUMNS = tuple(f"meta.{line}" for line in channels.CHANNEL_NAMES)
PER_OPTION = ("users", "share_users", "share_tokens", "tokens", "price", "quality")  # the per-option quantities


class Columns:
    """The record's column names that depend on the scenario's catalogue (per option and per consumer product)."""

    def __init__(self, cat):
        self.options = {name: tuple(f"{name}.{o}" for o in cat.OPTIONS) for name in PER_OPTION}  # by quantity
        self.consumer = tuple(f"consumer_share.{name}" for name in cat.PRODUCTS)  # shares of use
        self.consumer_users = tuple(f"consumer_user_share.{name}" for name in cat.PRODUCTS)  # shares of users
        self.agentic = ("agentic_token_share", *(f"share_tokens_agentic.{o}" for o in cat.OPTIONS))


class Shares:
    """Last month's shares of adopters, by option and by family, and Llama's and all open weights' (what providers
    and the network term read)."""

    def __init__(self, cat):
        self.cat = cat
        self.users, self.family = np.zeros(cat.K), np.zeros(len(cat.FAMILIES))
        self.llama = self.open = 0.0

    def update(self, users: np.ndarray, adopters: float) -> np.ndarray:
        """This month's shares from real firms by option; returns the share of adopters by option."""
        cat = self.cat
        share_users = users / adopters if adopters else np.zeros(cat.K)
        fam_users = np.bincount(cat.FAMILY_OF, weights=users, minlength=len(cat.FAMILIES))
        self.users = share_users
        self.family = fam_users / adopters if adopters else np.zeros(len(cat.FAMILIES))
        self.llama = float(share_users[cat.IS_LLAMA].sum())
        self.open = float(share_users[cat.IS_OPEN].sum())
        return share_users


def private_tokens(devs, labs, table, users: np.ndarray, cfg, usage: float, tokens_per_base: np.ndarray):
    """M tokens each lab sells on its private tier: those of its developers for whom the leak penalty beats the
    tier's premium (by option; zero elsewhere)."""
    private = np.zeros(table.k)
    cap = table.private_cap
    for lab in labs:
        if np.isfinite(cap[lab.option]) and users[lab.option + 1]:
            on = devs.choice == lab.option
            leak = cfg.choice.beta_leak * devs.sensitivity[on]
            private[lab.option] = float(devs.volume[on][leak > cap[lab.option]].sum()) * usage \
                * tokens_per_base[lab.option]
    return private


def lab_ledger_columns(labs) -> dict:
    """Each closed lab's ledger lines (API and consumer revenue, serving and training cost) and gross margin."""
    out = {}
    for lab in labs:
        for line, value in lab.ledger.items():
            out[f"{line}.{lab.key}"] = float(value)
        api = lab.ledger["api_revenue"] + lab.ledger["meta_contract"]
        out[f"gross_margin.{lab.key}"] = (api + lab.ledger["serving_cost"]) / api if api > 0 else np.nan
    return out


class Month(NamedTuple):
    """What the record's sections read of the month being settled."""

    t: int
    sales: Sales
    users: np.ndarray  # real firms by option + 1 (0: not adopted)
    share_users: np.ndarray
    share_tokens: np.ndarray
    adopters: float


def head(market, m: Month) -> dict:
    """The month, Meta's strategy in force and adoption."""
    return {"month": m.t, "strategy_now": market.meta.strategy.name,
            "adopted_frac": 1.0 - m.users[0] / market.developers.total, "users.none": float(m.users[0])}


def per_option(name: str):
    """The section of one per-option quantity (``name``, of :data:`PER_OPTION`): users, shares of users and tokens,
    tokens, or price and quality (NaN where not offered)."""
    def section(market, m: Month) -> dict:
        if name in ("price", "quality"):
            values = getattr(market.offer, name) * np.where(market.offer.available, 1.0, np.nan)
        else:
            values = {"users": m.users[1:], "share_users": m.share_users, "share_tokens": m.share_tokens,
                      "tokens": m.sales.tokens}[name]
        return dict(zip(market.columns.options[name], np.asarray(values, dtype=np.float64).tolist(), strict=True))
    return section


def regulated(market, m: Month) -> dict:
    """Llama's share of the regulated segment's adopters."""
    users = m.sales.users_seg[1:, REGULATED]
    total = users.sum()
    return {"llama_share_regulated": float(users[market.catalog.IS_LLAMA].sum() / total) if total else 0.0}


def money(key: str):
    """The section of one provider's revenue and profit."""
    revenue, profit = f"revenue.{key}", f"profit.{key}"

    def section(market, m: Month) -> dict:
        provider = market.providers[key]
        return {revenue: float(provider.revenue), profit: provider.profit}
    return section


def flywheels(market, m: Month) -> dict:
    """The labs' and Meta's flywheel gains and the data the labs captured."""
    row: dict = {}
    for lab in (*market.labs, market.meta):
        row[f"flywheel_gain.{lab.key}"] = float(lab.flywheel_gain())
    for lab in market.labs:
        row[f"data_captured.{lab.key}"] = float(lab.data_captured)
    return row


def meta_lines(market, m: Month) -> dict:
    """Meta's ledger, one column per channel, and its reported AI P&L."""
    ledger = market.meta.ledger
    row = dict(zip(_META_COLUMNS, map(float, map(ledger.__getitem__, channels.CHANNEL_NAMES)), strict=True))
    row["meta_reported"] = float(sum(ledger[line] for line in channels.REPORTED))
    return row


def tasks(market, m: Month) -> dict:
    """Agentic work's share of tokens and each option's share of it."""
    return dict(zip(market.columns.agentic, task_shares(market.developers.agentic_tokens, m.sales.served,
                                                        market.catalog.K), strict=True))


def consumer_layer(market, m: Month) -> dict:
    """Consumer AI: each product's share of use and of users, the users, Meta AI's quality and source."""
    cons = m.sales.consumers
    row = dict(zip(market.columns.consumer, np.asarray(cons.use, dtype=np.float64).tolist(), strict=True))
    row.update(zip(market.columns.consumer_users, np.asarray(cons.shares, dtype=np.float64).tolist(), strict=True))
    row["consumer_users"] = cons.users
    row["meta_ai_quality"] = float(cons.quality[consumer.META_AI])
    row["meta_ai_source"] = cons.source
    return row


def market_indicators(market, m: Month) -> dict:
    """:func:`indicators` as a section of the record."""
    return indicators(market, m.sales, m.share_tokens, m.adopters)


def lab_ledgers(market, m: Month) -> dict:
    """:func:`lab_ledger_columns` as a section of the record."""
    return lab_ledger_columns(market.labs)


def sections(market) -> tuple:
    """The record's sections in column order: each per-option quantity, the regulated segment, each provider's
    money, the flywheels, Meta's ledger, the indicators, the tasks, the consumer layer, the labs' ledgers."""
    return (*map(per_option, PER_OPTION), regulated, *map(money, market.providers), flywheels, meta_lines,
            market_indicators, tasks, consumer_layer, lab_ledgers)


class Recorder:
    """The month's row: adoption, per-option users, shares, tokens, prices and qualities, providers' revenue and
    profit, Meta's ledger lines, the consumer layer, and the market's indicators.

    ``keep`` (None: every column) names the columns a run needs, as a sweep needs only those its metrics read: the
    first month's row is whole, which shows which section writes which column; later rows hold the month's head and
    the sections with a kept column (building the rest was a sixth of a small run's time)."""

    def __init__(self, market, keep: frozenset[str] | None = None):
        self.keep = keep
        self.sections = self.every = sections(market)

    def record(self, market, t: int, sales: Sales, users: np.ndarray, share_users: np.ndarray,
               adopters: float) -> dict:
        """The row of month ``t``."""
        share_tokens = sales.tokens / sales.served if sales.served > 0 else np.zeros(market.catalog.K)
        m = Month(t, sales, users, share_users, share_tokens, adopters)
        row = head(market, m)
        parts = [section(market, m) for section in self.sections]
        for part in parts:
            row.update(part)
        if self.keep is not None and self.sections is self.every:
            self.sections = tuple(s for s, part in zip(self.every, parts, strict=True)
                                  if not self.keep.isdisjoint(part))
        return row


def task_shares(agentic: np.ndarray | None, served: float, k: int) -> list[float]:
    """Agentic work's share of all tokens, then each option's share of agentic tokens (NaN with one task; general
    work's shares are the rest of ``share_tokens``)."""
    total = float(agentic.sum()) if agentic is not None else 0.0
    if agentic is None or total <= 0:
        return [0.0 if agentic is not None else np.nan] + [np.nan] * k
    return [total / served if served > 0 else np.nan, *(agentic / total).tolist()]


def indicators(market, sales: Sales, share_tokens: np.ndarray, adopters: float) -> dict:
    """Commoditization (1 - HHI of token shares by family), the best closed model's lead over the best open one,
    the average price paid, developer surplus, firms the licence blocks, the share of adopters who moved and the
    share of the firms the Bass hazard reached that stayed out."""
    offer, tokens, served, cat = market.offer, sales.tokens, sales.served, market.catalog
    open_now = (q for q, on in zip(offer.quality.tolist(), (offer.available & cat.IS_OPEN).tolist(), strict=True)
                if on)
    best_open = max(open_now, default=np.nan)
    best_closed = max((lab.quality for lab in market.labs if lab.enabled), default=0.0)
    fam_tokens = np.bincount(cat.FAMILY_OF, weights=share_tokens, minlength=len(cat.FAMILIES))
    return {
        "commoditization": float(1.0 - (fam_tokens**2).sum()) if served > 0 else 0.0,
        "quality_lead": float(best_closed - best_open) if np.isfinite(best_open) else np.nan,
        "avg_price_paid": float((offer.price * tokens).sum() / served) if served > 0 else np.nan,
        "dev_surplus": developer_surplus(market),
        "license_blocked": market.licence.llama_blocked_count(),
        "switch_rate": market.developers.switchers / adopters if adopters else 0.0,  # adopters who moved
        "entry_declined": (market.developers.declined / market.developers.reached  # reached firms who stayed out
                           if market.developers.reached else np.nan),
    }


def developer_surplus(market) -> float:
    """Mean expected maximum utility of a fixed sample of developers (spread over the strata, weighted), in $
    per firm-month: the logit log-sum monetized at the firm's reference bill (ln-sum x tokens x p_ref / alpha;
    exact for the linear cost, a first-order money metric otherwise; switching costs left out). NaN with no sample
    (``outputs.surplus_sample: 0``, which sweeps set when no metric needs it)."""
    d, idx, ch = market.devs, market.surplus_sample, market.cfg.choice
    if idx.size == 0:
        return float("nan")
    v = np.zeros((market.catalog.K, idx.size), dtype=np.float32)
    tokens = d.tokens[idx] * market.usage
    groups = d.segment[idx] if market.developers.group is None else market.developers.group[idx]
    add_utilities(v, market.offer.table, market.coefficients(), tokens, d.sensitivity[idx], d.capability[idx],
                  groups, None, market.licence.blocked[idx])
    ls = nested_logsum(v, ch.noise_scale, market.catalog.FAMILY_OF, ch.family_nesting)
    dollars = ls * tokens * ch.budget_per_mtok / ch.alpha_price
    ok = np.isfinite(dollars)
    return weighted_mean(dollars[ok], d.weight[idx][ok]) if ok.any() else float("nan")
