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


def open_community_gain(cfg, family_share: float, open_share: float) -> float:
    """Community gains of one open family: a share phi follows the family's own developers, the rest (tooling, serving
    kernels) lifts every open model with the whole open community (model-agnostic gains)."""
    phi = cfg.community.llama_share
    return phi * community_gain(cfg, family_share) + (1.0 - phi) * community_gain(cfg, open_share)


def jevons(cfg, price):
    """Tokens a firm uses per token of base demand at this price: (price / reference)^-epsilon (Jevons); elementwise
    for an array of prices."""
    x = np.maximum(np.asarray(price, dtype=np.float64) / cfg.choice.budget_per_mtok, 1e-12)
    eps = cfg.population.price_elasticity
    return np.ones_like(x) if eps == 0.0 else x ** (-eps)


_BOX_COX_FLOOR = float(np.float32(1e-12))


def _box_cox(x: float, lam: float) -> float:
    """:func:`sim.choice.box_cox` of one float64 (its floor and lambda are float32 numbers), without array overhead."""
    x = max(x, _BOX_COX_FLOOR)
    if lam == 0.0:
        return math.log(x)
    lam = float(np.float32(lam))
    return (x**lam - 1.0) / lam


def nash_price(cfg, cost: float, share: float, cap: float) -> float:
    """The logit-Nash price of a single-product firm with share s (Anderson, de Palma & Thisse 1992), under the
    Box-Cox cost term and Jevons demand: maximising (p - c) p^-eps s(p) gives p / (p - c) = eps + A x(p)^lambda with
    A = (alpha / mu)(1 - s)(1 - eps) and x = (p / p_ref)^(1 - eps). With lambda = 0 the Lerner index is the constant
    1 / (eps + A); with lambda = 1 and eps = 0 it is the textbook p = c + mu p_ref / (alpha (1 - s)). Solved by
    bisection on log p in (c, cap]; ``cap`` when the firm would price above it."""
    ch, eps = cfg.choice, cfg.population.price_elasticity
    a_term = ch.alpha_price / ch.noise_scale * max(1.0 - share, 1e-6) * (1.0 - eps)
    lam, ref = ch.cost_lambda, ch.budget_per_mtok
    cost = max(cost, 1e-12)
    if cap <= cost:
        return cap

    def excess(p: float) -> float:  # (p - c)(eps + A x^lambda) - p: negative below the optimum
        return (p - cost) * (eps + a_term * (p / ref) ** ((1.0 - eps) * lam)) - p

    if excess(cap) <= 0:
        return cap
    lo, hi = math.log(cost), math.log(cap)
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if excess(math.exp(mid)) < 0 else (lo, mid)
    return math.exp(hi)


def dated_prices(pricing, start: str) -> list[tuple[int, float]]:
    """A price schedule's (month, list price) points in date order."""
    return sorted(((month_index(start, p.date), p.price) for p in pricing.schedule), key=lambda x: x[0])


