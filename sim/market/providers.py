"""Providers as mesa Agents (docs/model.md): quality, prices, costs and monthly ledgers.

Every provider acts twice a month, in one shape: ``step()`` (release, learn, price) reads the market as it stood
after last month (:class:`MarketView`, set by the model), and ``book(sales)`` books this month's :class:`Sales`.
Each reads its parameters from the live scenario every month, so dated events (a GPT-5-class leap, a price cut, a
licence change) take effect the month they are dated. Ledger values are dollars per month for the whole market the
population stands for (a simulated firm weighs ``represents / n`` real firms); costs are negative lines.
"""

from __future__ import annotations

import math
from collections import deque
from typing import NamedTuple

import mesa
import numpy as np

from sim.config import month_index
from sim.market.curves import (
    box_cox_scalar,
    fee_paying_share,
    frontier,
    nash_price,
    open_community_gain,
    open_extra_cost,
    open_gap,
    scheduled_price,
    serving_cost,
)
from sim.market.history import Listing, agentic_edge, measured_teacher, own_score, without_spillover
from sim.population import SEGMENT_CODE

BUSINESS = np.array([SEGMENT_CODE["enterprise"], SEGMENT_CODE["regulated"]])


class MarketView(NamedTuple):
    """What providers read of the market when they step: the month, Meta's strategy in force, last month's shares of
    adopters (by option and by family, Llama's and all open weights') and the scenario's fixed terms."""

    t: int
    user_share: np.ndarray
    family_share: np.ndarray
    llama_share: float
    open_share: float
    terms: object  # sim.market.terms.ScenarioTerms


class Consumers(NamedTuple):
    """The consumer layer's month (:mod:`sim.market.consumers`): shares of AI users and of AI use by product, people
    using AI, the quality each product runs on, what Meta's products cost to run, who sells Meta a model and the
    contract (price paid, M tokens served), each lab's consumer revenue, and the attention at risk."""

    shares: np.ndarray
    use: np.ndarray
    users: float
    quality: np.ndarray
    own_cost: float
    seller: str | None
    contract: tuple[float, float]
    revenue: dict
    at_risk: float
    source: str = "none"  # what Meta's products run on: own, api:<lab>, weights:<lab>, self:<maker>, none
    internal_gain: float = 0.0  # Q_int - Q_ref: what Meta's best internal model adds over the best open one (Elo)


class Sales(NamedTuple):
    """What the market settled this month, booked by every provider in one shape: M tokens and prices by option
    (``private``: tokens bought on a lab's private tier), real firms by (option + 1, segment), the consumer layer,
    and the licence fee hosts pay Meta."""

    t: int
    tokens: np.ndarray
    private: np.ndarray
    price: np.ndarray
    served: float
    users_seg: np.ndarray
    consumers: Consumers
    host_fee: float


class Provider(mesa.Agent):
    """A company in the market with a monthly ledger (signed dollar lines; profit is their sum)."""

    key: str = ""

    def __init__(self, model, key: str):
        super().__init__(model)
        self.key = key
        self.cfg = model.cfg  # the live scenario (events edit it in place)
        self.catalog = model.catalog  # the scenario's options and providers
        self.ledger: dict[str, float] = {}

    def step(self) -> None:
        """This month's releases, quality and price (nothing for a provider that only books)."""

    def book(self, sales: Sales) -> None:
        """Book this month's ledger from the market's sales (every provider, the same argument)."""
        raise NotImplementedError

    @property
    def revenue(self) -> float:
        """This month's revenue (none for a provider that sells nothing)."""
        return 0.0

    @property
    def profit(self) -> float:
        """This month's profit: the sum of the ledger's signed lines."""
        return float(sum(self.ledger.values()))


