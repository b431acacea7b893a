"""What the month's choices and books read from the scenario alone, not from the market (docs/architecture.md)."""

from __future__ import annotations

import numpy as np

from sim import consumer
from sim.catalog import CLOSED_LABS, CLOSED_OPTIONS, IS_HOSTED_OPEN, IS_SELF, LAB_OPEN, META_API, OPTIONS, K
from sim.choice import Coefficients
from sim.config import SEGMENTS, Scenario
from sim.market.curves import dated_prices


class ScenarioTerms:
    """The choice coefficients, the options' fixed columns (brand, ownership, leak, fixed cost, the outside option),
    the consumer layer's schedules and the labs' dated list prices. Built once per run and again after an event edits
    the scenario, instead of every month (so edit a running model's scenario through events: a direct edit of
    ``model.cfg`` reaches these terms only after the next event)."""

    def __init__(self, cfg: Scenario):
        ch = cfg.choice
        trust = np.array([getattr(ch.meta_trust_penalty, s) for s in SEGMENTS], dtype=np.float32)
        self.coefficients = Coefficients(
            alpha=ch.alpha_price, budget_per_mtok=ch.budget_per_mtok, beta_own=ch.beta_ownership,
            beta_leak=ch.beta_leak, switching_cost=ch.switching_cost, mu=ch.noise_scale,
            selfhost_capability=ch.selfhost_capability, capability_discount=cfg.providers.selfhost.capability_discount,
            trust_by_segment=trust, cost_lambda=ch.cost_lambda)
        first_lab_open = min(LAB_OPEN.values())
        brand = np.array([getattr(ch.brand, o) for o in OPTIONS[:first_lab_open]]
                         + [ch.brand.open_hosted + getattr(cfg.providers, lab).open_weights.brand_premium
                            for lab in CLOSED_LABS])
        brand[META_API] += sum(getattr(ch.brand, lab) for lab in CLOSED_LABS) / len(CLOSED_LABS)  # vs the labs
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
