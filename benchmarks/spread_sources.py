"""Where the replicate spread of Llama's month-24 token share comes from (issue 12, docs/performance.md).

The model splits its rng into four streams (population, provider schedules, licence approvals, dynamics: adoption,
re-choice and taste shocks). This script reruns the open strategy of a scenario R times to month 24 while only some
streams change between replicates (the others keep replicate 0's stream), and prints the SD over replicates of Llama's
token share for each design. It also splits the share by stratum (named giants, the one-row-per-firm tail, the
sampled body) into additive variance contributions, cov(share_s, share) / var(share), and reports how concentrated the
month-24 tokens are (share of the top 10 and top 100 rows, largest body row). The "implied SD" is what independent
choices of the rows alone would give, sqrt(sum_i w_i^2 p (1 - p)) with w_i a row's share of month-24 tokens and p
Llama's share in its stratum: for rows of weight 1 that is the real firms' own randomness (genuine), for body rows
it is sampling error (a body row's one choice stands for hundreds of firms that would choose independently).

    .venv/bin/python benchmarks/spread_sources.py [--population 20000] [--replications 10]

A diagnostic only: it subclasses the model to pick the streams and never edits the engine.
"""

from __future__ import annotations

import argparse

import numpy as np

from sim.catalog import IS_LLAMA
from sim.loading import load_scenario
from sim.market import LLMMarket
from sim.population import POPULATION_STREAMS
from sim.runner import derive_seed

STREAMS = ("population", "schedules", "licence", "dynamics")


class _PopDraws:
    """Stands in for the population's Generator: of the children :func:`sim.population.draw_population` spawns (one
    per attribute), those in ``varying`` come from the run's own stream, the others from the reference stream."""

    def __init__(self, own: np.random.Generator, ref: np.random.Generator, varying: frozenset[str]):
        self._own, self._ref, self._varying = own, ref, varying

    def spawn(self, n: int):
        own, ref = self._own.spawn(n), self._ref.spawn(n)
        return [own[i] if POPULATION_STREAMS[i] in self._varying else ref[i] for i in range(n)]


class _Streams:
    """Stands in for the model's Generator: ``spawn(4)`` gives the streams of the run's own seed, except those
    listed in ``fixed``, which come from the reference seed (replicate 0)."""

    def __init__(self, real: np.random.Generator, ref_seed: int, fixed: frozenset[str], pop_varying=None):
        self._real, self._ref, self._fixed, self._pop = real, ref_seed, fixed, pop_varying

    def spawn(self, n: int):
        own = self._real.spawn(n)
        ref = np.random.default_rng(self._ref).spawn(n)
        out = [ref[i] if STREAMS[i] in self._fixed else own[i] for i in range(n)]
        if self._pop is not None:
            out[0] = _PopDraws(own[0], ref[0], self._pop)
        return out

    def __getattr__(self, name):
        return getattr(self._real, name)


def probe_class(ref_seed: int, fixed: frozenset[str], pop_varying: frozenset[str] | None = None) -> type:
    class Probe(LLMMarket):
        @property
        def rng(self):
            return self._probe_rng

        @rng.setter
        def rng(self, g):
            self._probe_rng = g if isinstance(g, _Streams) else _Streams(g, ref_seed, fixed, pop_varying)

    return Probe


def month24(scenario, seed: int, cls: type) -> dict:
    """Run the open strategy to month 24 and measure the token share and its make-up."""
    m = cls(scenario, strategy="open", seed=seed)
    for _ in range(25):
        m.step()
    row = m.rows[24]
    share = row["share_tokens.llama_hosted"] + row["share_tokens.llama_self"]
    d = m.devs
    on = d.choice >= 0
    tok = np.where(on, d.volume.astype(np.float64) * m.offer.jevons[np.maximum(d.choice, 0)], 0.0)
    llama = np.where(on, tok * np.append(IS_LLAMA, False)[d.choice], 0.0)
    total = tok.sum()
    g = len(m.consumers.giant_rows)
    n = d.n
    strata = {"giants": slice(n - g, n), "tail": slice(d.body_rows, n - g), "body": slice(0, d.body_rows)}
    out = {"share": share, "check": llama.sum() / total}
    for name, s in strata.items():
        out[f"llama.{name}"] = llama[s].sum() / total
        out[f"tokens.{name}"] = tok[s].sum() / total
    for name, rows in (("one_per_firm", slice(d.body_rows, n)), ("body", strata["body"])):
        w = tok[rows] / total
        p_s = llama[rows].sum() / tok[rows].sum() if tok[rows].sum() > 0 else 0.0
        out[f"implied_var.{name}"] = float((w**2).sum() * p_s * (1.0 - p_s))
    top = np.sort(tok)[::-1]
    out["top10"], out["top100"] = top[:10].sum() / total, top[:100].sum() / total
    out["max_body_row"] = tok[: d.body_rows].max() / total if d.body_rows else 0.0
    out["giants_on_llama"] = int(np.append(IS_LLAMA, False)[d.choice[m.consumers.giant_rows]].sum())
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("scenario", nargs="?", default="baseline", help="preset or YAML (default baseline)")
    p.add_argument("--population", type=int, default=20_000, help="developers (default 20000)")
    p.add_argument("--replications", type=int, default=10, help="replicates (default 10)")
    p.add_argument("--designs", default="all,only:population,only:schedules,only:licence,only:dynamics,"
                   "fix:population", help="comma-separated designs: all, only:<stream>, fix:<stream>, "
                   f"pop:<{'|'.join(POPULATION_STREAMS)}> (only that population draw varies)")
    a = p.parse_args()
    s = load_scenario(a.scenario, population=a.population)
    seeds = [derive_seed(s.seed, r) for r in range(a.replications)]
    print("| streams varying | SD share | mean share | SD giants | SD tail | SD body | "
          "var: giants / tail / body | top 10 rows | top 100 rows | largest body row | giants on Llama | "
          "implied SD: weight-1 rows / body |")
    print("|---|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|---|")
    for design in a.designs.split(","):
        kind, _, stream = design.partition(":")
        pop = frozenset({stream}) if kind == "pop" else None
        fixed = (frozenset() if kind == "all" else frozenset({stream}) if kind == "fix"
                 else frozenset(STREAMS) - {"population" if kind == "pop" else stream})
        cls = probe_class(seeds[0], fixed, pop)
        res = [month24(s, seed, cls) for seed in seeds]
        col = {k: np.array([r[k] for r in res]) for k in res[0]}
        share = col["share"]
        var = share.var(ddof=1)
        contrib = [np.cov(col[f"llama.{x}"], share, ddof=1)[0, 1] / var if var > 1e-12 else np.nan
                   for x in ("giants", "tail", "body")]
        varying = {"all": "all", "only": stream, "fix": f"all but {stream}", "pop": f"population: {stream}"}[kind]
        print(f"| {varying} | {share.std(ddof=1):.4f} | {share.mean():.4f} | "
              f"{col['llama.giants'].std(ddof=1):.4f} | {col['llama.tail'].std(ddof=1):.4f} | "
              f"{col['llama.body'].std(ddof=1):.4f} | {' / '.join(f'{c:.2f}' for c in contrib)} | "
              f"{col['top10'].mean():.3f} | {col['top100'].mean():.3f} | {col['max_body_row'].mean():.4f} | "
              f"{col['giants_on_llama'].mean():.1f} | {np.sqrt(col['implied_var.one_per_firm'].mean()):.4f} / "
              f"{np.sqrt(col['implied_var.body'].mean()):.4f} |", flush=True)


if __name__ == "__main__":
    main()