class ModelMaker(Provider):
    """Trains models and releases them on a cadence; at a release its quality jumps to a target set by the frontier."""

    def __init__(self, model, key: str, rng: np.random.Generator):
        super().__init__(model, key)
        enters = getattr(self.params(), "enters", None)  # only providers a scenario adds have an entry date
        self.enters = month_index(self.cfg.start, enters) if enters is not None else None
        self.listing = Listing(self.cfg.start, getattr(self.params(), "releases", []))  # dated releases (history)
        self._place_key = self._edge_key = None  # what place() and agentic_edge() last computed, and for when
        self._place = self._edge = 0.0
        self.arrive(0)
        self.schedule_rng = rng  # this provider's own stream: release jitter stays paired across Meta's strategies
        self.release_quality = self.target_quality(0)
        self.released = False  # whether a model exists (closed labs and rivals have one at the start)
        self.quality = self.release_quality
        self.next_release = self.first_release()
        self.charges: deque = deque()  # (month, cost) of releases still being amortized
        self.releases_so_far = 0

    # -- to be specialised
    def params(self):
        """This provider's parameters in the live scenario (``providers.<key>``)."""
        return getattr(self.cfg.providers, self.key)

    @property
    def enabled(self) -> bool:
        """Offered this month: enabled in the scenario, and entered (a provider a scenario adds may enter late)."""
        return self.params().enabled and self.entered

    def arrive(self, t: int) -> None:
        """Whether the provider has entered the market by month ``t``."""
        self.entered = self.enters is None or t >= self.enters

    def reference(self, t: int) -> float:
        """The quality a release in month ``t`` is measured against (a lab: the frontier; open: frontier - gap)."""
        raise NotImplementedError

    def shift(self, t: int) -> float:
        """What a release off the list adds to the reference and the place (a lab's lead, a family's offset)."""
        return 0.0

    def measured(self, t: int, elo: float) -> float:
        """A listed score as the release's own quality (a lab's as measured; an open model's net of the model's
        endogenous terms, :mod:`sim.market.history`)."""
        return elo

    def spillover_rate(self) -> float:
        """sigma: the share of a better open model's lead this maker absorbs at a release (0: it learns nothing)."""
        return 0.0

    def released_weights(self, t: int) -> float | None:
        """Release quality of the open weights anyone can download from this maker now (None: none)."""
        return None

    def learn(self, own: float, t: int) -> float:
        """Spillover (design §15: from any released weights, not Llama's alone): a release absorbs sigma of the lead
        of the best open weights other makers have out (distillation, training on outputs)."""
        rate = self.spillover_rate()
        if not rate:
            return own
        out = [p.released_weights(t) for p in self.model.makers() if p is not self]
        teachers = [q for q in out if q is not None]
        return own + rate * max(max(teachers) - own, 0.0) if teachers else own

    def measured_open(self, t: int, elo: float) -> float:
        """An open maker's listed score as its release's own quality: net of its own terms (community, Meta's
        talent) and of the spillover from the other open weights history had out then."""
        cfg = self.cfg
        teacher = measured_teacher(cfg, self.model.terms().open_listings, t, self.key)
        return without_spillover(own_score(cfg, self.key, elo), teacher, self.spillover_rate())

    def agentic_edge(self, t: int) -> float:
        """How far its model rates above its Arena score on agentic work (:func:`sim.market.history.agentic_edge`);
        kept until a later release with both scores or an event."""
        latest = self.listing.with_agentic(t)
        key = (latest[0] if latest else None, self.model.edits)
        if self._edge_key != key:
            self._edge_key, self._edge = key, agentic_edge(self.listing, t, self.cfg.population.tasks)
        return self._edge

    def place(self, t: int) -> float:
        """Where the maker stood at its latest scored release (score - reference); 0 without listed scores. Kept
        until a later scored release or an event (the netting reads every maker's history)."""
        scored = self.listing.scored(t)
        if scored is None:
            return 0.0
        month, release = scored
        if self._place_key != (month, self.model.edits):
            self._place_key = (month, self.model.edits)
            self._place = self.measured(month, release.elo) - self.reference(month)
        return self._place

    def target_quality(self, t: int) -> float:
        """Quality of a release in month ``t``: a listed release's score (or the reference + its offset), otherwise
        the reference + the place the last scored release held + the maker's shift."""
        release = self.listing.at(t)
        if release is not None:
            return self.measured(t, release.elo) if release.elo is not None else self.reference(t) + release.offset
        return self.reference(t) + self.place(t) + self.shift(t)

    def endogenous_quality(self) -> float:
        """Quality gained between releases (flywheel, community, talent); none by default."""
        return 0.0

    def training_cost(self, t: int) -> float:
        """Cost of training a release in month ``t``."""
        return self.params().training_cost

    def first_release(self) -> int | None:
        """Month of the first release in the run (a date before the start rolls forward by whole cadences)."""
        if self.listing:
            return self.listing.first()
        p = self.params()
        first = month_index(self.cfg.start, p.first_release)
        if self.enters is not None:  # a provider a scenario adds releases nothing before it enters
            first = max(first, self.enters)
        if first < 0:
            first += p.cadence_months * math.ceil(-first / p.cadence_months)
        return first

    def following_release(self, t: int) -> int | None:
        """Month of the release after one in month ``t``: the next listed one, then the cadence, jittered on the
        provider's own stream."""
        listed = self.listing.next_after(t)
        if listed is not None:
            return listed
        p = self.params()
        jitter = int(self.schedule_rng.integers(-p.jitter_months, p.jitter_months + 1)) if p.jitter_months else 0
        return t + max(1, p.cadence_months + jitter)

    # -- monthly update
    def release_if_due(self, t: int) -> bool:
        """Release a model if one is due this month: quality jumps to the target, its training cost is charged."""
        if self.next_release is None or t < self.next_release:
            return False
        self.release_quality = self.target_quality(t) + self.leap(t)
        self.released = True
        self.releases_so_far += 1
        self.charges.append((t, self.training_cost(t)))
        self.next_release = self.following_release(t)
        return True

    def update_quality(self, t: int) -> bool:
        """Release if due, then quality = release quality + event bonus + endogenous gains; True on a release."""
        released = self.release_if_due(t)
        self.quality = self.release_quality + self.params().quality_bonus + self.endogenous_quality()
        return released

    def leap(self, t: int) -> float:
        """How far a release in month ``t`` lands from its target: normal with sd ``market.release_sd``, drawn from
        the provider's own stream (so leaps stay paired across Meta's strategies); none for a listed release."""
        sd = self.cfg.market.release_sd
        if sd == 0.0 or self.listed(t):
            return 0.0
        return sd * float(self.schedule_rng.standard_normal())

    def listed(self, t: int) -> bool:
        """Whether the release in month ``t`` is a dated one (its quality is listed, so it does not leap)."""
        return self.listing.at(t) is not None

    def training_charge(self, t: int) -> float:
        """This month's share of release training costs, each spread over ``amortization_months``."""
        months = self.cfg.market.amortization_months
        while self.charges and self.charges[0][0] <= t - months:
            self.charges.popleft()
        return sum(cost for _, cost in self.charges) / months


