"""The developers' choice dynamics written the plain mesa way: the reference for correctness and speed.

Each developer is a mesa ``Agent`` whose ``step()`` reads like the rule it implements: a firm that has not adopted
adopts with the Bass hazard p + q A/N (Bass 1969); an adopter re-chooses with probability ``rechoice_rate``, or must
when its option is withdrawn, licence-blocked or beyond its capability; a chooser scores every option by the utility of
docs/model.md in plain Python, adds a Gumbel taste shock drawn from ``model.rng`` and takes the best (McFadden 1974).
The model steps them with ``agents_by_type[Developer].shuffle_do("step")`` (the providers, also agents, have no
step of their own) and counts them one by one.

Everything else is the engine's own: :class:`ReferenceMarket` subclasses :class:`sim.model.LLMMarket`, so the
population, providers, option table, licence and ledgers are identical and only the developer part is replaced. On
the same scenario its aggregate outputs match the vectorized engine's statistically (tests/test_reference.py), and
its speed is the denominator of the engine's speed-up (benchmarks/engine.py).
"""

from __future__ import annotations

import math
from types import SimpleNamespace

import mesa
import numpy as np

from sim.choice import OptionTable
from sim.config import SEGMENTS
from sim.model import LLMMarket
from sim.options import IS_LLAMA, IS_META, IS_SELF, K

N_SEG = len(SEGMENTS)


class Developer(mesa.Agent):
    """One firm building on LLMs: fixed attributes copied from the drawn population, and its current option."""

    def __init__(self, model: ReferenceMarket, row: int):
        super().__init__(model)
        d = model.devs
        self.row = row  # its row in the population arrays (the licence and ledgers read them)
        self.segment = int(d.segment[row])
        self.tokens = float(d.tokens[row])
        self.volume = float(d.volume[row])
        self.sensitivity = float(d.sensitivity[row])
        self.capability = float(d.capability[row])
        self.can_self = bool(model.can_self[row])
        self.choice = -1  # option index; -1 = not adopted
        self.months_on_choice = 0

    def step(self) -> None:
        """Adopt (Bass), or re-choose (voluntarily or because the current option is no longer open to the firm)."""
        m = self.model
        if self.choice < 0:
            if m.rng.random() < m.adoption_hazard:
                self.choose()
            return
        self.months_on_choice += 1
        if self.must_leave() or m.rng.random() < m.rechoice_rate:
            self.choose()

    def must_leave(self) -> bool:
        o = self.model.offer
        j = self.choice
        return (not o.available[j] or (o.is_llama[j] and self.model.license_blocked[self.row])
                or (o.is_self[j] and not self.can_self))

    def utility(self, j: int) -> float:
        """U_ij without the taste shock (docs/model.md); -inf when option j is not open to this firm."""
        m = self.model
        o = m.offer
        if not o.available[j] or (o.is_self[j] and self.capability < o.selfhost_capability):
            return -math.inf
        if o.is_llama[j] and m.license_blocked[self.row]:
            return -math.inf
        u = o.base[j] - o.price_weight * o.price[j]
        fixed = (1.0 - o.capability_discount * self.capability) * o.fixed_cost[j]
        u -= o.price_weight * fixed / (self.tokens * m.usage)
        u += o.beta_own * o.ownership[j] * self.sensitivity
        u -= min(o.beta_leak * o.leak[j] * self.sensitivity, o.private_cap[j])
        if o.is_meta[j]:
            u -= o.trust[self.segment]
        if self.choice >= 0 and j != self.choice:
            u -= o.switching_cost
        return u

    def choose(self) -> None:
        """Gumbel-max: the option with the highest utility plus mu times a standard Gumbel shock."""
        m = self.model
        shocks = m.rng.gumbel(size=K).tolist()
        best, pick = -math.inf, -1
        for j in range(K):
            u = self.utility(j)
            if u == -math.inf:
                continue
            u += m.offer.noise_scale * shocks[j]
            if u > best:
                best, pick = u, j
        if pick != self.choice:
            self.months_on_choice = 0
        self.choice = pick


class ReferenceMarket(LLMMarket):
    """:class:`sim.model.LLMMarket` with developers as per-agent mesa Agents (same arguments)."""

    def __init__(self, scenario, strategy: str | None = None, seed: int | None = None):
        super().__init__(scenario, strategy=strategy, seed=seed)
        self.adopted = 0
        self.adoption_hazard = 0.0
        self.rechoice_rate = 0.0
        self.offer = None
        for row in range(self.devs.n):
            Developer(self, row)
        self.developers = self.agents_by_type[Developer]

    def developers_choose(self, t: int, opt: OptionTable) -> None:
        ad, ch = self.cfg.adoption, self.cfg.choice
        if t == 0:
            self.adoption_hazard = ad.initial_adopted
            self.rechoice_rate = 0.0
        else:
            self.adoption_hazard = min((ad.bass_p + ad.bass_q * self.adopted / self.devs.n) / 12.0, 1.0)
            self.rechoice_rate = ad.rechoice_rate
        co = self.coefficients()
        self.offer = SimpleNamespace(
            available=opt.available.tolist(), base=opt.base.tolist(), price=opt.price.tolist(),
            fixed_cost=opt.fixed_cost.tolist(), ownership=opt.ownership.tolist(), leak=opt.leak.tolist(),
            private_cap=opt.private_cap.tolist(), trust=co.trust_by_segment.tolist(),
            is_llama=IS_LLAMA.tolist(), is_self=IS_SELF.tolist(), is_meta=IS_META.tolist(),
            price_weight=ch.alpha_price / ch.budget_per_mtok, capability_discount=co.capability_discount,
            beta_own=ch.beta_ownership, beta_leak=ch.beta_leak, switching_cost=ch.switching_cost,
            noise_scale=ch.noise_scale, selfhost_capability=ch.selfhost_capability,
        )
        self.developers.shuffle_do("step")

    def count_users(self) -> tuple[np.ndarray, np.ndarray]:
        """Count firms by option and segment and sum token volumes, agent by agent; the population's ``choice``
        array is kept in step so that the engine's ledgers (private tiers) and checks read the same state."""
        users = [[0] * N_SEG for _ in range(K + 1)]
        tokens = [0.0] * K
        choices = []
        for dev in self.developers:
            users[dev.choice + 1][dev.segment] += 1
            if dev.choice >= 0:
                tokens[dev.choice] += dev.volume
            choices.append(dev.choice)
        self.devs.choice[[dev.row for dev in self.developers]] = choices
        self.adopted = self.devs.n - sum(users[0])
        return np.array(users, dtype=np.int64), np.array(tokens)
