"""The LLM market as a mesa Model: developers as numpy arrays, providers as Agents, one step per month.

Each month, in this order (docs/model.md):

1. dated events edit the live scenario;
2. providers release models, update quality (flywheel, community) and prices;
3. the Llama licence is checked at each release (firms above the MAU threshold need Meta's approval);
4. the option table is rebuilt from the providers;
5. non-adopters adopt with the Bass hazard p + q A/N (Bass 1969); a share of adopters re-chooses, and anyone whose
   option disappeared must; choosers pick by the logit rule in :mod:`sim.choice`;
6. shares and token volumes are counted (token use responds to price: Jevons), the consumer AI layer splits
   people's AI use among products, ledgers are booked (Meta's through :mod:`sim.channels`), one row is recorded.

Meta's strategy may switch at a date (``meta.switch``); weights already released stay usable afterwards.

All randomness comes from ``model.rng`` through children spawned in a fixed order (population, schedules, licence,
dynamics, read in one block per month: :mod:`sim.streams`), so two runs with the same seed and different Meta
strategies share the population, the release dates, the adoption and re-choice draws and the taste shocks: they are
paired counterfactuals.
"""

from __future__ import annotations

import mesa
import numpy as np

from sim import channels, consumer, kernels
from sim.choice import (
    Coefficients,
    OptionTable,
    add_utilities,
    bernoulli_indices,
    logit_choice,
    logsum,
    utilities,
)
from sim.config import SEGMENTS, Scenario, month_index
from sim.loading import apply_event, scenario_copy
from sim.options import (
    CLOSED_OPTIONS,
    FAMILIES,
    FAMILY_OF,
    IS_HOSTED_OPEN,
    IS_LLAMA,
    IS_OPEN,
    IS_SELF,
    LAB_OPEN,
    LLAMA_HOSTED,
    LLAMA_SELF,
    META_API,
    OPEN_HOSTED,
    OPEN_SELF,
    OPTIONS,
    PROVIDERS,
    K,
)
from sim.population import N_SEG, SEGMENT_CODE, Tally, shared_population
from sim.providers import ClosedLab, CloudHost, Meta, OpenRival, dated_prices, jevons, serving_cost
from sim.streams import MonthStreams

BUSINESS = np.array([SEGMENT_CODE["enterprise"], SEGMENT_CODE["regulated"]])
PLATFORM = SEGMENT_CODE["platform"]
_LLAMA_OR_NONE = np.append(IS_LLAMA, False)  # indexed by choice: -1 (not adopted) reads the appended False
_SELF_OR_NONE = np.append(IS_SELF, False)
_DRAWN_MONTHLY, _FORCED_SHOCKS = (0, 1, 2), 3  # month streams: adoption, re-choice, taste shocks; forced shocks
_META_FIRMS = np.ix_([META_API + 1, LLAMA_HOSTED + 1, LLAMA_SELF + 1], BUSINESS)  # business firms on Meta models
RIVAL_OPTIONS = np.array([OPEN_HOSTED, OPEN_SELF])  # the other open families (Mistral, DeepSeek, Qwen...)
OTHER_HOSTED_OPEN = IS_HOSTED_OPEN & ~IS_LLAMA  # hosted by the clouds besides Llama: open families, labs' own weights
_OPTION_COLUMNS = tuple(f"{name}.{o}" for name in ("users", "share_users", "share_tokens", "tokens", "price", "quality")
                       for o in OPTIONS)  # per-option record columns
_META_COLUMNS = tuple(f"meta.{line}" for line in channels.CHANNEL_NAMES)
_CONSUMER_COLUMNS = tuple(f"consumer_share.{name}" for name in consumer.PRODUCTS)


def weighted_mean(values: np.ndarray, weights: np.ndarray) -> float:
    """np.average's weighted mean in float64, without its argument checks (called every month)."""
    w = weights.astype(np.float64)
    return float(np.multiply(values, w).sum() / w.sum())


