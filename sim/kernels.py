"""Compiled loops (numba) for the developers' month: picking the choosers, gathering their attributes, the logit's
bills, utility terms and best option, settling the picks into the counts, and the gaps of the Bernoulli draws.

Why: a month's choosers number about a thousand per 20,000 firms, so a run of small numpy calls (one per option and
term) costs more in call overhead than in arithmetic, and decision analysis lives on many such runs. Each loop does,
element by element, exactly the float32 or float64 operations of the array code it replaced, in the same order, so
every seeded result is unchanged. What numba's math would round differently stays in numpy and comes in as arrays:
the float32 logarithms of the Gumbel shocks and of the Box-Cox cost term, and the random draws themselves.
"""

from __future__ import annotations

import math

import numba
import numpy as np

_NINF = np.float32(-np.inf)


@numba.njit(cache=True)
def bills(price, fixed_cost, tokens, capability, budget, discount):
    """Each option's bill relative to the firm's reference bill, the input of the Box-Cox cost term (float32): the
    first K entries are price_j / p_ref; then, for each option with a fixed cost in turn, one entry per firm,
    fixed_j (1 - discount cap_i) / (tokens_i p_ref) + price_j / p_ref."""
    k, m = price.size, tokens.size
    n_fixed = 0
    for j in range(k):
        n_fixed += fixed_cost[j] != 0
    out = np.empty(k + n_fixed * m, dtype=np.float32)
    for j in range(k):
        out[j] = price[j] / budget
    per_fixed = np.empty(m if n_fixed else 0, dtype=np.float32)  # the same for every option with a fixed cost
    for i in range(per_fixed.size):
        per_fixed[i] = (np.float32(1.0) - discount * capability[i]) / tokens[i] / budget
    at = k
    for j in range(k):
        if fixed_cost[j] != 0:
            for i in range(m):
                out[at + i] = fixed_cost[j] * per_fixed[i] + out[j]
            at += m
    return out


@numba.njit(cache=True)
def add_utilities(z, base, cost, fixed_cost, available, ownership, leak, cap, beta_own, beta_leak, trust, distrusted,
                  segment, sensitivity, is_self, capability, selfhost_bar, licence_bits, license_blocked, current,
                  switching):
    """Add V_ij to z (K x M float32, option-major), in place, term by term as :func:`sim.choice.utilities` states it:
    the base utility less the cost term (``cost``: alpha g of the :func:`bills`, per firm for options with a fixed
    cost), plus beta_own sensitivity ownership_j, less min(beta_leak sensitivity leak_j, cap_j), less the segment's
    distrust ``trust`` of the option (K x segments; only the ``distrusted`` rows are read), -inf where the option is
    unavailable, self-hosted below ``selfhost_bar`` or under a licence clause (``licence_bits``) the firm's
    ``license_blocked`` bits share. Then ``switching`` is
    added on each staying firm's ``current`` option (``current`` empty: none)."""
    k, m = z.shape
    any_blocked = license_blocked.any()
    at = k  # where the next option with a fixed cost has its per-firm cost terms
    for j in range(k):  # one contiguous pass per term and option: loops the compiler can vectorize
        row = z[j]
        per_firm = cost[at:at + m] if fixed_cost[j] != 0 else cost[:0]
        at += per_firm.size
        if not available[j]:
            row[:] = _NINF
            continue
        if per_firm.size:
            c = base[j]
            for i in range(m):
                row[i] += c
            for i in range(m):
                row[i] -= per_firm[i]
        else:
            c = base[j] - cost[j]
            for i in range(m):
                row[i] += c
        own, lk, cp = beta_own * ownership[j], beta_leak * leak[j], cap[j]
        if own != 0:
            for i in range(m):
                row[i] += sensitivity[i] * own
        if lk != 0:
            for i in range(m):
                row[i] -= min(sensitivity[i] * lk, cp)
        if distrusted[j]:
            for i in range(m):
                row[i] -= trust[j, segment[i]]
        if is_self[j]:
            for i in range(m):
                if capability[i] < selfhost_bar:
                    row[i] = _NINF
        bits = licence_bits[j]
        if bits and any_blocked:
            for i in range(m):
                if license_blocked[i] & bits:
                    row[i] = _NINF
    if switching != 0:
        for i in range(current.size):
            j = current[i]
            if j >= 0:
                z[j, i] += switching