class ClosedLab(ModelMaker):
    """OpenAI, Anthropic, Google: a paid API. Quality = frontier + lead at each release, plus a data flywheel;
    price from a schedule or the logit-Nash best response."""

    option: int = -1

    def __init__(self, model, key: str, rng):
        self.option = model.catalog.API_OF[key]
        self.volume0 = model.market_volume0  # M tokens/month of the whole market at month 0 (the flywheel's scale)
        self.captured = 0.0  # cumulative M tokens served outside private tiers (the flywheel's data)
        self.recent_revenue: deque = deque(maxlen=12)  # last 12 months of revenue (margins fund quality)
        super().__init__(model, key, rng)
        self.released = True
        self.price = scheduled_price(self.params().price, self.cfg.start, 0)
        self.cost = 0.0
        self.priced = False  # best response: the first repricing jumps to the target
        self.ledger = {}

    def step(self) -> None:
        """Release if due, learn from its data, and price against last month's share of adopters."""
        view = self.model.view
        self.arrive(view.t)
        self.update_quality(view.t)
        self.update_price(view.t, view.user_share[self.option])

    def arrive(self, t: int) -> None:
        """A lab with a release history sells its API from its first listed release (Claude: 2023-03, PaLM 2:
        2023-05), besides any entry date a scenario gives it."""
        super().arrive(t)
        if self.listing:
            self.entered = self.entered and t >= self.listing.dated[0][0]

    def reference(self, t: int) -> float:
        """A lab's releases are measured against the frontier."""
        return frontier(self.cfg, t)

    def shift(self, t: int) -> float:
        """The lab's lead (and what its margins fund)."""
        return self.params().lead + self.funded_lead()

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
        """A closed lab learns from the usage data its API captures (the flywheel)."""
        return self.flywheel_gain()

    def open_weights(self):
        """The lab's own open-weight model's parameters (None for a lab that cannot have one, i.e. Meta)."""
        return getattr(self.params(), "open_weights", None)

    def open_weights_live(self, t: int) -> bool:
        """Whether the lab offers an open-weight model of its own in month t."""
        ow = self.open_weights()
        return ow is not None and ow.enabled and self.enabled and month_index(self.cfg.start, ow.date) <= t

    def open_weights_quality(self) -> tuple[float, float]:
        """(quality, release quality) of the lab's open-weight model: its own, less ``trail_elo``. Free weights
        bring the lab no revenue; their users join its family (network term: mindshare) and can cost it API
        customers, both through the developers' choices."""
        trail = self.open_weights().trail_elo
        return self.quality - trail, self.release_quality - trail

    def released_weights(self, t: int) -> float | None:
        """The release quality of the lab's own open weights while it offers them."""
        return self.open_weights_quality()[1] if self.open_weights_live(t) else None

    def training_cost(self, t: int) -> float:
        """Training per release, plus the open-weight model's while the lab offers one."""
        extra = self.open_weights().training_cost if self.open_weights_live(t) else 0.0
        return self.params().training_cost + extra

    def flywheel_gain(self) -> float:
        """Data flywheel: closed APIs learn from captured usage, kappa (1 - exp(-D / D0)), with D0 in months of the
        whole market's token volume, so the race stays live and tokens that go to open models slow it."""
        fw = self.params().flywheel
        return fw.strength * (1.0 - math.exp(-self.captured / (fw.d0_market_months * self.volume0)))

    def update_price(self, t: int, user_share: float) -> None:
        """``schedule``: the dated path. ``match``: the mean of the other closed labs' prices this month, times the
        multiplier. ``best_response``: every ``reprice_every`` months a move ``adjustment`` of the
        way towards the logit-Nash price of a single-product firm (:func:`nash_price`), s being last month's share
        of adopters. Undamped, that update cycles between two prices once s passes 1/2; damping keeps the fixed point
        and converges to it. ``cap`` bounds the price of a lab with no rival (s near 1)."""
        pricing = self.params().price
        cfg = self.cfg
        self.cost = serving_cost(cfg, t, self.release_quality) * self.params().serving_efficiency
        if pricing.mode == "schedule":
            self.price = scheduled_price(pricing, cfg.start, t, self.model.view.terms.price_schedule(self))
        elif pricing.mode == "match":  # the labs have stepped already this month
            prices = [lab.price for lab in self.model.labs if lab is not self and lab.enabled]
            self.price = (sum(prices) / len(prices) if prices else pricing.cap) * pricing.multiplier
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
        c, eps = self.cfg.choice, self.cfg.population.price_elasticity
        x = max(self.price / c.budget_per_mtok, 1e-12)  # scalar forms of jevons() and box_cox(), value for value
        x = self.price * (x ** -eps if eps else 1.0) / c.budget_per_mtok
        lam = c.cost_lambda
        return c.alpha_price * (box_cox_scalar(x * (1.0 + tier.price_premium), lam) - box_cox_scalar(x, lam))

    def book(self, sales: Sales) -> None:
        """API revenue (private tokens pay the premium), consumer-product revenue, a contract to serve Meta's products
        (price, M tokens; private, so no data), serving and training cost; captured data feeds the flywheel."""
        tier = getattr(self.params(), "private_tier", None)
        premium = tier.price_premium if tier is not None and tier.enabled else 0.0
        tokens, private_tokens = sales.tokens[self.option], sales.private[self.option]
        captured = tokens - private_tokens
        self.captured += captured
        self.data_captured = captured
        cons = sales.consumers
        paid, served = cons.contract if cons.seller == self.key else (0.0, 0.0)
        self.ledger = {
            "api_revenue": self.price * (tokens + premium * private_tokens),
            "consumer_revenue": cons.revenue.get(self.key, 0.0),
            "meta_contract": paid,
            "serving_cost": -self.cost * (tokens + served),
            "training_cost": -self.training_charge(sales.t),
        }
        self.recent_revenue.append(self.revenue)

    @property
    def revenue(self) -> float:
        """API, consumer-product and Meta-contract revenue this month."""
        return sum(self.ledger.get(k, 0.0) for k in ("api_revenue", "consumer_revenue", "meta_contract"))