class ScenarioTerms:
    """What the month's choices and books read from the scenario alone, not from the market: the choice coefficients,
    the options' fixed columns (brand, ownership, leak, fixed cost, the outside option), the consumer layer's
    schedules and the labs' dated list prices. Built once per run and again after an event edits the scenario,
    instead of every month (so edit a running model's scenario through events: a direct edit of ``model.cfg``
    reaches these terms only after the next event)."""

    def __init__(self, cfg: Scenario, labs):
        ch = cfg.choice
        trust = np.array([getattr(ch.meta_trust_penalty, s) for s in SEGMENTS], dtype=np.float32)
        self.coefficients = Coefficients(
            alpha=ch.alpha_price, budget_per_mtok=ch.budget_per_mtok, beta_own=ch.beta_ownership,
            beta_leak=ch.beta_leak, switching_cost=ch.switching_cost, mu=ch.noise_scale,
            selfhost_capability=ch.selfhost_capability, capability_discount=cfg.providers.selfhost.capability_discount,
            trust_by_segment=trust, cost_lambda=ch.cost_lambda)
        brand = np.array([getattr(ch.brand, o) for o in OPTIONS[:LAB_OPEN["openai"]]]
                         + [ch.brand.open_hosted + lab.params().open_weights.brand_premium for lab in labs])
        brand[META_API] += (ch.brand.openai + ch.brand.anthropic + ch.brand.google) / 3.0  # relative to the labs
        self.brand = brand
        self.ownership = (IS_SELF.astype(float) + IS_HOSTED_OPEN * ch.hosted_ownership).astype(np.float32)
        leak = np.zeros(K)
        leak[CLOSED_OPTIONS] = 1.0
        self.leak = leak.astype(np.float32)
        self.fixed_cost = np.where(IS_SELF, cfg.providers.selfhost.fixed_cost, 0.0).astype(np.float32)
        self.outside = float(ch.beta_quality * cfg.market.frontier_start_elo / 100.0 + ch.outside_utility)
        self.consumer = consumer.ConsumerTerms(cfg)
        self.start, self._schedules = cfg.start, {}

    def price_schedule(self, lab) -> list[tuple[int, float]]:
        """A lab's dated list prices (sorted on first use)."""
        if lab.key not in self._schedules:
            self._schedules[lab.key] = dated_prices(lab.params().price, self.start)
        return self._schedules[lab.key]