def scheduled_price(pricing, start: str, t: int, dated: list[tuple[int, float]] | None = None) -> float:
    """The latest dated list price, drifting by ``trend_per_year`` from that point (until the next point, and after the
    last one), times the multiplier. ``dated``: the schedule's :func:`dated_prices`, if the caller keeps them."""
    dated = dated_prices(pricing, start) if dated is None else dated
    last, price = dated[0]
    for month, listed in dated:
        if month <= t:
            last, price = month, listed
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
        self.recent_revenue: deque = deque(maxlen=12)  # last 12 months of revenue (margins fund quality)
        super().__init__(model, key, rng)
        self.released = True
        self.price = scheduled_price(self.params().price, model.cfg.start, 0)
        self.cost = 0.0
        self.priced = False  # best response: the first repricing jumps to the target
        self.ledger = {}

    def params(self):
        return getattr(self.model.cfg.providers, self.key)

    @property
    def enabled(self) -> bool:
        return self.params().enabled

    def target_quality(self, t: int) -> float:
        return frontier(self.model.cfg, t) + self.params().lead + self.funded_lead()

    def funded_lead(self) -> float:
        """Margins fund quality: the lead gains xi ln(trailing-year revenue / reference), so commoditization that
        cuts a lab's revenue reaches its next model (an argument of the documents; xi = 0 by default)."""
        p = self.params()
        xi = getattr(p, "margin_quality", 0.0)
        if not xi or len(self.recent_revenue) < 12:
            return 0.0
        yearly = max(sum(self.recent_revenue), 1.0)
        return xi * math.log(yearly / p.revenue_ref_per_year)

    def endogenous_quality(self) -> float:
        return self.flywheel_gain()

    def open_weights(self):
        """The lab's own open-weight model's parameters (None for a lab that cannot have one, i.e. Meta)."""
        return getattr(self.params(), "open_weights", None)

    def open_weights_live(self, t: int) -> bool:
        """Whether the lab offers an open-weight model of its own in month t."""
        ow = self.open_weights()
        return (ow is not None and ow.enabled and self.enabled
                and month_index(self.model.cfg.start, ow.date) <= t)

    def open_weights_quality(self) -> tuple[float, float]:
        """(quality, release quality) of the lab's open-weight model: its own, less ``trail_elo``. Free weights
        bring the lab no revenue; their users join its family (network term: mindshare) and can cost it API
        customers, both through the developers' choices."""
        trail = self.open_weights().trail_elo
        return self.quality - trail, self.release_quality - trail

    def training_cost(self) -> float:
        """Training per release, plus the open-weight model's while the lab offers one."""
        extra = self.open_weights().training_cost if self.open_weights_live(self.model.month) else 0.0
        return self.params().training_cost + extra

    def flywheel_gain(self) -> float:
        """Data flywheel: closed APIs learn from captured usage, kappa (1 - exp(-D / D0)), with D0 in months of the
        whole market's token volume, so the race stays live and tokens that go to open models slow it."""
        fw = self.params().flywheel
        return fw.strength * (1.0 - math.exp(-self.captured / (fw.d0_market_months * self.model.market_volume0)))

    def update_price(self, t: int, user_share: float) -> None:
        """``schedule``: the dated path. ``best_response``: every ``reprice_every`` months a move ``adjustment`` of the
        way towards the logit-Nash price of a single-product firm (:func:`nash_price`), s being last month's share
        of adopters. Undamped, that update cycles between two prices once s passes 1/2; damping keeps the fixed point
        and converges to it. ``cap`` bounds the price of a lab with no rival (s near 1)."""
        pricing = self.params().price
        cfg = self.model.cfg
        self.cost = serving_cost(cfg, t, self.release_quality) * self.params().serving_efficiency
        if pricing.mode == "schedule":
            self.price = scheduled_price(pricing, cfg.start, t, self.model.terms().price_schedule(self))
        elif not self.priced or t % pricing.reprice_every == 0:
            target = min(nash_price(cfg, self.cost, user_share, pricing.cap) * pricing.multiplier, pricing.cap)
            self.price = self.price + pricing.adjustment * (target - self.price) if self.priced else target
            self.priced = True

    def private_threshold(self) -> float:
        """Leak penalty above which a developer prefers the private tier (inf when there is none): the developer pays
        ``premium`` more to keep its data out of the flywheel, worth alpha (g(x (1 + premium)) - g(x)) in utility."""
        tier = getattr(self.params(), "private_tier", None)
        if tier is None or not tier.enabled:
            return math.inf
        c, eps = self.model.cfg.choice, self.model.cfg.population.price_elasticity
        x = max(self.price / c.budget_per_mtok, 1e-12)  # scalar forms of jevons() and box_cox(), value for value
        x = self.price * (x ** -eps if eps else 1.0) / c.budget_per_mtok
        return c.alpha_price * (_box_cox(x * (1.0 + tier.price_premium), c.cost_lambda) - _box_cox(x, c.cost_lambda))

    def book(self, t: int, tokens: float, private_tokens: float, consumer_revenue: float,
             contract: tuple[float, float] = (0.0, 0.0)) -> None:
        """API revenue (private tokens pay the premium), consumer-product revenue, a contract to serve Meta's products
        (price, M tokens; private, so no data), serving and training cost; captured data feeds the flywheel."""
        tier = getattr(self.params(), "private_tier", None)
        premium = tier.price_premium if tier is not None and tier.enabled else 0.0
        captured = tokens - private_tokens
        self.captured += captured
        self.data_captured = captured
        paid, served = contract
        self.ledger = {
            "api_revenue": self.price * (tokens + premium * private_tokens),
            "consumer_revenue": consumer_revenue,
            "meta_contract": paid,
            "serving_cost": -self.cost * (tokens + served),
            "training_cost": -self.training_charge(t),
        }
        self.recent_revenue.append(self.revenue)

    @property
    def revenue(self) -> float:
        return sum(self.ledger.get(k, 0.0) for k in ("api_revenue", "consumer_revenue", "meta_contract"))


class OpenRival(ModelMaker):
    """The other open-weight families (Mistral, DeepSeek, Qwen...) aggregated: frontier - gap + offset at a release,
    plus community gains; free weights, so no revenue of its own."""

    def __init__(self, model, rng):
        self.devs_share = 0.0
        self.open_share = 0.0
        super().__init__(model, "open_rival", rng)
        self.released = True

    def params(self):
        return self.model.cfg.providers.open_rival

    @property
    def enabled(self) -> bool:
        return self.params().enabled

    def target_quality(self, t: int) -> float:
        """frontier - gap + offset (the offset against Llama's is the Llama-rival gap), plus spillover: released
        Llama weights teach the other open families a share sigma of their lead (distillation, training on outputs)."""
        own = frontier(self.model.cfg, t) - open_gap(self.model.cfg, t) + self.params().offset
        llama = self.model.released_llama_quality()
        if llama is not None:
            own += self.params().spillover * max(llama - own, 0.0)
        return own

    def endogenous_quality(self) -> float:
        return self.model.cfg.community.strength * open_community_gain(self.model.cfg, self.devs_share,
                                                                        self.open_share)

    def book(self, t: int) -> None:
        self.ledger = {"training_cost": -self.training_charge(t)}


