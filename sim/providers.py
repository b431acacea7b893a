"""Providers as mesa Agents (docs/model.md): quality, prices, costs and monthly ledgers.

Each provider reads its parameters from the model's live scenario every month, so dated events (a GPT-5-class leap,
a price cut, a licence change) take effect the month they are dated. Ledger values are dollars per month for the whole
market the population stands for (a simulated firm weighs ``represents / n`` real firms); costs are negative lines.
"""

from __future__ import annotations

import math
from collections import deque

import mesa
import numpy as np

from sim.config import month_index

# ---- market-wide curves (pure functions of the scenario and the month) ----------------------------------------------


def frontier(cfg, t: int) -> float:
    """Best achievable quality (Elo): rises linearly, ``frontier_growth`` Elo per month."""
    return cfg.market.frontier_start_elo + cfg.market.frontier_growth * t


def open_gap(cfg, t: int) -> float:
    """Open-model gap behind the frontier (Elo), linear between the scenario's dated points (Arena history)."""
    pts = cfg.market.open_gap
    months = [month_index(cfg.start, p.date) for p in pts]
    return float(np.interp(t, months, [p.elo for p in pts]))


def serving_cost(cfg, t: int, quality: float) -> float:
    """$/M tokens to serve a model of ``quality`` at month ``t``: falls ``cost_decline_per_year`` x a year at constant
    capability (a16z "LLMflation") and rises ``cost_per_100_elo`` x per 100 Elo above the starting frontier."""
    m = cfg.market
    return (m.serving_cost_ref * m.cost_decline_per_year ** (-t / 12.0)
            * m.cost_per_100_elo ** ((quality - m.frontier_start_elo) / 100.0))


def community_gain(cfg, devs_share: float) -> float:
    """ln(1 + devs / n0): fine-tunes, tooling and efficiency work grow with the open model's developer base."""
    return math.log1p(devs_share / cfg.community.n0_share)


def scheduled_price(pricing, start: str, t: int) -> float:
    """The latest dated list price, drifting by ``trend_per_year`` from that point (until the next point, and after the
    last one), times the multiplier."""
    months = [month_index(start, p.date) for p in pricing.schedule]
    order = np.argsort(months, kind="stable")
    price, last = pricing.schedule[order[0]].price, months[order[0]]
    for i in order:
        if months[i] <= t:
            price, last = pricing.schedule[i].price, months[i]
    return price * pricing.trend_per_year ** (max(t - last, 0) / 12.0) * pricing.multiplier


# ---- agents -------------------------------------------------------------------------------------------------------


class Provider(mesa.Agent):
    """A company in the market with a monthly ledger (signed dollar lines; profit is their sum)."""

    key: str = ""

    def __init__(self, model, key: str):
        super().__init__(model)
        self.key = key
        self.ledger: dict[str, float] = {}

    @property
    def profit(self) -> float:
        return float(sum(self.ledger.values()))


class ModelMaker(Provider):
    """Trains models and releases them on a cadence; at a release its quality jumps to a target set by the frontier."""

    def __init__(self, model, key: str, rng: np.random.Generator):
        super().__init__(model, key)
        self.schedule_rng = rng  # this provider's own stream: release jitter stays paired across Meta's strategies
        self.release_quality = self.target_quality(0)
        self.released = False  # whether a model exists (closed labs and rivals have one at the start)
        self.quality = self.release_quality
        self.next_release = self.first_release()
        self.charges: deque = deque()  # (month, cost) of releases still being amortized
        self.releases_so_far = 0

    # -- to be specialised
    def params(self):
        raise NotImplementedError

    def target_quality(self, t: int) -> float:
        raise NotImplementedError

    def endogenous_quality(self) -> float:
        return 0.0

    def training_cost(self) -> float:
        return self.params().training_cost

    def first_release(self) -> int | None:
        p = self.params()
        first = month_index(self.model.cfg.start, p.first_release)
        if first < 0:
            first += p.cadence_months * math.ceil(-first / p.cadence_months)
        return first

    def following_release(self, t: int) -> int | None:
        p = self.params()
        jitter = int(self.schedule_rng.integers(-p.jitter_months, p.jitter_months + 1)) if p.jitter_months else 0
        return t + max(1, p.cadence_months + jitter)

    # -- monthly update
    def release_if_due(self, t: int) -> bool:
        if self.next_release is None or t < self.next_release:
            return False
        self.release_quality = self.target_quality(t)
        self.released = True
        self.releases_so_far += 1
        self.charges.append((t, self.training_cost()))
        self.next_release = self.following_release(t)
        return True

    def update_quality(self, t: int) -> bool:
        """Release if due, then quality = release quality + event bonus + endogenous gains; True on a release."""
        released = self.release_if_due(t)
        self.quality = self.release_quality + self.params().quality_bonus + self.endogenous_quality()
        return released

    def training_charge(self, t: int) -> float:
        """This month's share of release training costs, each spread over ``amortization_months``."""
        months = self.model.cfg.market.amortization_months
        while self.charges and self.charges[0][0] <= t - months:
            self.charges.popleft()
        return sum(cost for _, cost in self.charges) / months