class OpenRival(ModelMaker):
    """An open-weight family other than Llama (the US/EU families; a scenario may add others): frontier - gap + offset
    at a release, or its listed history, plus community gains and what it learns from the other open weights out;
    free weights, so no revenue of its own."""

    def __init__(self, model, rng, key: str = "open_rival"):
        self.devs_share = 0.0
        self.open_share = 0.0
        super().__init__(model, key, rng)
        self.released = True

    def step(self) -> None:
        """Release if due and gain from the family's (and the whole open) community."""
        view = self.model.view
        self.arrive(view.t)
        self.devs_share, self.open_share = view.family_share[self.catalog.FAMILY[self.key]], view.open_share
        self.update_quality(view.t)

    def reference(self, t: int) -> float:
        """Open releases are measured against frontier - open gap."""
        return frontier(self.cfg, t) - open_gap(self.cfg, t)

    def shift(self, t: int) -> float:
        """The family's offset (against Llama's, the Llama-rival gap)."""
        return self.params().offset

    def measured(self, t: int, elo: float) -> float:
        """A listed score net of the community gain at the measured shares and of the spillover from the open
        weights out then (the run adds back what its own open models, Llama's if any, teach)."""
        return self.measured_open(t, elo)

    def spillover_rate(self) -> float:
        """sigma (``spillover``): the share of a better open model's lead the family absorbs at a release."""
        return self.params().spillover

    def released_weights(self, t: int) -> float | None:
        """The family's weights are out while it is offered."""
        return self.release_quality + self.params().quality_bonus if self.enabled else None

    def target_quality(self, t: int) -> float:
        """The release's own quality plus spillover from the best other open weights out (Llama's, another
        family's, a lab's own)."""
        return self.learn(super().target_quality(t), t)

    def endogenous_quality(self) -> float:
        """Community gains: fine-tunes, tooling and efficiency work grow with the family's developers."""
        return self.cfg.community.strength * open_community_gain(self.cfg, self.devs_share, self.open_share)

    def book(self, sales: Sales) -> None:
        """Free weights earn nothing: only the amortized training of its releases."""
        self.ledger = {"training_cost": -self.training_charge(sales.t)}


