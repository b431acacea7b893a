"""The consumer AI layer (docs/model.md, "Consumer AI"): people's AI use split among products by a logit.

Meta's case for open weights is that AI is a complement of its apps (Zuckerberg's open-source letter, 2024): if the
models are commodities, reach decides who wins consumers and Meta's 3 billion users win. If the best model wins
whatever the reach ("AI is the product", the case Zuckerberg called "trickier"), Meta needs the best model, and an
open Llama arms every app built on it. One parameter v in [0, 1] moves between the two worlds:

    U_k = v beta_c Q_k / 100 + (1 - v) delta ln(reach_k) + brand_k

Q_k is the quality of the model product k runs on: Meta AI runs on Meta's model (or a bought one), each lab's
assistant on its own, and third-party apps on what the platform segment of the developer population chose (the named
giants as ``platforms``, the rest as ``apps``): Llama where the licence lets them, a Meta API where Meta sells it,
any closed API or the other open families. Pure functions; the model supplies the inputs.
"""

from __future__ import annotations

import math

import numpy as np

from sim import kernels
from sim.catalog import DEFAULT
from sim.config import month_index

META_AI = DEFAULT.PRODUCT["meta_ai"]  # first in every catalogue
PLATFORMS, APPS = DEFAULT.PRODUCT["platforms"], DEFAULT.PRODUCT["apps"]  # of the built-in catalogue


def consumer_users(cfg, t: int) -> float:
    """A(t): people using consumer AI products in month t (grows by a factor a year up to a ceiling)."""
    c = cfg.consumer
    return float(min(c.users_start * c.users_growth_per_year ** (t / 12.0), c.users_max))


class ConsumerTerms:
    """The consumer layer's inputs that depend on the scenario alone (launch months, the attention schedule, brands),
    read once per run and again after an event edits the scenario, not every month."""

    def __init__(self, cfg, catalog=DEFAULT):
        c = cfg.consumer
        self.cfg, self.products = cfg, catalog.PRODUCTS
        self.launch = np.array([month_index(cfg.start, getattr(c, k).launch) for k in self.products])
        self.risk_months = np.array([month_index(cfg.start, p.date) for p in c.attention_at_risk], dtype=float)
        self.risk_values = np.array([p.value for p in c.attention_at_risk], dtype=float)
        self.brand = np.array([getattr(c, k).brand for k in self.products])
        self.brands = self.brand.tolist()
        self.reach = np.array([getattr(c, k).reach for k in self.products], dtype=float)
        self.use = np.array([getattr(c, k).use_per_user for k in self.products], dtype=float)
        self.uniform_use = bool((self.use == 1.0).all())  # shares of use are the shares of users
        self._risk: list[float] = []

    def attention_at_risk(self, t: int) -> float:
        """a(t): the share of Meta's ad-relevant time AI products can take, linear between dated points. Computed
        for the whole horizon in one call on first use (these terms are rebuilt when an event edits the scenario)."""
        if t >= len(self._risk):
            months = np.arange(max(t + 1, self.cfg.horizon_months), dtype=float)
            self._risk = np.interp(months, self.risk_months, self.risk_values).tolist()
        return self._risk[t]

    def use_shares(self, shares: np.ndarray) -> np.ndarray:
        """Shares of consumer AI use from shares of users: each weighed by its product's use per user (the same
        array when every product is used alike)."""
        if self.uniform_use:
            return shares
        weighted = shares * self.use
        total = weighted.sum()
        return weighted / total if total > 0 else weighted

    def launched(self, t: int) -> np.ndarray:
        """Which products exist in month t (by their launch dates)."""
        return self.launch <= t

    def shares(self, quality: np.ndarray, reach: np.ndarray, available: np.ndarray,
               unit_cost: np.ndarray | None = None) -> np.ndarray:
        """The logit shares of consumer AI use over the products (0 for products not available). With
        ``consumer.cost_weight`` (alpha_c) and the $/M tokens of the model each product runs on (``unit_cost``, NaN:
        unknown), each utility loses alpha_c ln(cost / choice.budget_per_mtok). A handful of products: plain floats,
        which cost less here than array calls."""
        costs = unit_cost.tolist() if unit_cost is not None else [math.nan] * len(self.products)
        return self.softmax([self.utility(k, q, r, ok, cost) for k, (q, r, ok, cost) in
                             enumerate(zip(quality.tolist(), reach.tolist(), available.tolist(), costs, strict=True))])

    def utility(self, k: int, q: float, r: float, ok: bool, cost: float = math.nan) -> float:
        """U_k of product ``k`` on a model of quality ``q`` and $/M tokens ``cost`` with reach ``r`` (-inf when not
        available): the consumer layer recomputes only Meta AI's when it weighs where Meta's products run."""
        c, v = self.cfg.consumer, self.cfg.market.ai_is_the_product
        if not (ok and math.isfinite(q) and r > 0):
            return -math.inf
        u = v * c.beta_quality * q / 100.0 + (1.0 - v) * c.reach_weight * math.log(r) + self.brands[k]
        if c.cost_weight and math.isfinite(cost):
            u = u - c.cost_weight * math.log(max(cost, 1e-12) / self.cfg.choice.budget_per_mtok)
        return u

    def shares_on(self, base: list[float], k: int, quality: np.ndarray, cost: np.ndarray, reach: float,
                  live: bool) -> tuple[np.ndarray, np.ndarray]:
        """The shares with product ``k`` on each of several models (a row per quality and $/M tokens, NaN: no cost
        term), the other products' utilities ``base`` held, and product k's share of use on each row: :meth:`utility`,
        :meth:`softmax` and :meth:`use_shares` for every model Meta's products could run on, in one compiled pass
        (:func:`sim.kernels.consumer_shares`, value for value)."""
        c, v = self.cfg.consumer, self.cfg.market.ai_is_the_product
        ok = bool(live) and reach > 0
        reach_term = (1.0 - v) * c.reach_weight * math.log(reach) if ok else 0.0
        return kernels.consumer_shares(np.asarray(base, dtype=np.float64), k, quality, cost, ok, v * c.beta_quality,
                                       reach_term, self.brands[k], float(c.cost_weight),
                                       float(self.cfg.choice.budget_per_mtok), self.use, self.uniform_use)

    def softmax(self, u: list[float]) -> np.ndarray:
        """Shares from utilities (all -inf: none)."""
        top = max(u)
        if top == -math.inf:
            return np.zeros(len(self.products))
        e = [math.exp(x - top) for x in u]
        total = 0.0
        for x in e:  # in order, as numpy sums six numbers (Python's sum() compensates: another last bit)
            total += x
        return np.array([x / total for x in e])

def shares(cfg, quality: np.ndarray, reach: np.ndarray, available: np.ndarray) -> np.ndarray:
    """:meth:`ConsumerTerms.shares` of a scenario."""
    return ConsumerTerms(cfg).shares(quality, reach, available)