class ClosedLab(ModelMaker):
    """OpenAI, Anthropic, Google: a paid API. Quality = frontier + lead at each release, plus a data flywheel;
    price from a schedule or the logit-Nash best response."""

    option: int = -1

    def __init__(self, model, key: str, option: int, rng):
        self.option = option
        self.captured = 0.0  # cumulative M tokens served outside private tiers (the flywheel's data)
        super().__init__(model, key, rng)
        self.released = True
        self.price = scheduled_price(self.params().price, model.cfg.start, 0)
        self.cost = 0.0

    def params(self):
        return getattr(self.model.cfg.providers, self.key)

    @property
    def enabled(self) -> bool:
        return self.params().enabled

    def target_quality(self, t: int) -> float:
        return frontier(self.model.cfg, t) + self.params().lead

    def endogenous_quality(self) -> float:
        """Data flywheel: closed APIs learn from captured usage, kappa (1 - exp(-D / D0)) (docs/model.md)."""
        fw = self.params().flywheel
        return fw.strength * (1.0 - math.exp(-self.captured / fw.d0))

    def update_price(self, t: int, user_share: float) -> None:
        """``schedule``: the dated path. ``best_response``: every ``reprice_every`` months a move ``adjustment`` of the
        way towards the logit-Nash price of a single-product firm, p = c + mu / (a (1 - s)) with a = alpha / budget
        per M tokens (Anderson, de Palma & Thisse 1992), s being last month's share of adopters. Undamped, that
        update cycles between two prices once s passes 1/2; damping keeps the fixed point and converges to it.
        ``cap`` bounds the price of a lab with no rival (s near 1)."""
        pricing = self.params().price
        cfg = self.model.cfg
        self.cost = serving_cost(cfg, t, self.release_quality) * self.params().serving_efficiency
        if pricing.mode == "schedule" or t == 0:
            self.price = scheduled_price(pricing, cfg.start, t)
        elif t % pricing.reprice_every == 0:
            a = cfg.choice.alpha_price / cfg.choice.budget_per_mtok / cfg.choice.noise_scale
            target = min((self.cost + 1.0 / (a * max(1.0 - user_share, 1e-6))) * pricing.multiplier, pricing.cap)
            self.price += pricing.adjustment * (target - self.price)

    def private_threshold(self) -> float:
        """Leak penalty above which a developer prefers the private tier (inf when there is none): the developer pays
        ``premium`` more to keep its data out of the flywheel."""
        tier = getattr(self.params(), "private_tier", None)
        if tier is None or not tier.enabled:
            return math.inf
        c = self.model.cfg.choice
        return c.alpha_price / c.budget_per_mtok * self.price * tier.price_premium

    def book(self, t: int, tokens: float, private_tokens: float, consumer_share: float) -> None:
        """API revenue (private tokens pay the premium), serving and training cost; data captured feeds the flywheel."""
        tier = getattr(self.params(), "private_tier", None)
        premium = tier.price_premium if tier is not None and tier.enabled else 0.0
        captured = tokens - private_tokens
        self.captured += captured
        consumer = 0.0
        if self.model.cfg.market.ai_is_the_product:
            consumer = self.params().consumer_revenue_per_year / 12.0 * consumer_share
        self.data_captured = captured
        self.ledger = {
            "api_revenue": self.price * (tokens + premium * private_tokens),
            "consumer_revenue": consumer,
            "serving_cost": -self.cost * tokens,
            "training_cost": -self.training_charge(t),
        }

    @property
    def revenue(self) -> float:
        return self.ledger.get("api_revenue", 0.0) + self.ledger.get("consumer_revenue", 0.0)


