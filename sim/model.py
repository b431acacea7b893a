"""The LLM market as a mesa Model: developers as numpy arrays, providers as Agents, one step per month.

Each month, in this order (docs/model.md):

1. dated events edit the live scenario;
2. providers release models, update quality (flywheel, community) and prices;
3. the Llama licence is checked at each release (firms above the MAU threshold need Meta's approval);
4. the option table is rebuilt from the providers;
5. non-adopters adopt with the Bass hazard p + q A/N (Bass 1969); a share of adopters re-chooses, and anyone whose
   option disappeared must; choosers pick by the logit rule in :mod:`sim.choice`;
6. shares and token volumes are counted, ledgers booked, indicators computed and one row recorded.

All randomness comes from ``model.rng`` through children spawned in a fixed order (population, schedules, licence,
and one set per month), so two runs with the same seed and different Meta strategies share the population, the
release dates, the adoption and re-choice draws and the taste shocks: they are paired counterfactuals.
"""

from __future__ import annotations

from types import SimpleNamespace

import mesa
import numpy as np

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
    LLAMA_HOSTED,
    LLAMA_SELF,
    META_API,
    OPEN_HOSTED,
    OPEN_SELF,
    OPTIONS,
    PROVIDERS,
    K,
)
from sim.population import SEGMENT_CODE, Tally, draw_population
from sim.providers import META_LINES, ClosedLab, CloudHost, Meta, OpenRival, serving_cost

BUSINESS = np.array([SEGMENT_CODE["enterprise"], SEGMENT_CODE["regulated"]])
PLATFORM = SEGMENT_CODE["platform"]
_LLAMA_OR_NONE = np.append(IS_LLAMA, False)  # indexed by choice: -1 (not adopted) reads the appended False
_SELF_OR_NONE = np.append(IS_SELF, False)