@numba.njit(cache=True)
def pick_best(z, offered, outside, outside_ok):
    """Per column of z ((K + 1) x M, row K the outside option), the first offered row with the largest value (int8),
    -1 where that is the outside option or -inf. The outside row gets ``outside`` added, and -inf where not
    ``outside_ok``, when ``offered[K]``."""
    k1, m = z.shape
    k = k1 - 1
    pick = np.full(m, -1, dtype=np.int8)
    if offered[k]:
        out = z[k]
        for i in range(m):
            out[i] = out[i] + outside if outside_ok[i] else _NINF
    rows = np.flatnonzero(offered)
    if rows.size == 0:
        return pick
    best = z[rows[0]].copy()
    arg = np.full(m, rows[0], dtype=np.int8)
    for j in rows[1:]:  # row by row, branch-free: a later row wins only if strictly larger
        row, code = z[j], np.int8(j)
        for i in range(m):
            later = row[i] > best[i]
            best[i] = row[i] if later else best[i]
            arg[i] = code if later else arg[i]
    for i in range(m):
        if arg[i] != k and best[i] != _NINF:
            pick[i] = arg[i]
    return pick


@numba.njit(cache=True)
def transitions(segment, volume, weight, old, new, k1, n_seg):
    """The movers' transition tables: real firms by (old + 1, new + 1, segment) and M tokens by (old + 1, new + 1),
    float64 sums in the firms' order (as ``np.bincount`` adds its weights), and rows leaving / entering each
    option + 1. Firms whose option did not change are left out."""
    flow = np.zeros((k1, k1, n_seg))
    vol = np.zeros((k1, k1))
    rows_out = np.zeros(k1, dtype=np.int64)
    rows_in = np.zeros(k1, dtype=np.int64)
    for i in range(old.size):
        a, b = old[i] + 1, new[i] + 1
        if a == b:
            continue
        flow[a, b, segment[i]] += np.float64(weight[i])
        vol[a, b] += np.float64(volume[i])
        rows_out[a] += 1
        rows_in[b] += 1
    return flow, vol, rows_out, rows_in


@numba.njit(cache=True)
def _pairwise_sum(v):
    """numpy's float64 sum of a short contiguous vector (at most 128 values): sequential below 8 values, else eight
    running sums in a fixed tree, then the remainder in order."""
    n = v.size
    if n < 8:
        total = 0.0
        for i in range(n):
            total += v[i]
        return total
    r = v[:8].copy()
    i = 8
    while i < n - n % 8:
        for j in range(8):
            r[j] += v[i + j]
        i += 8
    total = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]))
    while i < n:
        total += v[i]
        i += 1
    return total


@numba.njit(cache=True)
def apply_transitions(users_seg, tokens, rows, flow, vol, rows_out, rows_in):
    """Add the :func:`transitions` to the counts in place, as ``users_seg += flow.sum(0) - flow.sum(1)``, ``tokens
    += (vol.sum(0) - vol.sum(1))[1:]`` and the row counts, then reset options left with no row to exactly 0: the
    same float64 operations in numpy's order (sums over the first two axes in sequence, a row of ``vol`` as
    :func:`_pairwise_sum`)."""
    k1, n_seg = flow.shape[1], flow.shape[2]
    for b in range(k1):
        rows[b] = rows[b] - rows_out[b] + rows_in[b]
        for s in range(n_seg):
            gained, lost = flow[0, b, s], flow[b, 0, s]
            for a in range(1, k1):
                gained += flow[a, b, s]
                lost += flow[b, a, s]
            users_seg[b, s] += gained - lost
        if b > 0:
            gained = vol[0, b]
            for a in range(1, k1):
                gained += vol[a, b]
            tokens[b - 1] += gained - _pairwise_sum(vol[b])
    for b in range(k1):
        if rows[b] == 0:
            users_seg[b, :] = 0.0
            if b > 0:
                tokens[b - 1] = 0.0


@numba.njit(cache=True)
def settle(who, picked, old, segment, volume, weight, t, choice, chosen_at, k1, n_seg):
    """The choosers ``who`` (distinct rows) take their ``picked`` options: ``choice`` and, for those that changed,
    ``chosen_at`` = t are written in place. Returns the :func:`transitions` of the choosers and the weights of the
    adopters that changed option (in order, for a float32 sum)."""
    moved = np.empty(who.size, dtype=weight.dtype)
    n_moved = 0
    for i in range(who.size):
        if picked[i] != old[i]:
            chosen_at[who[i]] = t
            if old[i] >= 0:
                moved[n_moved] = weight[i]
                n_moved += 1
        choice[who[i]] = picked[i]
    return transitions(segment, volume, weight, old, picked, k1, n_seg) + (moved[:n_moved],)