class LLMMarket(mesa.Model):
    """Developers choosing between closed APIs and open weights, month by month, and consumers choosing AI products.

    Args:
        scenario: a validated :class:`sim.config.Scenario` (it is copied; events edit the copy).
        strategy: Meta's strategy for this run (``open``, ``closed`` or ``absent``); defaults to the scenario's.
            The scenario's ``meta.switch`` applies to the run whose strategy is the scenario's own ``meta.strategy``.
        seed: the run's seed; defaults to ``scenario.seed``. Runs with the same seed are paired.
    """

    def __init__(self, scenario: Scenario, strategy: str | None = None, seed: int | None = None):
        super().__init__(rng=int(scenario.seed if seed is None else seed))
        self.cfg = scenario_copy(scenario)
        own = self.cfg.meta.strategy
        self.strategy = strategy or own
        sw = self.cfg.meta.switch
        self.switch = (month_index(self.cfg.start, sw.date), sw.to) if sw is not None and self.strategy == own else None
        self.cfg.meta.strategy = self.strategy
        self.horizon = self.cfg.horizon_months
        pop_rng, sched_rng, self.license_rng, self.dynamics_rng = self.rng.spawn(4)
        lab_rngs = sched_rng.spawn(len(PROVIDERS))

        self.devs = shared_population(self.cfg.population, pop_rng)
        d, n = self.devs, self.devs.n
        self.can_self = d.capability >= self.cfg.choice.selfhost_capability
        self._selfhost_bar = self.cfg.choice.selfhost_capability
        self.tally = Tally(d)  # firms and tokens by option, kept current by developers_choose
        self.market_volume0 = float(d.volume.astype(np.float64).sum())  # M tokens/month at full adoption, month 0
        g = len(self.cfg.population.giants[:n])
        self.giant_rows = np.arange(n - g, n)
        apps = (d.segment == PLATFORM)
        apps[n - g:] = False
        self.apps_reach = float((d.weight[apps].astype(np.float64) * d.mau[apps]).sum())
        self.apps_firms = float(d.weight[apps].astype(np.float64).sum())
        self.approved = np.zeros(n, dtype=bool)
        self.license_blocked = np.zeros(n, dtype=bool)
        self.blocked_rows = np.empty(0, dtype=np.intp)
        self._license_key = None
        sample = min(self.cfg.outputs.surplus_sample, n)
        self.surplus_sample = np.unique(np.linspace(0, n - 1, sample).astype(np.intp))  # spread over the strata

        self.labs = [ClosedLab(self, key, option, lab_rngs[option]) for key, option in
                     (("openai", 0), ("anthropic", 1), ("google", 2))]
        self.weights_out = False  # Llama weights have been released: they cannot be recalled
        self.legacy_llama: tuple[float, float] | None = None  # (quality, release quality) of weights left behind
        self.meta = Meta(self, lab_rngs[3])
        self.rival = OpenRival(self, lab_rngs[4])
        self.host = CloudHost(self, "cloud_host")
        self.providers = {p.key: p for p in (*self.labs, self.meta, self.rival, self.host)}

        self.events = sorted(self.cfg.events, key=lambda e: e.date)
        self._terms: ScenarioTerms | None = None
        self.user_share = np.zeros(K)  # last month's share of adopters by option
        self.family_share = np.zeros(len(FAMILIES))
        self.llama_share = self.open_share = 0.0
        init_rng = self.dynamics_rng.spawn(1)[0]
        self.month_streams = MonthStreams(self.dynamics_rng, 4)  # see _DRAWN_MONTHLY and _FORCED_SHOCKS
        self.initial_adopters = bernoulli_indices(init_rng, n, self.cfg.adoption.initial_adopted)
        self.rows: list[dict] = []
        self.datacollector = mesa.DataCollector(model_reporters={"adopted_frac": lambda m: m.adopted_frac})
        self.adopted_frac = 0.0
        self.switchers = 0.0  # adopters (real firms) who changed option this month
        self.usage = 1.0  # token use per firm relative to month 0 (population.tokens_growth_per_year)

    # ---- step ------------------------------------------------------------------------------------------------------

    @property
    def month(self) -> int:
        return self.steps - 1

    def step(self) -> None:
        t = self.month
        self.apply_events(t)
        self.apply_switch(t)
        self.usage = self.cfg.population.tokens_growth_per_year ** (t / 12.0)  # token use per firm vs month 0
        self.update_providers(t)
        self.update_license(t)
        opt = self.option_table(t)
        self.developers_choose(t, opt)
        summary = self.count_and_book(t, opt)
        self.rows.append(summary)
        self.adopted_frac = summary["adopted_frac"]
        self.datacollector.collect(self)
        if t + 1 >= self.horizon:
            self.running = False

    def run(self, on_step=None) -> list[dict]:
        """Step to the horizon; ``on_step`` (a progress callback) is called after each month."""
        while self.running:
            self.step()
            if on_step is not None:
                on_step()
        return self.rows

    # ---- 1. events and Meta's switch --------------------------------------------------------------------------------

    def apply_events(self, t: int) -> None:
        """Dated events edit the live scenario at the start of their month (earlier dates apply at month 0)."""
        while self.events and month_index(self.cfg.start, self.events[0].date) <= t:
            apply_event(self.cfg, self.events.pop(0))
            self._terms = None  # the scenario changed: rebuild what depends on it alone

    def apply_switch(self, t: int) -> None:
        """Meta changes strategy at the switch date. Llama weights already released stay usable (they cannot be
        recalled): they remain on offer at their last quality, under the licence, with their misuse hazard."""
        if self.switch is None or t != max(self.switch[0], 0):
            return
        to = self.switch[1]
        if self.strategy == "open" and self.weights_out and to != "open":
            self.legacy_llama = (self.meta.quality, self.meta.release_quality)
        if to == "open":
            self.legacy_llama = None
        self.strategy = self.cfg.meta.strategy = to
        self.meta.priced = False

    def released_llama_quality(self) -> float | None:
        """Release quality of the Llama weights anyone can download now (None before the first open release)."""
        if self.strategy == "open" and self.meta.released:
            return self.meta.release_quality + self.cfg.meta.quality_bonus
        return self.legacy_llama[1] + self.cfg.meta.quality_bonus if self.legacy_llama is not None else None

    # ---- 2. providers -----------------------------------------------------------------------------------------------

    def update_providers(self, t: int) -> None:
        share = self.user_share
        for lab in self.labs:
            lab.update_quality(t)
            lab.update_price(t, share[lab.option])
        meta, rival = self.meta, self.rival
        meta.devs_share, meta.mindshare, meta.open_share = self.llama_share, self.family_share[3], self.open_share
        self.meta_released_now = meta.update_quality(t) if self.strategy != "absent" else False
        if self.strategy == "closed":
            meta.update_price(t, share[META_API])
        if self.strategy == "open" and meta.released:
            self.weights_out = True
        rival.devs_share, rival.open_share = self.family_share[4], self.open_share
        rival.update_quality(t)

    # ---- 3. licence -------------------------------------------------------------------------------------------------

    def update_license(self, t: int) -> None:
        """Llama's clause: a firm above ``mau_threshold`` (in the month before a release) needs Meta's approval,
        granted with ``approval_probability``, drawn once per firm and release from the licence stream. It binds
        released weights too after a switch away from open."""
        lic = self.cfg.license
        if self.released_llama_quality() is None:
            return
        if self.meta_released_now and self.strategy == "open":
            release_rng = self.license_rng.spawn(1)[0]
            above = np.flatnonzero(self.devs.mau > lic.mau_threshold)
            self.approved[:] = False
            self.approved[above] = release_rng.random(above.size) < lic.approval_probability
        key = (lic.enabled, lic.mau_threshold, self.meta.releases_so_far)
        if key != self._license_key:
            self._license_key = key
            if lic.enabled:
                self.license_blocked = (self.devs.mau > lic.mau_threshold) & ~self.approved
            else:
                self.license_blocked = np.zeros(self.devs.n, dtype=bool)
            self.blocked_rows = np.flatnonzero(self.license_blocked)  # a handful of firms: kept, not re-found monthly

    # ---- 4. options -------------------------------------------------------------------------------------------------

    def covered(self) -> np.ndarray:
        """Options the regulation covers (``regulation.applies_to``: open weights, closed APIs or all)."""
        return {"open": IS_OPEN, "closed": ~IS_OPEN, "all": np.ones(K, dtype=bool)}[self.cfg.regulation.applies_to]

    def open_extra_cost(self) -> float:
        """Compliance charge per M tokens on open weights (0 when the rules cover only closed APIs)."""
        return self.cfg.regulation.extra_cost if self.cfg.regulation.applies_to != "closed" else 0.0

    def option_table(self, t: int) -> OptionTable:
        cfg, ch = self.cfg, self.cfg.choice
        quality = np.full(K, np.nan)
        price = np.zeros(K)
        available = np.zeros(K, dtype=bool)
        for lab in self.labs:
            quality[lab.option], price[lab.option], available[lab.option] = lab.quality, lab.price, lab.enabled
        if self.strategy == "closed":
            quality[META_API], price[META_API], available[META_API] = self.meta.quality, self.meta.price, \
                self.meta.released
        cut = self.meta.community_cost_cut()
        if self.strategy == "open" and self.meta.released:
            quality[IS_LLAMA] = self.meta.quality
            price[LLAMA_HOSTED], price[LLAMA_SELF] = self.open_weight_prices(self.meta.unit_cost(t) * (1.0 - cut))
            available[IS_LLAMA] = True
        elif self.legacy_llama is not None:
            quality[IS_LLAMA] = self.legacy_llama[0]
            unit = serving_cost(cfg, t, self.legacy_llama[1]) * cfg.meta.serving_efficiency * (1.0 - cut)
            price[LLAMA_HOSTED], price[LLAMA_SELF] = self.open_weight_prices(unit)
            available[IS_LLAMA] = True
        quality[RIVAL_OPTIONS] = self.rival.quality
        price[OPEN_HOSTED], price[OPEN_SELF] = self.open_weight_prices(
            serving_cost(cfg, t, self.rival.release_quality))
        available[RIVAL_OPTIONS] = self.rival.enabled
        for lab in self.labs:  # a lab's own open-weight model, served by the clouds
            if lab.open_weights_live(t):
                j = LAB_OPEN[lab.key]
                quality[j], released = lab.open_weights_quality()
                unit = serving_cost(cfg, t, released) * lab.params().serving_efficiency
                price[j], available[j] = self.open_weight_prices(unit)[0], True
        reg = cfg.regulation
        if reg.applies_to != "open":
            price[~IS_OPEN] += reg.extra_cost
        if reg.banned:
            available[self.covered()] = False
        self.quality, self.price, self.available = quality, price, available
        self.jevons = jevons(cfg, price)  # tokens per base token at each option's price

        terms = self.terms()
        network = ch.gamma_network * np.log1p(self.family_share[FAMILY_OF] / ch.network_s0)
        base = ch.beta_quality * np.where(np.isnan(quality), 0.0, quality) / 100.0 + network + terms.brand
        private_cap = np.full(K, np.inf)
        for lab in (*self.labs, self.meta):
            private_cap[lab.option] = lab.private_threshold()
        return OptionTable(base=base.astype(np.float32), price=(price * self.jevons).astype(np.float32),
                           fixed_cost=terms.fixed_cost, ownership=terms.ownership, leak=terms.leak,
                           private_cap=private_cap.astype(np.float32), available=available, outside=terms.outside)

    def terms(self) -> ScenarioTerms:
        """The scenario's terms (built on first use, and again after an event edits the scenario)."""
        if self._terms is None:
            self._terms = ScenarioTerms(self.cfg, self.labs)
        return self._terms

    def open_weight_prices(self, unit: float) -> tuple[float, float]:
        """$/M tokens of an open model served at ``unit`` cost: by a cloud host (cost x (1 + margin)) and self-hosted
        (cost x the self-host multiplier; the fixed cost is separate), both plus any regulatory compliance charge."""
        cfg = self.cfg
        extra = self.open_extra_cost()
        return (unit * (1.0 + cfg.providers.cloud_host.margin) + extra,
                unit * cfg.providers.selfhost.variable_cost_multiplier + extra)

    def coefficients(self) -> Coefficients:
        return self.terms().coefficients

    def utilities_of(self, idx: np.ndarray, opt: OptionTable, co: Coefficients, with_current: bool = True):
        d = self.devs
        current = d.choice[idx] if with_current else np.full(idx.size, -1, dtype=np.int8)
        return utilities(opt, co, d.tokens[idx] * self.usage, d.sensitivity[idx], d.capability[idx], d.segment[idx],
                         current, self.license_blocked[idx])

    # ---- 5. developers ----------------------------------------------------------------------------------------------

    def developers_choose(self, t: int, opt: OptionTable) -> None:
        """Bass adoption, voluntary re-choice and forced re-choice, then one vectorized logit draw for the choosers.

        Adopters who re-choose may also take the outside option (leave LLMs), so adoption answers price and quality.
        Random numbers are drawn only for firms that act, and no step passes over all N firms: adoption and re-choice
        candidates are drawn over all N by geometric gaps and kept if in the right state (the same Bernoulli(p) per
        firm as drawing among those in that state); the counts by option come from :class:`Tally`, updated by the
        movers. Streams per month: adoption, re-choice, the taste shocks of new and voluntary choosers (the same firms
        whatever Meta does, so paired runs share them), and the shocks of forced choosers (which depend on the
        strategy, so they cannot shift the others).
        """
        d, ad = self.devs, self.cfg.adoption
        adopt_rng, rechoice_rng, noise_rng = self.month_streams.at(t, *_DRAWN_MONTHLY)
        d.clock = t
        if t == 0:
            adopting = self.initial_adopters
        else:
            hazard = min((ad.bass_p + ad.bass_q * self.tally.adopters / self.tally.total) / 12.0, 1.0)
            adopting = bernoulli_indices(adopt_rng, d.n, hazard)
        choosers = kernels.choosers(adopting, bernoulli_indices(rechoice_rng, d.n, ad.rechoice_rate), d.choice)

        groups = [(choosers, noise_rng)]
        forced = self.forced_choosers(choosers)
        if forced.size:
            forced_rng, = self.month_streams.at(t, _FORCED_SHOCKS)
            groups.append(((forced, d.choice[forced], np.ones(forced.size, dtype=bool)), forced_rng))
        co = self.coefficients()
        self.switchers = 0.0
        for (who, old, may_leave), rng in groups:
            if who.size == 0:
                continue
            tokens, sensitivity, capability, volume, weight, segment, blocked = d.attributes_of(
                who, self.license_blocked, self.usage)
            uniforms = rng.random((K + 1, who.size), dtype=np.float32)
            picked = logit_choice(opt, co, tokens, sensitivity, capability, segment, old, blocked, uniforms, may_leave)
            *flows, switched = kernels.settle(who, picked, old, segment, volume, weight, t, d.choice, d.chosen_at,
                                              K + 1, N_SEG)  # writes choice and chosen_at
            self.tally.apply(*flows)
            self.switchers += float(switched.sum())

    def forced_choosers(self, choosers: tuple[np.ndarray, np.ndarray, np.ndarray]) -> np.ndarray:
        """Adopters who must re-choose this month and are not re-choosing anyway (sorted rows): firms on an option
        withdrawn this month (rare: found by a full pass only then), unapproved firms on Llama above the licence
        threshold (a handful), firms on a self-hosted option they can no longer run. Those already among the
        voluntary ``choosers`` stay on the paired stream."""
        d = self.devs
        forced = [self.selfhost_misfits()]
        gone = ~self.available & (self.tally.rows[1:] > 0)
        if gone.any():
            forced.append(np.flatnonzero(np.append(gone, False)[d.choice]))
        blocked = self.blocked_rows
        if blocked.size:
            forced.append(blocked[_LLAMA_OR_NONE[d.choice[blocked]]])
        forced = np.unique(np.concatenate(forced)) if any(f.size for f in forced) else np.empty(0, dtype=np.intp)
        voluntary = choosers[0][choosers[2]] if forced.size else forced  # adopters re-choosing anyway (sorted)
        if voluntary.size:
            at = np.minimum(np.searchsorted(voluntary, forced), voluntary.size - 1)
            forced = forced[voluntary[at] != forced]
        return forced

    def selfhost_misfits(self) -> np.ndarray:
        """Firms on a self-hosted option they cannot run. Choosers never pick an option masked for them, so misfits
        appear only when an event raises ``choice.selfhost_capability``: the full pass runs only in that month."""
        bar = self.cfg.choice.selfhost_capability
        if bar == self._selfhost_bar:
            return np.empty(0, dtype=np.intp)
        self._selfhost_bar = bar
        self.can_self = self.devs.capability >= bar
        return np.flatnonzero(~self.can_self & _SELF_OR_NONE[self.devs.choice])

    def count_users(self) -> tuple[np.ndarray, np.ndarray]:
        """Real firms by (option + 1, segment) (row 0: not adopted) and market M tokens by option, this month."""
        return self.tally.users_seg.copy(), self.tally.tokens * self.usage * self.jevons

    # ---- 6. counting, consumers and ledgers --------------------------------------------------------------------------

    def count_and_book(self, t: int, opt: OptionTable) -> dict:
        d, cfg = self.devs, self.cfg
        users_seg, tokens = self.count_users()
        users = users_seg.sum(axis=1)
        adopters = users[1:].sum()
        share_users = users[1:] / adopters if adopters else np.zeros(K)
        served = tokens.sum()
        share_tokens = tokens / served if served > 0 else np.zeros(K)
        fam_users = np.bincount(FAMILY_OF, weights=users[1:], minlength=len(FAMILIES))
        self.user_share = share_users
        self.family_share = fam_users / adopters if adopters else np.zeros(len(FAMILIES))
        self.llama_share = float(share_users[IS_LLAMA].sum())
        self.open_share = float(share_users[IS_OPEN].sum())

        cons = self.consumer_layer(t, users_seg)
        best_open = max((q for q, on in zip(self.quality.tolist(), (self.available & IS_OPEN).tolist(), strict=True)
                         if on), default=np.nan)
        best_closed = max((lab.quality for lab in self.labs if lab.enabled), default=0.0)

        # Closed labs: private-tier tokens are those of developers for whom the leak penalty beats the premium.
        cap = opt.private_cap
        for lab in self.labs:
            private = 0.0
            if np.isfinite(cap[lab.option]) and users[lab.option + 1]:
                on = d.choice == lab.option
                leak = cfg.choice.beta_leak * d.sensitivity[on]
                private = float(d.volume[on][leak > cap[lab.option]].sum()) * self.usage * self.jevons[lab.option]
            contract = cons["contract"] if cons["seller"] is lab else (0.0, 0.0)
            lab.book(t, tokens[lab.option], private, cons["revenue"][lab.key], contract)

        price = self.price
        other = OTHER_HOSTED_OPEN
        self.host.book(tokens[LLAMA_HOSTED], price[LLAMA_HOSTED], float(tokens[other].sum()),
                       float((price[other] * tokens[other]).sum()))
        self.rival.book(t)
        self.book_meta(t, tokens, served, users_seg, cons)

        row = self.record(t, users, users_seg, tokens, share_users, share_tokens, best_closed, best_open, opt,
                          adopters, served)
        row.update(zip(_CONSUMER_COLUMNS, np.asarray(cons["shares"], dtype=np.float64).tolist(), strict=True))
        row["consumer_users"] = cons["users"]
        row["meta_ai_quality"] = float(cons["quality"][consumer.META_AI])
        row.update(self.lab_ledger_columns())
        return row

    def consumer_layer(self, t: int, users_seg: np.ndarray) -> dict:
        """Split consumer AI use among products; decide what Meta's products run on (make or buy)."""
        cfg, c = self.cfg, self.cfg.consumer
        terms = self.terms().consumer
        q = np.full(len(consumer.PRODUCTS), np.nan)
        reach = terms.reach.copy()
        for i, lab in enumerate(self.labs, start=1):
            q[i] = lab.quality if lab.enabled else np.nan
        # The named giants ("platforms") and the rest of the platform segment ("apps") run on what they chose.
        quality = np.where(np.isnan(self.quality), 0.0, self.quality)
        gch = self.devs.choice[self.giant_rows]
        on = gch >= 0
        giant_mau = self.devs.mau[self.giant_rows][on]
        reach[consumer.PLATFORMS] = float(giant_mau.sum())
        if on.any():
            q[consumer.PLATFORMS] = weighted_mean(quality[gch[on]], giant_mau)
        firms = users_seg[1:, PLATFORM] - np.bincount(gch[on], minlength=K)  # giants have weight 1
        firms = np.maximum(firms, 0.0)
        if firms.sum() > 0:
            q[consumer.APPS] = weighted_mean(quality, firms)
        reach[consumer.APPS] = self.apps_reach * firms.sum() / max(self.apps_firms, 1.0)
        launched = terms.launched(t)
        users = consumer.consumer_users(cfg, t)
        at_risk = terms.attention_at_risk(t)
        value_per_share = (self.ad_revenue(t) * at_risk * c.meta_ad_yield
                           + users * c.meta_ai.revenue_per_user_month)

        def shares_with(meta_quality: float) -> np.ndarray:
            q[consumer.META_AI] = meta_quality
            return terms.shares(q, reach, launched & np.isfinite(q))

        seller, contract = None, (0.0, 0.0)
        if self.strategy != "absent" and self.meta.released:  # make: Meta runs its own model
            s = shares_with(self.meta.quality)
            own_tokens = c.tokens_per_user_month * s[consumer.META_AI] * users
            cost = own_tokens * self.meta.unit_cost(t) * (1.0 - self.meta.community_cost_cut())
        else:  # buy the best closed API at a negotiated price, or self-host the best open model
            s, cost, seller, contract = self.source_meta_products(t, shares_with, value_per_share, users)
        revenue = {k: s[i] * users * getattr(c, k).revenue_per_user_month
                   for i, k in enumerate(consumer.PRODUCTS) if k in consumer.OWNER and k != "meta_ai"}
        return {"shares": s, "users": users, "quality": q.copy(), "own_cost": cost, "seller": seller,
                "contract": contract, "revenue": revenue, "at_risk": at_risk}

    def source_meta_products(self, t, shares_with, value_per_share: float, users: float):
        """Make or buy when Meta has no model of its own: buy the best closed API at P = c_j T + theta_b S (S: Meta's
        surplus over self-hosting, shared by Nash bargaining), booked by the seller as a private contract, or
        self-host the best open model (the other families, a lab's own open weights, or Llama weights left behind),
        whichever is worth more."""
        cfg, tau = self.cfg, self.cfg.consumer.tokens_per_user_month
        labs = [lab for lab in self.labs if lab.enabled]
        opens = [lab.open_weights_quality() for lab in self.labs if lab.open_weights_live(t)]
        if self.rival.enabled:
            opens.append((self.rival.quality, self.rival.release_quality))
        if self.legacy_llama is not None:
            opens.append(self.legacy_llama)
        self_unit = cfg.providers.selfhost.variable_cost_multiplier
        best_self = None
        if opens:
            q_open, q_rel = max(opens)
            s_self = shares_with(q_open)
            unit = serving_cost(cfg, t, q_rel) * self_unit
            tokens = tau * s_self[consumer.META_AI] * users
            best_self = (s_self, tokens * unit, value_per_share * s_self[consumer.META_AI] - tokens * unit)
        if labs:
            lab = max(labs, key=lambda x: x.quality)
            s_buy = shares_with(lab.quality)
            tokens = tau * s_buy[consumer.META_AI] * users
            at_cost = tokens * lab.cost
            surplus = value_per_share * s_buy[consumer.META_AI] - at_cost - (best_self[2] if best_self else 0.0)
            if best_self is None or surplus > 0:
                paid = at_cost + cfg.consumer.buy_surplus_share * max(surplus, 0.0)
                return s_buy, paid, lab, (paid, tokens)
        if best_self is not None:
            return best_self[0], best_self[1], None, (0.0, 0.0)
        return shares_with(np.nan), 0.0, None, (0.0, 0.0)

    def ad_revenue(self, t: int) -> float:
        """AR(t): Meta's advertising revenue per month."""
        led = self.cfg.meta.ledger
        return led.ad_revenue_per_year / 12.0 * (1.0 + led.ad_growth_per_year) ** (t / 12.0)

    def book_meta(self, t: int, tokens: np.ndarray, served: float, users_seg: np.ndarray, cons: dict) -> None:
        """Meta's inputs for this month, then its ledger from :mod:`sim.channels` (one formula per channel)."""
        cfg, meta, strategy = self.cfg, self.meta, self.strategy
        programme = strategy != "absent"
        api_tokens = tokens[META_API] if strategy == "closed" else 0.0
        if api_tokens:
            meta.captured += api_tokens  # a Meta API's own flywheel
        avg_price = float((self.price * tokens).sum() / served) if served > 0 else 0.0
        hazard = (cfg.meta.misuse.hazard_open_per_year * self.weights_out
                  + cfg.meta.misuse.hazard_closed_per_year * (strategy == "closed" and meta.released)) / 12.0
        spend = cfg.meta.spend
        meta_firms = users_seg[_META_FIRMS].sum()
        month = channels.MetaMonth(
            ad_revenue=self.ad_revenue(t),
            attention_at_risk=cons["at_risk"],
            ad_yield=cfg.consumer.meta_ad_yield,
            meta_ai_share=float(cons["shares"][consumer.META_AI]),
            consumer_users=cons["users"],
            revenue_per_user=cfg.consumer.meta_ai.revenue_per_user_month,
            engagement_lift=cfg.consumer.engagement_lift,
            price_ratio=cfg.choice.budget_per_mtok / avg_price if avg_price > 0 else 1.0,
            own_products_cost=cons["own_cost"],
            api_revenue=meta.price * api_tokens,
            api_serving_cost=meta.cost * api_tokens,
            host_fee=self.host.meta_fee,
            support_revenue=cfg.meta.ledger.support_revenue_per_dev * meta_firms,
            misuse_hazard=hazard,
            liability=cfg.meta.misuse.liability,
            training_cost=meta.training_charge(t),
            rd_cost=spend.rd_share * spend.rd_per_year / 12.0 * programme,
            capex_cost=spend.capex_share * spend.capex_per_year / spend.capex_life_years / 12.0 * programme,
        )
        meta.ledger = channels.book(month)

    def lab_ledger_columns(self) -> dict:
        """Each closed lab's ledger lines (API and consumer revenue, serving and training cost) and gross margin."""
        out = {}
        for lab in self.labs:
            for line, value in lab.ledger.items():
                out[f"{line}.{lab.key}"] = float(value)
            api = lab.ledger["api_revenue"] + lab.ledger["meta_contract"]
            out[f"gross_margin.{lab.key}"] = (api + lab.ledger["serving_cost"]) / api if api > 0 else np.nan
        return out

    def record(self, t, users, users_seg, tokens, share_users, share_tokens, best_closed, best_open, opt, adopters,
               served) -> dict:
        total = self.tally.total
        row: dict = {"month": t, "strategy_now": self.strategy, "adopted_frac": 1.0 - users[0] / total,
                     "users.none": float(users[0])}
        offered = np.where(self.available, 1.0, np.nan)
        per_option = np.concatenate((users[1:], share_users, share_tokens, tokens, self.price * offered,
                                     self.quality * offered), dtype=np.float64)
        row.update(zip(_OPTION_COLUMNS, per_option.tolist(), strict=True))
        regulated = users_seg[1:, SEGMENT_CODE["regulated"]]
        in_regulated = regulated.sum()
        row["llama_share_regulated"] = float(regulated[IS_LLAMA].sum() / in_regulated) if in_regulated else 0.0
        for key, p in self.providers.items():
            row[f"revenue.{key}"] = float(p.revenue) if key != "open_rival" else 0.0
            row[f"profit.{key}"] = p.profit
        for lab in (*self.labs, self.meta):
            row[f"flywheel_gain.{lab.key}"] = float(lab.flywheel_gain())
        for lab in self.labs:
            row[f"data_captured.{lab.key}"] = float(lab.data_captured)
        ledger = self.meta.ledger
        row.update(zip(_META_COLUMNS, map(float, map(ledger.__getitem__, channels.CHANNEL_NAMES)), strict=True))
        row["meta_reported"] = float(sum(ledger[line] for line in channels.REPORTED))
        fam_tokens = np.bincount(FAMILY_OF, weights=share_tokens, minlength=len(FAMILIES))
        row["commoditization"] = float(1.0 - (fam_tokens**2).sum()) if served > 0 else 0.0
        row["quality_lead"] = float(best_closed - best_open) if np.isfinite(best_open) else np.nan
        row["avg_price_paid"] = float((self.price * tokens).sum() / served) if served > 0 else np.nan
        row["dev_surplus"] = self.developer_surplus(opt)
        row["license_blocked"] = int(self.blocked_rows.size)
        row["switch_rate"] = self.switchers / adopters if adopters else 0.0  # adopters who moved
        return row

    def developer_surplus(self, opt: OptionTable) -> float:
        """Mean expected maximum utility of a fixed sample of developers (spread over the strata, weighted), in $
        per firm-month: the logit log-sum monetized at the firm's reference bill (ln-sum x tokens x p_ref / alpha;
        exact for the linear cost, a first-order money metric otherwise; switching costs left out). NaN with no sample
        (``outputs.surplus_sample: 0``, which sweeps set when no metric needs it)."""
        d, idx, ch = self.devs, self.surplus_sample, self.cfg.choice
        if idx.size == 0:
            return float("nan")
        v = np.zeros((K, idx.size), dtype=np.float32)
        tokens = d.tokens[idx] * self.usage
        add_utilities(v, opt, self.coefficients(), tokens, d.sensitivity[idx], d.capability[idx],
                      d.segment[idx], None, self.license_blocked[idx])
        ls = logsum(v, ch.noise_scale, axis=0)
        dollars = ls * tokens * ch.budget_per_mtok / ch.alpha_price
        ok = np.isfinite(dollars)
        return weighted_mean(dollars[ok], d.weight[idx][ok]) if ok.any() else float("nan")
