"""Replicate spread of headline outcomes, with and without stratified row weights (docs/performance.md).

Runs a scenario R times (open and absent, paired) at N developers, twice: stratified as set (the largest token users
on rows of weight 1, the body in strata of token use, ``population.tail_token_share``) and with every row standing
for the same number of firms (share 0). Prints the standard deviation and mean over replicates of Llama's token share
at month 24 and of OpenAI's 5-year revenue open − absent (and that SD as a share of its mean). Issue 12's targets at
50,000 developers and 10 replicates: SD of the Llama share ≤ 0.02, SD of the revenue gap ≤ 25% of its mean; measured
0.013 and 7% (0.030 and 8% before the token-use strata). The SD of 10 replicates is itself uncertain by about ±24%:
``--replications 40`` gives a steadier figure (0.017). ``benchmarks/spread_sources.py`` says where the spread
comes from.

    .venv/bin/python benchmarks/replicate_spread.py [--population 50000] [--replications 10]
"""

from __future__ import annotations

import argparse

import numpy as np

from sim.loading import load_scenario
from sim.runner import run_scenario


def spread(scenario, replications: int) -> tuple[float, float, float, float]:
    """(SD and mean of Llama's month-24 token share, SD and mean of OpenAI's revenue open − absent in $B)."""
    _, summary = run_scenario(scenario, strategies=("open", "absent"), replications=replications)
    wide = summary.pivot(index="replicate", columns="strategy")
    llama = wide["llama_token_share_m24"]["open"].to_numpy()
    gap = (wide["revenue_total.openai"]["open"] - wide["revenue_total.openai"]["absent"]).to_numpy() / 1e9
    return float(llama.std(ddof=1)), float(llama.mean()), float(gap.std(ddof=1)), float(gap.mean())


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("scenario", nargs="?", default="baseline", help="preset or YAML (default baseline)")
    p.add_argument("--population", type=int, default=50_000, help="developers (default 50000)")
    p.add_argument("--replications", type=int, default=10, help="replicates (default 10)")
    a = p.parse_args()
    print("| rows | SD Llama token share m24 | mean | SD OpenAI revenue open − absent ($B) | mean ($B) | SD / |mean| |")
    print("|---|---:|---:|---:|---:|---:|")
    for label, share in (("equal weights", 0.0), ("stratified", None)):
        s = load_scenario(a.scenario, population=a.population)
        if share is not None:
            s.population.tail_token_share = share
        sd_llama, mean_llama, sd_gap, mean_gap = spread(s, a.replications)
        print(f"| {label} | {sd_llama:.4f} | {mean_llama:.4f} | {sd_gap:.3f} | {mean_gap:+.3f} | "
              f"{sd_gap / abs(mean_gap) if mean_gap else np.nan:.2f} |")


if __name__ == "__main__":
    main()
