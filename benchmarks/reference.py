"""The developers' choice dynamics written the plain mesa way: the reference for correctness and speed.

Each developer is a mesa ``Agent`` whose ``step()`` reads like the rule it implements: a firm that has not adopted
adopts with the Bass hazard p + q A/N (Bass 1969; A and N counted in real firms, each row standing for ``weight`` of
them); an adopter re-chooses with probability ``rechoice_rate``, or must when its option is withdrawn, licence-blocked
or beyond its capability; a chooser scores every option by the utility of docs/model.md ("Choice") in plain Python,
adds a Gumbel taste shock drawn from ``model.rng`` and takes the best (McFadden 1974). A re-chooser may also take the
outside option (leave LLMs, utility u0) and becomes a non-adopter again, and with ``adoption.entry_outside`` so may a
firm the hazard reaches (it stays out). With two tasks an agentic firm reads its own column of the distrust matrix
(where the option table carries what agentic work adds) and its tokens grow at their own pace. The model steps them with
``agents_by_type[Developer].shuffle_do("step")`` (the providers, also agents, have no step of their own) and counts
them one by one.

Everything else is the engine's own: :class:`ReferenceMarket` subclasses :class:`sim.market.LLMMarket`, so the
population, providers, option table, licence and ledgers are identical and only the developer part is replaced. On
the same scenario its aggregate outputs match the vectorized engine's statistically (tests/test_reference.py), and
its speed is the denominator of the engine's speed-up (benchmarks/engine.py).
"""

from __future__ import annotations

import math
from types import SimpleNamespace

import mesa
import numpy as np

from sim.config import SEGMENTS
from sim.market import LLMMarket

N_SEG = len(SEGMENTS)


def box_cox(x: float, lam: float) -> float:
    """(x^lambda - 1) / lambda, ln x at lambda = 0, with x floored at 1e-12 (as the engine's)."""
    x = max(x, 1e-12)
    return math.log(x) if lam == 0.0 else (x**lam - 1.0) / lam


class Developer(mesa.Agent):
    """One firm building on LLMs: fixed attributes copied from the drawn population, and its current option."""

    def __init__(self, model: ReferenceMarket, row: int):
        super().__init__(model)
        d = model.devs
        self.row = row  # its row in the population arrays (the licence and ledgers read them)
        self.segment = int(d.segment[row])
        self.tokens = float(d.tokens[row])
        self.volume = float(d.volume[row])
        self.weight = float(d.weight[row])  # real firms this row stands for
        self.sensitivity = float(d.sensitivity[row])
        self.capability = float(d.capability[row])
        self.agentic = model.developers_tasks_on and bool(d.task[row])  # its work is agentic (two tasks)
        self.group = self.segment + N_SEG * int(self.agentic)  # its column of the option table's distrust matrix
        self.choice = -1  # option index; -1 = not adopted
        self.chosen_at = 0  # month it last changed option

    def step(self) -> None:
        """Adopt (Bass), or re-choose (voluntarily or because the current option is no longer open to the firm)."""
        m = self.model
        if self.choice < 0:
            if m.rng.random() < m.developers.adoption_hazard:
                self.choose(may_leave=m.developers.entrants_may_leave)  # with entry_outside, it may stay out
            return
        if self.must_leave() or m.rng.random() < m.developers.rechoice_rate:
            self.choose(may_leave=True)

    def must_leave(self) -> bool:
        o = self.model.developers.offer
        j = self.choice
        return (not o.available[j] or self.licence_blocks(j)
                or (o.is_self[j] and self.capability < o.selfhost_capability))

    def licence_blocks(self, j: int) -> bool:
        """Whether a licence clause that covers option j keeps this firm off it."""
        return bool(self.model.developers.offer.licence_bits[j] & int(self.model.licence.blocked[self.row]))

    def utility(self, j: int) -> float:
        """U_ij without the taste shock (docs/model.md, "Choice"); -inf when option j is not open to this firm.

        The cost term is alpha g(c_ij / c_ref,i): g the Box-Cox transform, c_ij the firm's bill per token on j (the
        price per base token, plus for self-hosting its fixed cost spread over its tokens and cut by its capability)
        and c_ref,i / tokens_i the reference price."""
        m = self.model
        o = m.developers.offer
        if not o.available[j] or (o.is_self[j] and self.capability < o.selfhost_capability):
            return -math.inf
        if self.licence_blocks(j):
            return -math.inf
        tokens = self.tokens * m.usage * (m.developers.agentic_growth if self.agentic else 1.0)
        bill = o.price[j] + (1.0 - o.capability_discount * self.capability) * o.fixed_cost[j] / tokens
        u = o.base[j] - o.alpha * box_cox(bill / o.reference_price, o.cost_lambda)
        u += o.beta_own * o.ownership[j] * self.sensitivity
        u -= min(o.beta_leak * o.leak[j] * self.sensitivity, o.private_cap[j])
        u -= o.trust[j][self.group]
        if self.choice >= 0 and j != self.choice:
            u -= o.switching_cost
        return u

    def outside_utility(self) -> float:
        """U_i0 without the taste shock: u0, less the switching cost for an adopter (leaving moves it off its
        option, as in the engine's hot path :func:`sim.choice.logit_choice`)."""
        o = self.model.developers.offer
        return o.outside - (o.switching_cost if self.choice >= 0 else 0.0)

    def choose(self, may_leave: bool) -> None:
        """Gumbel-max over the options, and the outside option (-1) when ``may_leave``: the highest utility plus mu
        times a standard Gumbel shock wins."""
        m = self.model
        k = m.catalog.K
        shocks = m.rng.gumbel(size=k + 1).tolist()
        best, pick = -math.inf, -1
        for j in range(k):
            u = self.utility(j)
            if u == -math.inf:
                continue
            u += m.developers.offer.noise_scale * shocks[j]
            if u > best:
                best, pick = u, j
        if may_leave and math.isfinite(m.developers.offer.outside):
            if self.outside_utility() + m.developers.offer.noise_scale * shocks[k] > best:
                pick = -1
        if self.choice < 0 and may_leave:  # reached by the Bass hazard, free to stay out
            m.developers.reached += self.weight
            m.developers.declined += self.weight if pick < 0 else 0.0
        if pick != self.choice:
            if self.choice >= 0:
                m.developers.switchers += self.weight
            self.chosen_at = m.month
        self.choice = pick