class CloudHost(Provider):
    """Azure, AWS, Together...: serves open weights at cost x (1 + margin) and pays Meta a revenue share on Llama."""

    def book(self, sales: Sales) -> None:
        """Llama's tokens and price, and the other hosted open models' tokens and revenue (the open families and
        the labs' own open weights). Hosted prices are serving cost x (1 + margin) + the regulatory compliance
        charge, which the host passes on (a cost line) rather than keeps. The licence fee to Meta is
        :meth:`meta_fee`."""
        llama_tokens, llama_price, open_tokens, open_revenue = hosted_sales(sales, self.catalog)
        extra, markup = open_extra_cost(self.cfg), 1.0 + self.cfg.providers.cloud_host.margin
        tokens = llama_tokens + open_tokens
        llama_net = (llama_price - extra) * llama_tokens if llama_tokens else 0.0
        self.ledger = {
            "hosting_revenue": llama_price * llama_tokens + open_revenue if tokens else 0.0,
            "serving_cost": -(llama_net + (open_revenue - extra * open_tokens if open_tokens else 0.0)) / markup,
            "compliance_cost": -extra * tokens,
            "meta_revenue_share": -sales.host_fee,
        }

    def meta_fee(self, tokens: np.ndarray, price: np.ndarray) -> float:
        """Hosts above the MAU threshold need Meta's approval to serve Llama, which Meta sells for theta_h of their
        Llama revenue net of the compliance charge; hosts below it pay nothing (:func:`fee_paying_share`: the fee
        follows the threshold); no clause, no fee."""
        cfg, host = self.cfg, self.cfg.providers.cloud_host
        share = host.meta_revenue_share * fee_paying_share(cfg)
        llama_tokens, llama_price = tokens[self.catalog.LLAMA_HOSTED], price[self.catalog.LLAMA_HOSTED]
        llama_net = (llama_price - open_extra_cost(cfg)) * llama_tokens if llama_tokens else 0.0
        return share * llama_net

    @property
    def revenue(self) -> float:
        """What the clouds charge for the open weights they serve."""
        return self.ledger.get("hosting_revenue", 0.0)


def hosted_sales(sales: Sales, cat) -> tuple[float, float, float, float]:
    """Llama's hosted M tokens and price, and the other hosted open models' M tokens and revenue."""
    other, llama = cat.OTHER_HOSTED_OPEN, cat.LLAMA_HOSTED
    return (sales.tokens[llama], sales.price[llama], float(sales.tokens[other].sum()),
            float((sales.price[other] * sales.tokens[other]).sum()))
