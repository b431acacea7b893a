"""What the month's choices and books read from the scenario alone, not from the market (docs/architecture.md)."""

from __future__ import annotations

import numpy as np

from sim import consumer
from sim.catalog import CLOSED_LABS
from sim.choice import Coefficients
from sim.config import SEGMENTS, PerOption, Scenario
from sim.market.curves import dated_prices, llama_fee_markup, reference_cost_term
from sim.market.history import Listing
from sim.market.licence import option_bits


class ScenarioTerms:
    """The choice coefficients, the options' fixed columns (brand, ownership, leak, fixed cost, the outside option),
    the consumer layer's schedules and the labs' dated list prices. Built once per run and again after an event edits
    the scenario, instead of every month (so edit a running model's scenario through events: a direct edit of
    ``model.cfg`` reaches these terms only after the next event)."""

    def __init__(self, cfg: Scenario, cat):
        ch = cfg.choice
        trust = np.array([getattr(ch.meta_trust_penalty, s) for s in SEGMENTS], dtype=np.float32)
        self.coefficients = Coefficients(
            alpha=ch.alpha_price, budget_per_mtok=ch.budget_per_mtok, beta_own=ch.beta_ownership,
            beta_leak=ch.beta_leak, switching_cost=ch.switching_cost, mu=ch.noise_scale,
            selfhost_capability=ch.selfhost_capability, capability_discount=cfg.providers.selfhost.capability_discount,
            trust_by_segment=trust, cost_lambda=ch.cost_lambda)
        brand = np.array([option_brand(cfg, cat, o) for o in cat.option_table])
        brand[cat.META_API] += sum(getattr(ch.brand, lab) for lab in CLOSED_LABS) / len(CLOSED_LABS)  # vs the labs
        self.brand = brand
        self.ownership = (cat.IS_SELF.astype(float) + cat.IS_HOSTED_OPEN * ch.hosted_ownership).astype(np.float32)
        leak = np.zeros(cat.K)
        leak[cat.CLOSED_OPTIONS] = 1.0
        self.leak = leak.astype(np.float32)
        self.fixed_cost = np.where(cat.IS_SELF, cfg.providers.selfhost.fixed_cost, 0.0).astype(np.float32)
        self.trust = distrust(cfg, cat, trust)
        self.licence_bits = option_bits(cat, cfg.providers, cfg.license.applies_to_api)  # what each clause covers
        self.outside = float(ch.beta_quality * cfg.market.frontier_start_elo / 100.0 + ch.outside_utility)
        self.consumer = consumer.ConsumerTerms(cfg, cat)
        self.open_listings = {key: Listing(cfg.start, releases) for key, releases in  # what open netting reads
                              (("meta", cfg.meta.releases),
                               *((k, getattr(cfg.providers, k).releases) for k in cat.OPEN_FAMILIES))}
        self.llama_fee_markup = llama_fee_markup(cfg)  # hosted Llama's price factor (the fee the hosts pass on)
        self.reference_cost_term_0 = reference_cost_term(cfg, 0, cfg.market.frontier_start_elo)  # u0's cost anchor
        self.start, self._schedules = cfg.start, {}

    def price_schedule(self, lab) -> list[tuple[int, float]]:
        """A lab's dated list prices (sorted on first use)."""
        if lab.key not in self._schedules:
            self._schedules[lab.key] = dated_prices(lab.params().price, self.start)
        return self._schedules[lab.key]


def option_brand(cfg, cat, option) -> float:
    """An option's brand constant in the developers' choice: set directly for the built-in options; a lab's own open
    weights take the other hosted open models' plus the lab's premium; an added provider's options take its own
    ``brand``, or that of the options of the provider it is like."""
    ch, providers = cfg.choice, cfg.providers
    if option.key in PerOption.model_fields:
        return getattr(ch.brand, option.key)
    if option.open and option.owner in cat.CLOSED_LABS:
        return ch.brand.open_hosted + getattr(providers, option.owner).open_weights.brand_premium
    added = getattr(providers, option.owner)
    if added.brand is not None:
        return added.brand
    like = added.like if added.kind == "closed_lab" else ("open_self" if option.route == "self" else "open_hosted")
    return getattr(ch.brand, like)


def distrust(cfg, cat, meta_trust: np.ndarray) -> np.ndarray:
    """The distrust penalty by option and segment (K x segments, float32): Meta's options take
    ``choice.meta_trust_penalty``, every other model maker's options its ``trust_penalty`` (a family of another
    origin that regulated or government firms avoid), the clouds none."""
    out = np.zeros((cat.K, len(SEGMENTS)), dtype=np.float32)
    for j, option in enumerate(cat.option_table):
        if option.owner == "meta":
            out[j] = meta_trust
        else:
            penalty = getattr(cfg.providers, option.owner).trust_penalty
            out[j] = [getattr(penalty, s) for s in SEGMENTS]
    return out