class OpenRival(ModelMaker):
    """The other open-weight families (Mistral, DeepSeek, Qwen...) aggregated: frontier - gap + offset at a release,
    plus community gains; free weights, so no revenue of its own."""

    def __init__(self, model, rng):
        self.devs_share = 0.0
        super().__init__(model, "open_rival", rng)
        self.released = True

    def params(self):
        return self.model.cfg.providers.open_rival

    @property
    def enabled(self) -> bool:
        return self.params().enabled

    def target_quality(self, t: int) -> float:
        return frontier(self.model.cfg, t) - open_gap(self.model.cfg, t) + self.params().offset

    def endogenous_quality(self) -> float:
        return self.model.cfg.community.strength * community_gain(self.model.cfg, self.devs_share)

    def book(self, t: int) -> None:
        self.ledger = {"training_cost": -self.training_charge(t)}


class CloudHost(Provider):
    """Azure, AWS, Together...: serves open weights at cost x (1 + margin) and pays Meta a revenue share on Llama."""

    def book(self, llama_tokens: float, llama_price: float, open_tokens: float, open_price: float) -> None:
        """Hosted prices are serving cost x (1 + margin) + the regulatory compliance charge, which the host passes on
        (a cost line) rather than keeps; Meta's share is of Llama revenue net of that charge."""
        cfg = self.model.cfg
        share = cfg.providers.cloud_host.meta_revenue_share if self.model.strategy == "open" else 0.0
        extra, markup = cfg.regulation.open_extra_cost, 1.0 + cfg.providers.cloud_host.margin
        tokens = llama_tokens + open_tokens
        llama_net = (llama_price - extra) * llama_tokens if llama_tokens else 0.0
        self.ledger = {
            "hosting_revenue": llama_price * llama_tokens + open_price * open_tokens if tokens else 0.0,
            "serving_cost": -(llama_net + ((open_price - extra) * open_tokens if open_tokens else 0.0)) / markup,
            "compliance_cost": -extra * tokens,
            "meta_revenue_share": -share * llama_net,
        }

    @property
    def revenue(self) -> float:
        return self.ledger.get("hosting_revenue", 0.0)


META_LINES = ("api_revenue", "host_revenue_share", "support_revenue", "talent_value", "avoided_api_spend",
              "community_savings", "attention", "serving_cost", "training_cost", "rd_cost")