@numba.njit(cache=True)
def settle_and_count(who, picked, old, segment, group, volume, weight, may_leave, two_tasks, t, choice, chosen_at,
                     users_seg, tokens, rows, k1, n_seg):
    """One logit draw settled in one call: :func:`settle` writes the picks, :func:`apply_transitions` moves the
    tally's counts (``users_seg``, ``tokens``, ``rows``, in place) and :func:`agentic_and_entry` sums what else
    moved. Returns the weights of the adopters that changed option, the change of agentic M tokens by option + 1,
    and the real firms the Bass hazard reached that may stay out and those that did."""
    flow, vol, rows_out, rows_in, moved = settle(who, picked, old, segment, volume, weight, t, choice, chosen_at, k1,
                                                 n_seg)
    apply_transitions(users_seg, tokens, rows, flow, vol, rows_out, rows_in)
    agentic, reached, declined = agentic_and_entry(picked, old, group, volume, weight, may_leave, two_tasks, n_seg,
                                                   k1)
    return moved, agentic, reached, declined


@numba.njit(cache=True)
def agentic_and_entry(picked, old, group, volume, weight, may_leave, two_tasks, n_seg, k1):
    """What one logit draw moved besides the counts: the change of agentic firms' M tokens by option + 1 (as
    ``np.bincount(picked + 1, v, k1) - np.bincount(old + 1, v, k1)`` over the agentic choosers, float64 sums in the
    choosers' order), and the real firms reached by the Bass hazard that may stay out and those that did (sums in
    order)."""
    gained, lost = np.zeros(k1), np.zeros(k1)
    reached, declined = 0.0, 0.0
    for i in range(picked.size):
        if two_tasks and group[i] >= n_seg:
            v = np.float64(volume[i])
            gained[picked[i] + 1] += v
            lost[old[i] + 1] += v
        if old[i] < 0 and may_leave[i]:
            reached += np.float64(weight[i])
            if picked[i] < 0:
                declined += np.float64(weight[i])
    return gained - lost, reached, declined


@numba.njit(cache=True)
def gather(who, packed, weight, codes, license_blocked, usage, growth, n_seg):
    """The choosers' attributes as contiguous arrays: (tokens x usage, sensitivity, capability, volume) from the
    packed N x 4 float32 rows (one cache line per firm), then weight, the group ``codes``, the segment and the
    licence bits. A code of ``n_seg`` or more is an agentic firm's (segment + n_seg): its tokens are also multiplied
    by ``growth`` (float32, as numpy multiplies), and its segment is the code less ``n_seg``."""
    m = who.size
    out = np.empty((4, m), dtype=np.float32)
    w, code, seg = np.empty(m, dtype=weight.dtype), np.empty(m, dtype=codes.dtype), np.empty(m, dtype=codes.dtype)
    blocked = np.empty(m, dtype=license_blocked.dtype)
    grows = growth != np.float32(1.0)
    for i in range(m):
        row = who[i]
        out[0, i] = packed[row, 0] * usage
        for a in range(1, 4):
            out[a, i] = packed[row, a]
        w[i], code[i], blocked[i] = weight[row], codes[row], license_blocked[row]
        seg[i] = code[i]
        if code[i] >= n_seg:
            seg[i] = code[i] - n_seg
            if grows:
                out[0, i] = out[0, i] * growth
    return out[0], out[1], out[2], out[3], w, code, seg, blocked


@numba.njit(cache=True)
def choosers(adopting, rechoosing, choice, entrants_may_leave):
    """This month's choosers from the candidates: those of ``adopting`` that have not adopted, then those of
    ``rechoosing`` that have. Returns (rows, their current options, may take the outside option: the adopters, and
    the entrants when ``entrants_may_leave``)."""
    who = np.empty(adopting.size + rechoosing.size, dtype=np.intp)
    old = np.empty(who.size, dtype=choice.dtype)
    may_leave = np.empty(who.size, dtype=np.bool_)
    m = 0
    for candidates, adopted in ((adopting, False), (rechoosing, True)):
        for row in candidates:
            if (choice[row] >= 0) == adopted:
                who[m], old[m], may_leave[m] = row, choice[row], adopted or entrants_may_leave
                m += 1
    return who[:m], old[:m], may_leave[:m]


@numba.njit(cache=True)
def geometric_positions(u, scale, n, last):
    """Positions after ``last`` with gaps 1 + floor(min(ln(1 - U) scale, n)) for the uniforms U in ``u``: Geometric
    gaps by inversion when scale = 1 / ln(1 - p) (see :func:`sim.choice.bernoulli_indices`)."""
    out = np.empty(u.size, dtype=np.intp)
    for g in range(u.size):
        gap = np.log(1.0 - u[g]) * scale
        if gap > n:
            gap = np.float64(n)
        last += np.intp(gap) + 1
        out[g] = last
    return out


@numba.njit(cache=True)
def gumbel_of(u):
    """A standard Gumbel from a float32 uniform, -ln(-ln(U + 2^-26)) (:func:`sim.choice.gumbel`'s shift; float64)."""
    return -np.log(-np.log(np.float64(u + np.float32(2.0**-26))))