class LLMMarket(mesa.Model):
    """Developers choosing between closed APIs and open weights, month by month.

    Args:
        scenario: a validated :class:`sim.config.Scenario` (it is copied; events edit the copy).
        strategy: Meta's strategy for this run (``open``, ``closed`` or ``absent``); defaults to the scenario's.
        seed: the run's seed; defaults to ``scenario.seed``. Runs with the same seed are paired.
    """

    def __init__(self, scenario: Scenario, strategy: str | None = None, seed: int | None = None):
        super().__init__(rng=int(scenario.seed if seed is None else seed))
        self.cfg = scenario_copy(scenario)
        self.strategy = strategy or self.cfg.meta.strategy
        self.cfg.meta.strategy = self.strategy
        self.horizon = self.cfg.horizon_months
        pop_rng, sched_rng, self.license_rng, self.dynamics_rng = self.rng.spawn(4)
        lab_rngs = sched_rng.spawn(len(PROVIDERS))

        self.devs = draw_population(self.cfg.population, pop_rng)
        n = self.devs.n
        giants = len(self.cfg.population.giants)
        self.weight = (self.cfg.population.represents - giants) / (n - giants)  # real firms per non-giant row
        self.can_self = self.devs.capability >= self.cfg.choice.selfhost_capability
        self._selfhost_bar = self.cfg.choice.selfhost_capability
        self.tally = Tally(self.devs)  # firms and tokens by option, kept current by developers_choose
        self.approved = np.zeros(n, dtype=bool)
        self.license_blocked = np.zeros(n, dtype=bool)
        self._license_key = None
        sample = min(self.cfg.outputs.surplus_sample, n)
        self.surplus_sample = np.arange(sample)

        self.labs = [ClosedLab(self, key, option, lab_rngs[option]) for key, option in
                     (("openai", 0), ("anthropic", 1), ("google", 2))]
        self.meta = Meta(self, lab_rngs[3])
        self.rival = OpenRival(self, lab_rngs[4])
        self.host = CloudHost(self, "cloud_host")
        self.providers = {p.key: p for p in (*self.labs, self.meta, self.rival, self.host)}

        self.events = sorted(self.cfg.events, key=lambda e: e.date)
        self.user_share = np.zeros(K)  # last month's share of adopters by option
        self.family_share = np.zeros(len(FAMILIES))
        init_rng = self.dynamics_rng.spawn(1)[0]
        self.initial_adopters = bernoulli_indices(init_rng, n, self.cfg.adoption.initial_adopted)
        self.rows: list[dict] = []
        self.datacollector = mesa.DataCollector(model_reporters={"adopted_frac": lambda m: m.adopted_frac})
        self.adopted_frac = 0.0
        self.switchers = 0  # adopters who changed option this month
        self.usage = 1.0  # token use per firm relative to month 0 (population.tokens_growth_per_year)

    # ---- step ------------------------------------------------------------------------------------------------------

    @property
    def month(self) -> int:
        return self.steps - 1

    def step(self) -> None:
        t = self.month
        self.apply_events(t)
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

    # ---- 1. events --------------------------------------------------------------------------------------------------

    def apply_events(self, t: int) -> None:
        """Dated events edit the live scenario at the start of their month (earlier dates apply at month 0)."""
        while self.events and month_index(self.cfg.start, self.events[0].date) <= t:
            apply_event(self.cfg, self.events.pop(0))

    # ---- 2. providers -----------------------------------------------------------------------------------------------

    def update_providers(self, t: int) -> None:
        share = self.user_share
        for lab in self.labs:
            lab.update_quality(t)
            lab.update_price(t, share[lab.option])
        self.meta.devs_share = self.family_share[3] if self.strategy == "open" else 0.0
        self.meta_released_now = self.meta.update_quality(t) if self.strategy != "absent" else False
        if self.strategy == "closed":
            self.meta.update_price(t, share[META_API])
        self.rival.devs_share = self.family_share[4]
        self.rival.update_quality(t)

    # ---- 3. licence -------------------------------------------------------------------------------------------------

    def update_license(self, t: int) -> None:
        """Llama's clause: a firm above ``mau_threshold`` (in the month before a release) needs Meta's approval,
        granted with ``approval_probability``, drawn once per firm and release from the licence stream."""
        lic = self.cfg.license
        if self.strategy != "open":
            return
        if self.meta_released_now:
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

    # ---- 4. options -------------------------------------------------------------------------------------------------

    def option_table(self, t: int) -> OptionTable:
        cfg, ch = self.cfg, self.cfg.choice
        quality = np.full(K, np.nan)
        price = np.zeros(K)
        available = np.zeros(K, dtype=bool)
        for lab in self.labs:
            quality[lab.option], price[lab.option], available[lab.option] = lab.quality, lab.price, lab.enabled
        meta_on = self.strategy != "absent" and self.meta.released
        if self.strategy == "closed":
            quality[META_API], price[META_API], available[META_API] = self.meta.quality, self.meta.price, meta_on
        if self.strategy == "open":
            unit = self.meta.unit_cost(t) * (1.0 - self.meta.community_cost_cut())
            quality[IS_LLAMA] = self.meta.quality
            price[LLAMA_HOSTED], price[LLAMA_SELF] = self.open_weight_prices(unit)
            available[IS_LLAMA] = meta_on
        quality[IS_OPEN & ~IS_LLAMA] = self.rival.quality
        price[OPEN_HOSTED], price[OPEN_SELF] = self.open_weight_prices(
            serving_cost(cfg, t, self.rival.release_quality))
        available[IS_OPEN & ~IS_LLAMA] = self.rival.enabled
        if cfg.regulation.open_banned:
            available[IS_OPEN] = False
        self.quality, self.price, self.available = quality, price, available

        brand = np.array([getattr(ch.brand, o) for o in OPTIONS])
        network = ch.gamma_network * np.log1p(self.family_share[FAMILY_OF] / ch.network_s0)
        base = ch.beta_quality * np.nan_to_num(quality) / 100.0 + network + brand
        ownership = IS_SELF.astype(float) + IS_HOSTED_OPEN * ch.hosted_ownership
        leak = np.zeros(K)
        leak[CLOSED_OPTIONS] = 1.0
        private_cap = np.full(K, np.inf)
        for lab in (*self.labs, self.meta):
            private_cap[lab.option] = lab.private_threshold()
        fixed = np.where(IS_SELF, cfg.providers.selfhost.fixed_cost, 0.0)
        return OptionTable(base=base.astype(np.float32), price=price.astype(np.float32),
                           fixed_cost=fixed.astype(np.float32), ownership=ownership.astype(np.float32),
                           leak=leak.astype(np.float32), private_cap=private_cap.astype(np.float32),
                           available=available)

    def open_weight_prices(self, unit: float) -> tuple[float, float]:
        """$/M tokens of an open model served at ``unit`` cost: by a cloud host (cost x (1 + margin)) and self-hosted
        (cost x the self-host multiplier; the fixed cost is separate), both plus any regulatory compliance charge."""
        cfg = self.cfg
        extra = cfg.regulation.open_extra_cost
        return (unit * (1.0 + cfg.providers.cloud_host.margin) + extra,
                unit * cfg.providers.selfhost.variable_cost_multiplier + extra)

    def coefficients(self) -> Coefficients:
        ch = self.cfg.choice
        trust = np.array([getattr(ch.meta_trust_penalty, s) for s in SEGMENTS], dtype=np.float32)
        return Coefficients(alpha=ch.alpha_price, budget_per_mtok=ch.budget_per_mtok, beta_own=ch.beta_ownership,
                            beta_leak=ch.beta_leak, switching_cost=ch.switching_cost, mu=ch.noise_scale,
                            selfhost_capability=ch.selfhost_capability,
                            capability_discount=self.cfg.providers.selfhost.capability_discount,
                            trust_by_segment=trust)

    def utilities_of(self, idx: np.ndarray, opt: OptionTable, co: Coefficients, with_current: bool = True):
        d = self.devs
        current = d.choice[idx] if with_current else np.full(idx.size, -1, dtype=np.int8)
        return utilities(opt, co, d.tokens[idx] * self.usage, d.sensitivity[idx], d.capability[idx], d.segment[idx],
                         current, self.license_blocked[idx])

    # ---- 5. developers ----------------------------------------------------------------------------------------------

    def developers_choose(self, t: int, opt: OptionTable) -> None:
        """Bass adoption, voluntary re-choice and forced re-choice, then one vectorized logit draw for the choosers.

        Random numbers are drawn only for firms that act, and no step passes over all N firms: adoption and re-choice
        candidates are drawn over all N by geometric gaps and kept if in the right state (the same Bernoulli(p) per
        firm as drawing among those in that state); the counts by option come from :class:`Tally`, updated by the
        movers. Streams per month: adoption, re-choice, the taste shocks of new and voluntary choosers (the same firms
        whatever Meta does, so paired runs share them), and the shocks of forced choosers (which depend on the
        strategy, so they cannot shift the others).
        """
        d, ad = self.devs, self.cfg.adoption
        adopt_rng, rechoice_rng, noise_rng, forced_rng = self.dynamics_rng.spawn(4)
        d.clock = t
        if t == 0:
            new = self.initial_adopters[d.choice[self.initial_adopters] < 0]
        else:
            hazard = min((ad.bass_p + ad.bass_q * self.tally.adopters / d.n) / 12.0, 1.0)
            candidates = bernoulli_indices(adopt_rng, d.n, hazard)
            new = candidates.take(np.flatnonzero(d.choice[candidates] < 0))
        candidates = bernoulli_indices(rechoice_rng, d.n, ad.rechoice_rate)
        voluntary = candidates.take(np.flatnonzero(d.choice[candidates] >= 0))  # take: no branchy boolean copy

        # Forced: firms on an option withdrawn this month (rare: found by a full pass only then), unapproved firms on
        # Llama above the licence threshold (a handful), firms on a self-hosted option they can no longer run.
        forced = [self.selfhost_misfits()]
        gone = ~self.available & (self.tally.users_seg[1:].sum(axis=1) > 0)
        if gone.any():
            forced.append(np.flatnonzero(np.append(gone, False)[d.choice]))
        blocked = np.flatnonzero(self.license_blocked)
        if blocked.size:
            forced.append(blocked[_LLAMA_OR_NONE[d.choice[blocked]]])
        forced = np.unique(np.concatenate(forced))
        if forced.size and voluntary.size:  # already re-choosing: keep them on the paired stream
            at = np.minimum(np.searchsorted(voluntary, forced), voluntary.size - 1)
            forced = forced[voluntary[at] != forced]

        co = self.coefficients()
        self.switchers = 0
        for who, rng in ((np.concatenate((new, voluntary)), noise_rng), (forced, forced_rng)):
            if who.size == 0:
                continue
            old = d.choice[who]
            tokens, sensitivity, capability, volume, segment = d.attributes_of(who)
            tokens = tokens * self.usage
            uniforms = rng.random((K, who.size), dtype=np.float32)
            picked = logit_choice(opt, co, tokens, sensitivity, capability, segment, old, self.license_blocked[who],
                                  uniforms)
            self.tally.move(segment, volume, old, picked)  # firms that stayed add and remove themselves
            self.switchers += int(np.count_nonzero((picked != old) & (old >= 0)))
            d.choice[who] = picked
            since = d.chosen_at[who]
            since += (picked != old) * (t - since)
            d.chosen_at[who] = since

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
        """Firms by (option + 1, segment) (row 0: not adopted) and market M tokens by option, this month."""
        return self.tally.users_seg.copy(), self.tally.tokens.copy()

    # ---- 6. counting and ledgers ------------------------------------------------------------------------------------

    def count_and_book(self, t: int, opt: OptionTable) -> dict:
        d, w = self.devs, self.weight
        users_seg, tokens = self.count_users()
        tokens *= self.usage  # market M tokens this month
        users = users_seg.sum(axis=1)
        adopters = users[1:].sum()
        share_users = users[1:] / adopters if adopters else np.zeros(K)
        share_tokens = tokens / tokens.sum() if tokens.sum() > 0 else np.zeros(K)
        fam_users = np.bincount(FAMILY_OF, weights=users[1:], minlength=len(FAMILIES))
        self.user_share = share_users
        self.family_share = fam_users / adopters if adopters else np.zeros(len(FAMILIES))
        platform = users_seg[1:, PLATFORM]
        closed_consumer = platform[CLOSED_OPTIONS[:3]].sum() / platform.sum() if platform.sum() else 0.0

        # Closed labs: private-tier tokens are those of developers for whom the leak penalty beats the premium.
        cap = opt.private_cap
        for lab in self.labs:
            private = 0.0
            if np.isfinite(cap[lab.option]) and users[lab.option + 1]:
                on = d.choice == lab.option
                leak = self.cfg.choice.beta_leak * d.sensitivity[on]
                private = float(d.volume[on][leak > cap[lab.option]].sum()) * self.usage
            lab.book(t, tokens[lab.option], private, platform[lab.option] / platform.sum() if platform.sum() else 0.0)

        # Hosting and Meta.
        price = self.price
        self.host.book(tokens[LLAMA_HOSTED], price[LLAMA_HOSTED], tokens[OPEN_HOSTED], price[OPEN_HOSTED])
        self.rival.book(t)
        best_open = np.nanmax(np.where(self.available & IS_OPEN, self.quality, np.nan)) \
            if (self.available & IS_OPEN).any() else np.nan
        best_closed = max((lab.quality for lab in self.labs if lab.enabled), default=0.0)
        meta_product_q = self.meta.quality if (self.strategy != "absent" and self.meta.released) else (
            self.rival.quality if self.rival.enabled else self.cfg.market.frontier_start_elo)
        llama_users = users[LLAMA_HOSTED + 1] + users[LLAMA_SELF + 1]
        month = SimpleNamespace(
            llama_host_revenue=(price[LLAMA_HOSTED] - self.cfg.regulation.open_extra_cost) * tokens[LLAMA_HOSTED],
            llama_business_firms=users_seg[[LLAMA_HOSTED + 1, LLAMA_SELF + 1]][:, BUSINESS].sum() * w,
            llama_mindshare=llama_users / adopters if adopters else 0.0,
            meta_api_tokens=tokens[META_API],
            best_closed_quality=best_closed,
            meta_product_quality=meta_product_q,
            closed_consumer_share=closed_consumer,
        )
        self.meta.book_meta(t, month)

        row = self.record(t, users, users_seg, tokens, share_users, share_tokens, best_closed, best_open, opt)
        row["closed_consumer_share"] = closed_consumer
        row.update(self.lab_ledger_columns())
        return row

    def lab_ledger_columns(self) -> dict:
        """Each closed lab's ledger lines (API and consumer revenue, serving and training cost) and gross margin."""
        out = {}
        for lab in self.labs:
            for line, value in lab.ledger.items():
                out[f"{line}.{lab.key}"] = float(value)
            api = lab.ledger["api_revenue"]
            out[f"gross_margin.{lab.key}"] = (api + lab.ledger["serving_cost"]) / api if api > 0 else np.nan
        return out

    def record(self, t, users, users_seg, tokens, share_users, share_tokens, best_closed, best_open, opt) -> dict:
        n = self.devs.n
        row: dict = {"month": t, "adopted_frac": 1.0 - users[0] / n, "users.none": int(users[0])}
        for j, o in enumerate(OPTIONS):
            row[f"users.{o}"] = int(users[j + 1])
        for j, o in enumerate(OPTIONS):
            row[f"share_users.{o}"] = float(share_users[j])
        for j, o in enumerate(OPTIONS):
            row[f"share_tokens.{o}"] = float(share_tokens[j])
        for j, o in enumerate(OPTIONS):
            row[f"tokens.{o}"] = float(tokens[j])
        for j, o in enumerate(OPTIONS):
            row[f"price.{o}"] = float(self.price[j]) if self.available[j] else np.nan
        for j, o in enumerate(OPTIONS):
            row[f"quality.{o}"] = float(self.quality[j]) if self.available[j] else np.nan
        regulated = users_seg[1:, SEGMENT_CODE["regulated"]]
        row["llama_share_regulated"] = float(regulated[IS_LLAMA].sum() / regulated.sum()) if regulated.sum() else 0.0
        for key, p in self.providers.items():
            row[f"revenue.{key}"] = float(p.revenue) if key != "open_rival" else 0.0
            row[f"profit.{key}"] = p.profit
        for lab in self.labs:
            row[f"data_captured.{lab.key}"] = float(lab.data_captured)
        for line in META_LINES:
            row[f"meta.{line}"] = float(self.meta.ledger[line])
        fam_tokens = np.bincount(FAMILY_OF, weights=share_tokens, minlength=len(FAMILIES))
        row["commoditization"] = float(1.0 - np.sum(fam_tokens**2)) if tokens.sum() > 0 else 0.0
        row["quality_lead"] = float(best_closed - best_open) if np.isfinite(best_open) else np.nan
        row["avg_price_paid"] = float((self.price * tokens).sum() / tokens.sum()) if tokens.sum() > 0 else np.nan
        row["dev_surplus"] = self.developer_surplus(opt)
        row["license_blocked"] = int(np.count_nonzero(self.license_blocked))
        row["switch_rate"] = self.switchers / users[1:].sum() if users[1:].sum() else 0.0  # adopters who moved
        return row

    def developer_surplus(self, opt: OptionTable) -> float:
        """Mean expected maximum utility of a fixed sample of developers, in $ per firm-month (logit log-sum divided
        by the price coefficient alpha / budget_i; switching costs left out). Utilities are built option-major
        (:func:`sim.choice.add_utilities`) so that the log-sum reduces over contiguous rows."""
        d, idx, ch = self.devs, self.surplus_sample, self.cfg.choice
        v = np.zeros((K, idx.size), dtype=np.float32)
        tokens = d.tokens[idx] * self.usage
        add_utilities(v, opt, self.coefficients(), tokens, d.sensitivity[idx], d.capability[idx],
                      d.segment[idx], None, self.license_blocked[idx])
        ls = logsum(v, ch.noise_scale, axis=0)
        dollars = ls * tokens * ch.budget_per_mtok / ch.alpha_price
        ok = np.isfinite(dollars)
        return float(dollars[ok].mean()) if ok.any() else float("nan")