class CloudHost(Provider):
    """Azure, AWS, Together...: serves open weights at cost x (1 + margin) and pays Meta a revenue share on Llama."""

    def book(self, llama_tokens: float, llama_price: float, open_tokens: float, open_revenue: float) -> None:
        """Llama's tokens and price, and the other hosted open models' tokens and revenue (the open families and
        the labs' own open weights). Hosted prices are serving cost x (1 + margin) + the regulatory compliance
        charge, which the host passes on (a cost line) rather than keeps. Hosts above the MAU threshold need Meta's
        approval to serve Llama, which Meta sells for theta_h of their Llama revenue net of that charge; small hosts
        pay nothing; no clause, no fee."""
        cfg = self.model.cfg
        host = cfg.providers.cloud_host
        share = host.meta_revenue_share * host.large_host_share if cfg.license.enabled else 0.0
        extra, markup = self.model.open_extra_cost(), 1.0 + host.margin
        tokens = llama_tokens + open_tokens
        llama_net = (llama_price - extra) * llama_tokens if llama_tokens else 0.0
        self.ledger = {
            "hosting_revenue": llama_price * llama_tokens + open_revenue if tokens else 0.0,
            "serving_cost": -(llama_net + (open_revenue - extra * open_tokens if open_tokens else 0.0)) / markup,
            "compliance_cost": -extra * tokens,
            "meta_revenue_share": -share * llama_net,
        }
        self.meta_fee = share * llama_net

    @property
    def revenue(self) -> float:
        return self.ledger.get("hosting_revenue", 0.0)


class Meta(ClosedLab):
    """Meta under one of three strategies, possibly switching at a date (docs/model.md, "Meta"):

    * ``open``: Llama weights free under the 700M-MAU clause, hosted by clouds and self-hostable; community gains add
      to quality and cut serving cost ("commoditize your complement", Zuckerberg's open-source letter, 2024).
    * ``closed``: a credible Meta API priced by the labs' rule, with its own data flywheel.
    * ``absent``: no Meta model; Meta's products run on a bought or self-hosted model.

    Its value is booked by :mod:`sim.channels`, one formula per channel under every strategy.
    """

    def __init__(self, model, rng):
        self.devs_share = 0.0  # Llama's share of adopters (community)
        self.mindshare = 0.0  # Meta models' share of adopters (talent)
        self.open_share = 0.0
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
        extra = self.params().investment.extra_elo
        return frontier(self.model.cfg, t) - open_gap(self.model.cfg, t) + self._offset(t) + extra

    def training_cost(self) -> float:
        """Training per release, times cost_per_100_elo^(extra / 100) for the quality investment lever."""
        p = self.params()
        return p.training_cost * p.investment.cost_per_100_elo ** (p.investment.extra_elo / 100.0)

    def talent_gain(self) -> float:
        """Talent as quality: a base for doing frontier work at all, plus delta_T x Meta's developer mindshare, of
        which a closed API earns ``closed_factor`` (open work's premium, seed 002 and Meta's letters)."""
        tal = self.params().talent
        factor = 1.0 if self.model.strategy == "open" else tal.closed_factor
        return tal.base_elo + tal.per_mindshare * self.mindshare * factor

    def endogenous_quality(self) -> float:
        gain = self.talent_gain()
        if self.model.strategy == "open":
            return gain + self.model.cfg.community.strength * open_community_gain(self.model.cfg, self.devs_share,
                                                                                   self.open_share)
        return gain + self.flywheel_gain()  # closed: a flywheel like any closed API

    def community_cost_cut(self) -> float:
        """Community efficiency work (quantization, kernels, distillation) cuts the cost of running open weights,
        scaled by the same phi-weighted community size as the quality gains (zero with no open developers)."""
        c = self.model.cfg.community
        if self.devs_share <= 0.0:
            return 0.0
        return min(c.cost_cut * open_community_gain(self.model.cfg, self.devs_share, self.open_share), c.cost_cut_max)

    def private_threshold(self) -> float:
        """A Meta API has no private tier (its parameters have none): inf, without asking pydantic for a missing
        field every month, which costs an exception."""
        return math.inf

    def unit_cost(self, t: int) -> float:
        """$/M tokens to run the current Meta model before community savings."""
        return serving_cost(self.model.cfg, t, self.release_quality) * self.params().serving_efficiency

    @property
    def revenue(self) -> float:
        return sum(v for k, v in self.ledger.items() if k in REVENUE_LINES)


REVENUE_LINES = ("api_revenue", "host_fee", "support_revenue", "consumer_revenue")
