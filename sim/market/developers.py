"""The developers' month (docs/model.md, "Adoption and choice"): who chooses, and what they pick.

Non-adopters adopt with the Bass hazard p + q A/N (Bass 1969); a share of adopters re-chooses, and anyone whose
option disappeared, who lost the licence or who can no longer self-host must. Choosers pick by the logit rule of
:mod:`sim.choice`. The population lives in numpy arrays (:class:`sim.population.Developers`); no step passes over all
N firms, and the counts by option are kept current by the movers (:class:`sim.population.Tally`).
"""

from __future__ import annotations

import numpy as np

from sim import kernels
from sim.choice import bernoulli_indices, logit_choice, nested_logit_choice
from sim.population import N_SEG, Developers, Tally
from sim.streams import MonthStreams, uniform_float32

_DRAWN_MONTHLY, _FORCED_SHOCKS = (0, 1, 2), 3  # month streams: adoption, re-choice, taste shocks; forced shocks


class DeveloperMarket:
    """The firms' choices, month by month, and their counts by option.

    Random numbers are drawn only for firms that act: adoption and re-choice candidates are drawn over all N by
    geometric gaps and kept if in the right state (the same Bernoulli(p) per firm as drawing among those in that
    state). Streams per month: adoption, re-choice, the taste shocks of new and voluntary choosers (the same firms
    whatever Meta does, so paired runs share them), and the shocks of forced choosers (which depend on the strategy,
    so they cannot shift the others).
    """

    def __init__(self, devs: Developers, cfg, cat, rng: np.random.Generator):
        self.devs, self.k, self.family_of = devs, cat.K, cat.FAMILY_OF
        self.self_or_none = np.append(cat.IS_SELF, False)
        self.tally = Tally(devs, cat.K)  # firms and tokens by option, kept current by choose()
        self.can_self = devs.capability >= cfg.choice.selfhost_capability
        self._selfhost_bar = cfg.choice.selfhost_capability
        self._licence_seen: tuple = (-1, None)  # (licence version, clause bits of the options) last checked
        init_rng = rng.spawn(1)[0]
        self.month_streams = MonthStreams(rng, 4)  # see _DRAWN_MONTHLY and _FORCED_SHOCKS
        self.initial_adopters = bernoulli_indices(init_rng, devs.n, cfg.adoption.initial_adopted)
        self.switchers = 0.0  # adopters (real firms) who changed option this month
        self.reached = self.declined = 0.0  # firms the Bass hazard reached this month, and those who stayed out
        self.total = self.tally.total  # real firms in all
        self.tasks = cfg.population.tasks
        self.group = None  # two tasks: agentic firms choose in their own (segment, task) group and count apart
        if self.tasks.agentic_share > 0:
            self.group = (devs.segment + N_SEG * devs.task).astype(np.int8)
            agentic, code = devs.task == 1, devs.choice.astype(np.intp) + 1
            self.agentic_volume = np.bincount(code[agentic], weights=devs.volume[agentic],
                                              minlength=cat.K + 1)  # M tokens of agentic firms by option + 1
        self.agentic_tokens: np.ndarray | None = None  # this month's M tokens of agentic work by option

    def choose(self, t: int, cfg, offer, co, licence, usage: float) -> None:
        """Bass adoption, voluntary re-choice and forced re-choice, then one vectorized logit draw per group.
        Adopters who re-choose may also take the outside option (leave LLMs), and with ``adoption.entry_outside`` so
        may the firms the Bass hazard reaches (they stay out), so adoption answers price and quality at entry too."""
        d, ad = self.devs, cfg.adoption
        adopt_rng, rechoice_rng, noise_rng = self.month_streams.at(t, *_DRAWN_MONTHLY)
        d.clock = t
        if t == 0:
            adopting = self.initial_adopters
        else:
            hazard = min((ad.bass_p + ad.bass_q * self.tally.adopters / self.tally.total) / 12.0, 1.0)
            adopting = bernoulli_indices(adopt_rng, d.n, hazard)
        entrants_may_leave = ad.entry_outside and t > 0  # firms on LLMs at the start have adopted already
        choosers = kernels.choosers(adopting, bernoulli_indices(rechoice_rng, d.n, ad.rechoice_rate), d.choice,
                                    entrants_may_leave)

        groups = [(choosers, noise_rng)]
        forced = self.forced_choosers(choosers, cfg, offer, licence)
        if forced.size:
            forced_rng, = self.month_streams.at(t, _FORCED_SHOCKS)
            groups.append(((forced, d.choice[forced], np.ones(forced.size, dtype=bool)), forced_rng))
        self.switchers = self.reached = self.declined = 0.0
        for (who, old, may_leave), rng in groups:
            if who.size:
                self.pick(t, who, old, may_leave, rng, offer.table, co, licence.blocked, usage,
                          cfg.choice.family_nesting)

    def pick(self, t, who, old, may_leave, rng, table, co, blocked_all, usage: float, lam: float = 1.0) -> None:
        """One logit draw for the firms ``who`` (their current options ``old``), settled into the arrays and counts:
        the plain logit, or the nested logit by family when ``lam`` < 1 (its nest draws come after the options')."""
        d, two_tasks = self.devs, self.group is not None
        # agentic firms: their own group's utilities (group = segment + N_SEG), and their faster token growth
        tokens, sensitivity, capability, volume, weight, group, segment, blocked = d.attributes_of(
            who, blocked_all, usage, self.group, self.agentic_growth(t) if two_tasks else 1.0)
        uniforms = uniform_float32(rng, (self.k + 1, who.size))
        if lam < 1.0:
            nest_uniforms = uniform_float32(rng, (int(self.family_of.max()) + 2, who.size))
            picked = nested_logit_choice(table, co, tokens, sensitivity, capability, group, old, blocked, uniforms,
                                         nest_uniforms, self.family_of, lam, may_leave)
        else:
            picked = logit_choice(table, co, tokens, sensitivity, capability, group, old, blocked, uniforms,
                                  may_leave)
        # writes choice and chosen_at, moves the tally's counts in place, and sums the agentic movers'
        # volume (leaving their old option, joining their new one) and the entrants who may stay out
        tally = self.tally
        switched, agentic, reached, declined = kernels.settle_and_count(
            who, picked, old, segment, group, volume, weight, may_leave, two_tasks, t, d.choice, d.chosen_at,
            tally.users_seg, tally.tokens, tally.rows, self.k + 1, N_SEG)
        self.switchers += float(switched.sum())
        if two_tasks:
            self.agentic_volume += agentic
        self.reached += reached
        self.declined += declined

    def forced_choosers(self, choosers, cfg, offer, licence) -> np.ndarray:
        """Adopters who must re-choose this month and are not re-choosing anyway (sorted rows): firms on an option
        withdrawn this month (rare: found by a full pass only then), unapproved firms above a licence's threshold
        on a model it covers (a handful), firms on a self-hosted option they can no longer run. Those already among
        the voluntary ``choosers`` stay on the paired stream."""
        d = self.devs
        forced = [self.selfhost_misfits(cfg.choice.selfhost_capability)]
        gone = ~offer.available & (self.tally.rows[1:] > 0)
        if gone.any():
            forced.append(np.flatnonzero(np.append(gone, False)[d.choice]))
        blocked, bits_now = licence.blocked_rows, (licence.version, offer.table.licence_bits)
        fresh = bits_now[0] != self._licence_seen[0] or bits_now[1] is not self._licence_seen[1]
        self._licence_seen = bits_now  # a blocked firm never picks what blocks it: only a new block can force it
        if blocked.size and fresh:  # the bits of each blocked firm's option (-1, not adopted, reads the appended 0)
            bits = np.append(offer.table.licence_bits, np.uint16(0))[d.choice[blocked]]
            forced.append(blocked[(bits & licence.blocked[blocked]) != 0])
        forced = np.unique(np.concatenate(forced)) if any(f.size for f in forced) else np.empty(0, dtype=np.intp)
        who, old, _ = choosers
        voluntary = who[old >= 0] if forced.size else forced  # adopters re-choosing anyway (sorted: one block)
        if voluntary.size:
            at = np.minimum(np.searchsorted(voluntary, forced), voluntary.size - 1)
            forced = forced[voluntary[at] != forced]
        return forced

    def selfhost_misfits(self, bar: float) -> np.ndarray:
        """Firms on a self-hosted option they cannot run. Choosers never pick an option masked for them, so misfits
        appear only when an event raises ``choice.selfhost_capability``: the full pass runs only in that month."""
        if bar == self._selfhost_bar:
            return np.empty(0, dtype=np.intp)
        self._selfhost_bar = bar
        self.can_self = self.devs.capability >= bar
        return np.flatnonzero(~self.can_self & self.self_or_none[self.devs.choice])

    def agentic_growth(self, t: int) -> float:
        """Agentic token use per firm relative to general work's growth since month 0."""
        return self.tasks.agentic_token_growth ** (t / 12.0)

    def count(self, t: int, usage: float, tokens_per_base: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Real firms by (option + 1, segment) (row 0: not adopted) and market M tokens by option, this month (with
        two tasks, agentic work's tokens grow at their own pace and are kept in ``agentic_tokens``)."""
        if self.group is None:
            return self.tally.users_seg.copy(), self.tally.tokens * usage * tokens_per_base
        agentic = np.maximum(self.agentic_volume[1:], 0.0)
        general = np.maximum(self.tally.tokens - agentic, 0.0)
        self.agentic_tokens = agentic * usage * self.agentic_growth(t) * tokens_per_base
        return self.tally.users_seg.copy(), general * usage * tokens_per_base + self.agentic_tokens