class Meta(ClosedLab):
    """Meta under one of three strategies (docs/model.md):

    * ``open``: Llama weights free, the 700M-MAU clause, hosted by clouds and self-hostable; community gains add to
      quality and cut serving cost ("commoditize your complement", Zuckerberg's open-source letter, 2024).
    * ``closed``: a Meta API priced like a closed lab, with a data flywheel; no clause, community or host share.
    * ``absent``: no Meta model; only the attention term remains.
    """

    def __init__(self, model, rng):
        self.devs_share = 0.0
        self.release_months = [month_index(model.cfg.start, r.date) for r in model.cfg.meta.releases]
        super().__init__(model, "meta", option=3, rng=rng)
        self.released = False
        self.release_quality = self.target_quality(0)

    def params(self):
        return self.model.cfg.meta

    @property
    def enabled(self) -> bool:
        return self.model.strategy != "absent"

    def first_release(self) -> int | None:
        listed = sorted(self.release_months)
        return max(listed[0], 0) if listed else 0

    def following_release(self, t: int) -> int | None:
        later = sorted(m for m in self.release_months if m > t)
        return later[0] if later else t + self.params().cadence_after

    def _offset(self, t: int) -> float:
        """The offset of the release dated ``t`` (at month 0: the latest release dated at or before the start)."""
        dated = sorted((month_index(self.model.cfg.start, r.date), i) for i, r in enumerate(self.params().releases))
        here = [i for m, i in dated if m == t or (t == 0 and m < 0)]
        return self.params().releases[here[-1]].offset if here else self.params().offset_after

    def target_quality(self, t: int) -> float:
        return frontier(self.model.cfg, t) - open_gap(self.model.cfg, t) + self._offset(t)

    def endogenous_quality(self) -> float:
        if self.model.strategy == "open":
            return self.model.cfg.community.strength * community_gain(self.model.cfg, self.devs_share)
        return super().endogenous_quality()  # closed: a flywheel like any closed API

    def community_cost_cut(self) -> float:
        """Community efficiency work (quantization, kernels, distillation) cuts the cost of running Llama."""
        if self.model.strategy != "open":
            return 0.0
        c = self.model.cfg.community
        return min(c.cost_cut * community_gain(self.model.cfg, self.devs_share), c.cost_cut_max)

    def unit_cost(self, t: int) -> float:
        """$/M tokens to run the current Llama before community savings."""
        return serving_cost(self.model.cfg, t, self.release_quality) * self.params().serving_efficiency

    def book_meta(self, t: int, m) -> None:
        """Meta's monthly value lines; ``m`` is the model's month summary (shares, tokens, prices, qualities)."""
        cfg, led, strategy = self.model.cfg, self.params().ledger, self.model.strategy
        lines = dict.fromkeys(META_LINES, 0.0)
        has_model = strategy != "absent" and self.released
        own = led.own_tokens_per_month * self.model.usage
        unit = self.unit_cost(t)
        if has_model:
            cut = self.community_cost_cut()
            lines["serving_cost"] = -own * unit * (1.0 - cut)
            lines["community_savings"] = 0.0  # booked below for open, as the avoided part of the bill
            closed_prices = [lab.price for lab in self.model.labs if lab.enabled]
            lines["avoided_api_spend"] = own * min(closed_prices) if closed_prices else 0.0
            lines["training_cost"] = -self.training_charge(t)
            lines["rd_cost"] = -led.rd_cost_per_year / 12.0
            if strategy == "open":
                lines["community_savings"] = own * unit * cut
                lines["serving_cost"] = -own * unit  # the gross bill; savings shown as their own line
                lines["host_revenue_share"] = cfg.providers.cloud_host.meta_revenue_share * m.llama_host_revenue
                lines["support_revenue"] = led.support_revenue_per_dev * m.llama_business_firms
                lines["talent_value"] = led.talent_value_per_year / 12.0 * m.llama_mindshare
            else:
                lines["api_revenue"] = self.price * m.meta_api_tokens
                lines["serving_cost"] += -self.cost * m.meta_api_tokens
                self.captured += m.meta_api_tokens
        lines["attention"] = -self.ad_revenue(t) * self.leak_rate(m)
        self.ledger = lines

    def ad_revenue(self, t: int) -> float:
        led = self.params().ledger
        return led.ad_revenue_per_year / 12.0 * (1.0 + led.ad_growth_per_year) ** (t / 12.0)

    def leak_rate(self, m) -> float:
        """Attention protection (the complement argument): ad revenue leaks to AI products in proportion to the best
        closed model's Elo lead over the model Meta's products use, and to the closed share of consumer AI use."""
        led = self.params().ledger
        rate = led.leak_per_100_elo * max(m.best_closed_quality - m.meta_product_quality, 0.0) / 100.0
        rate *= m.closed_consumer_share
        if self.model.cfg.market.ai_is_the_product:
            rate *= led.ai_product_multiplier
        return min(rate, led.leak_max)

    @property
    def revenue(self) -> float:
        return sum(v for k, v in self.ledger.items() if k in ("api_revenue", "host_revenue_share", "support_revenue"))