@numba.njit(cache=True)
def nested_pick(v, nest_of, nests, lam, mu, option_uniforms, nest_uniforms, outside, outside_ok):
    """The two Gumbel-max stages of the nested logit (:func:`sim.choice.nested_logit_choice`) per chooser (column
    of v, K x M utilities, -inf where unavailable): the nest maximizing its inclusive value IV_f = lam ln sum_{j in f}
    exp(V_j / (mu lam)) plus its Gumbel (row ``nests`` of ``nest_uniforms``: the outside option, V = ``outside``,
    where ``outside_ok``), then the option of that nest maximizing V_j / (mu lam) plus its Gumbel. The Gumbels are
    made here, only for the nests and options in play, from the float32 uniforms as :func:`gumbel_of` makes them.
    int8 picks, -1 for the outside option or nothing available."""
    k, m = v.shape
    scale = mu * lam
    top = np.empty(nests)
    total = np.empty(nests)
    members = np.empty(nests, dtype=np.int64)
    out = np.empty(m, dtype=np.int8)
    for i in range(m):
        top[:] = -np.inf
        total[:] = 0.0
        members[:] = 0
        for j in range(k):
            if v[j, i] > -np.inf:
                f = nest_of[j]
                members[f] += 1
                y = v[j, i] / scale
                if y > top[f]:
                    top[f] = y
        for j in range(k):  # a nest of one option needs no exp: its inclusive value is lam times its utility
            f = nest_of[j]
            if members[f] > 1 and v[j, i] > -np.inf:
                total[f] += np.exp(v[j, i] / scale - top[f])
        best, nest = -np.inf, -1
        for f in range(nests):
            if members[f]:
                iv = lam * top[f] if members[f] == 1 else lam * (top[f] + np.log(total[f]))
                score = iv + gumbel_of(nest_uniforms[f, i])
                if score > best:
                    best, nest = score, f
        if outside_ok[i] and outside > -np.inf and outside / mu + gumbel_of(nest_uniforms[nests, i]) > best:
            nest = nests
        pick, best = -1, -np.inf
        if 0 <= nest < nests:
            for j in range(k):
                if nest_of[j] == nest and v[j, i] > -np.inf:
                    if members[nest] == 1:  # the nest's only option: no draw needed
                        pick = j
                        break
                    score = v[j, i] / scale + gumbel_of(option_uniforms[j, i])
                    if score > best:
                        best, pick = score, j
        out[i] = pick
    return out


@numba.njit(cache=True)
def consumer_shares(base, k, quality, cost, live, quality_weight, reach_term, brand, cost_weight, budget, use,
                    uniform_use):
    """The consumer logit's shares with product ``k`` on each of several models (one row a (quality, cost) pair;
    the other products' utilities ``base`` held), and product k's share of use on each row: the float64 operations
    of :meth:`sim.consumer.ConsumerTerms.utility`, ``softmax`` and ``use_shares``, in their order. Python's math.exp
    and math.log and numba's are the same C library functions, so the shares are those of the scalar code, bit for
    bit. ``cost`` NaN: no cost term; ``live`` False: the product is not on offer (utility -inf)."""
    rows, n = quality.size, base.size
    shares = np.zeros((rows, n))
    use_k = np.zeros(rows)
    u = base.copy()
    for r in range(rows):
        q = quality[r]
        if live and np.isfinite(q):
            v = quality_weight * q / 100.0 + reach_term + brand
            if cost_weight != 0.0 and np.isfinite(cost[r]):
                v = v - cost_weight * math.log(max(cost[r], 1e-12) / budget)
            u[k] = v
        else:
            u[k] = -np.inf
        top = u[0]
        for i in range(1, n):
            if u[i] > top:
                top = u[i]
        if top == -np.inf:
            continue
        total = 0.0
        for i in range(n):
            shares[r, i] = math.exp(u[i] - top)
            total += shares[r, i]
        for i in range(n):
            shares[r, i] = shares[r, i] / total
        if uniform_use:
            use_k[r] = shares[r, k]
            continue
        weighted = 0.0
        for i in range(n):
            weighted += shares[r, i] * use[i]
        mine = shares[r, k] * use[k]
        use_k[r] = mine / weighted if weighted > 0 else mine
    return shares, use_k


@numba.njit(cache=True)
def float32_from_words(words, out):
    """numpy's float32 uniforms from PCG64's 64-bit words: each word is two 32-bit draws, low half first, and a
    float32 uniform is the top 24 bits of a 32-bit draw times 2^-24 (see :func:`sim.streams.uniform_float32`)."""
    scale = np.float32(1.0 / 16777216.0)
    for i in range(words.size):
        word = words[i]
        out[2 * i] = np.float32(np.uint32(word & np.uint64(0xFFFFFFFF)) >> np.uint32(8)) * scale
        out[2 * i + 1] = np.float32(np.uint32(word >> np.uint64(32)) >> np.uint32(8)) * scale
