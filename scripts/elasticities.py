"""Price elasticities in a scenario: of adoption itself, year by year, and of each closed lab's adopter share.

**Adoption.** Every price in the market is scaled by (1 + step): the closed labs' and Meta's list prices
(``price.multiplier``), the cost of serving open weights (``market.serving_cost_ref``, which sets hosted and
self-hosted prices) and the self-hosting fixed cost. Paired with the unscaled run (same seeds), the elasticity
d ln(adopted share) / d ln(price) is printed for each calendar year. Adoption answers price at entry only with
``adoption.entry_outside`` (firms the Bass hazard reaches may stay out); otherwise only through adopters who leave.

**Each lab's share.** A lab cuts its price by 20% for three months (a dated event), paired with the same run without
the cut (same seeds). The elasticity is (relative change of the lab's share of adopters, mean over the three months)
/ (-0.2). Under a cost term whose price competition fades as prices fall tenfold a year, the late elasticity would be
a small fraction of the early one; the log cost keeps them within a factor of two.

    .venv/bin/python scripts/elasticities.py [scenario] [--population N] [--seeds R] [--set PATH=VALUE ...]
"""

from __future__ import annotations

import argparse
import math

import numpy as np

from sim.catalog import catalog_of
from sim.config import Event, month_index
from sim.loading import load_scenario
from sim.runner import derive_seed, run_scenario, simulate

CUT, MONTHS = 0.8, 3


def elasticity(scenario, lab: str, date: str, seeds: int) -> float:
    start = month_index(scenario.start, date)
    end_date = f"{int(date[:4]) + (int(date[5:]) + MONTHS - 1) // 12}-{(int(date[5:]) + MONTHS - 1) % 12 + 1:02d}"
    cut = scenario.model_copy(deep=True)
    cut.events = [*cut.events,
                  Event(date=date, multiply={f"providers.{lab}.price.multiplier": CUT}),
                  Event(date=end_date, multiply={f"providers.{lab}.price.multiplier": 1.0 / CUT})]
    window = slice(start, start + MONTHS)
    ratios = []
    for r in range(seeds):
        seed = derive_seed(scenario.seed, r)
        base = simulate(scenario, "open", seed)[f"share_users.{lab}"].iloc[window].mean()
        moved = simulate(cut, "open", seed)[f"share_users.{lab}"].iloc[window].mean()
        ratios.append((moved - base) / base)
    return float(np.mean(ratios) / (CUT - 1.0))


def price_scaled(scenario, factor: float):
    """A copy of ``scenario`` with every price scaled by ``factor``."""
    s = scenario.model_copy(deep=True)
    for lab in (*catalog_of(s).CLOSED_LABS, "meta"):
        pricing = (s.meta if lab == "meta" else getattr(s.providers, lab)).price
        pricing.multiplier = pricing.multiplier * factor
    s.market.serving_cost_ref = s.market.serving_cost_ref * factor
    s.providers.selfhost.fixed_cost = s.providers.selfhost.fixed_cost * factor
    return s


def adoption_by_year(scenario, strategy: str, replications: int):
    """Mean adopted share of developers per calendar year, over paired replicates."""
    ts, _ = run_scenario(scenario, [strategy], replications)
    return ts.groupby(ts["date"].dt.year)["adopted_frac"].mean()


def elasticities(scenario, strategy: str, replications: int, step: float):
    """d ln(adopted share) / d ln(price) per calendar year, from paired runs at prices x1 and x(1 + step)."""
    base = adoption_by_year(scenario, strategy, replications)
    dear = adoption_by_year(price_scaled(scenario, 1.0 + step), strategy, replications)
    return np.log(dear / base) / math.log(1.0 + step)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("scenario", nargs="?", default="baseline", help="preset name or YAML path (default: baseline)")
    p.add_argument("--population", type=int, default=20000, help="developers per run (default 20000)")
    p.add_argument("--seeds", type=int, default=4, help="paired replicates (default 4)")
    p.add_argument("--dates", default="2023-06,2027-06", help="two cut dates, YYYY-MM (default 2023-06,2027-06)")
    p.add_argument("--step", type=float, default=0.1, help="relative rise of every price for adoption (+10%%)")
    p.add_argument("--set", action="append", default=[], metavar="PATH=VALUE", help="override a parameter")
    args = p.parse_args()
    scenario = load_scenario(args.scenario, args.set, population=args.population)
    adoption = elasticities(scenario, scenario.meta.strategy, args.seeds, args.step)
    print(f"Price elasticity of adoption, d ln(adopted share) / d ln(price) ({scenario.meta.strategy}):")
    print("| year | " + " | ".join(str(y) for y in adoption.index) + " |")
    print("|---|" + "---:|" * len(adoption))
    print("| elasticity | " + " | ".join(f"{v:+.3f}" for v in adoption) + " |")
    early, late = args.dates.split(",")
    print(f"\n| lab | elasticity {early} | elasticity {late} | ratio |")
    print("|---|---:|---:|---:|")
    for lab in catalog_of(scenario).CLOSED_LABS:
        a, b = (elasticity(scenario, lab, d, args.seeds) for d in (early, late))
        ratio = max(abs(a), abs(b)) / min(abs(a), abs(b)) if min(abs(a), abs(b)) > 0 else float("inf")
        print(f"| {lab} | {a:.2f} | {b:.2f} | {ratio:.2f} |")


if __name__ == "__main__":
    main()