class ReferenceDevelopers:
    """The developers' phase of :class:`ReferenceMarket`: one mesa Agent per firm, stepped in random order."""

    def __init__(self, model: ReferenceMarket):
        self.model = model
        self.adopted = 0.0  # real firms that have adopted
        self.firms = 0.0  # real firms in all
        self.adoption_hazard = 0.0
        self.rechoice_rate = 0.0
        self.switchers = 0.0
        self.reached = self.declined = 0.0  # firms the Bass hazard reached this month, and those who stayed out
        self.offer = None
        self.entrants_may_leave = False
        self.agentic_growth = 1.0
        model.developers_tasks_on = model.cfg.population.tasks.agentic_share > 0
        d = model.devs  # what the engine's record reads of its developers' phase (two tasks)
        self.group = (d.segment + N_SEG * d.task).astype(np.int8) if model.developers_tasks_on else None
        self.agentic_tokens = None
        for row in range(model.devs.n):
            self.firms += Developer(model, row).weight
        self.agents = model.agents_by_type[Developer]
        self.total = float(model.devs.weight.astype(np.float64).sum())  # real firms, summed as the engine's tally

    def choose(self, t: int, cfg, offer, co, licence, usage: float) -> None:
        ad, ch = cfg.adoption, cfg.choice
        if t == 0:
            self.adoption_hazard = ad.initial_adopted
            self.rechoice_rate = 0.0
        else:
            self.adoption_hazard = min((ad.bass_p + ad.bass_q * self.adopted / self.firms) / 12.0, 1.0)
            self.rechoice_rate = ad.rechoice_rate
        self.entrants_may_leave = ad.entry_outside and t > 0
        self.agentic_growth = cfg.population.tasks.agentic_token_growth ** (t / 12.0)
        opt, cat = offer.table, self.model.catalog
        self.offer = SimpleNamespace(
            available=opt.available.tolist(), base=opt.base.tolist(), price=opt.price.tolist(),
            fixed_cost=opt.fixed_cost.tolist(), ownership=opt.ownership.tolist(), leak=opt.leak.tolist(),
            private_cap=opt.private_cap.tolist(), trust=opt.trust_matrix(co).tolist(), outside=float(opt.outside),
            licence_bits=opt.licence_bits.tolist(), is_self=cat.IS_SELF.tolist(),
            alpha=ch.alpha_price, reference_price=ch.budget_per_mtok, cost_lambda=ch.cost_lambda,
            capability_discount=co.capability_discount, beta_own=ch.beta_ownership, beta_leak=ch.beta_leak,
            switching_cost=ch.switching_cost, noise_scale=ch.noise_scale, selfhost_capability=ch.selfhost_capability,
        )
        self.switchers = self.reached = self.declined = 0.0
        self.agents.shuffle_do("step")

    def count(self, t: int, usage: float, tokens_per_base: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Count real firms by option and segment and sum token volumes (at this month's usage and each option's
        price response), agent by agent; the population's ``choice`` and ``chosen_at`` arrays are kept in step so
        that the engine's ledgers (private tiers) and checks read the same state."""
        k = self.model.catalog.K
        users = [[0.0] * N_SEG for _ in range(k + 1)]
        tokens, agentic = [0.0] * k, [0.0] * k
        rows, choices, since = [], [], []
        for dev in self.agents:
            users[dev.choice + 1][dev.segment] += dev.weight
            if dev.choice >= 0:
                tokens[dev.choice] += dev.volume * (self.agentic_growth if dev.agentic else 1.0)
                agentic[dev.choice] += dev.volume * self.agentic_growth if dev.agentic else 0.0
            rows.append(dev.row)
            choices.append(dev.choice)
            since.append(dev.chosen_at)
        d = self.model.devs
        d.choice[rows], d.chosen_at[rows], d.clock = choices, since, self.model.month
        self.adopted = self.firms - sum(users[0])
        if self.group is not None:
            self.agentic_tokens = np.array(agentic) * usage * tokens_per_base
        return np.array(users), np.array(tokens) * usage * tokens_per_base


class ReferenceMarket(LLMMarket):
    """:class:`sim.market.LLMMarket` with developers as per-agent mesa Agents (same arguments): only its developers'
    phase is replaced."""

    def __init__(self, scenario, strategy: str | None = None, seed: int | None = None):
        super().__init__(scenario, strategy=strategy, seed=seed)
        self.developers = ReferenceDevelopers(self)
