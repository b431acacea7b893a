"""Key outcomes of every preset under the three Meta strategies, as a Markdown table (docs/presets.md).

For each preset: Meta's strategic NPV open − closed and open − absent, paired by replicate, with a 95% t interval over
the replicates, the reported-P&L lens, and the value channel that moves each difference most (its paired mean).

Usage: .venv/bin/python scripts/preset_outcomes.py [--population N] [--replications R] [--workers K]
"""

from __future__ import annotations

import argparse
from concurrent.futures import ProcessPoolExecutor

import numpy as np
from scipy import stats

from sim.channels import CHANNEL_NAMES, LABELS
from sim.cli.scenarios import preset_paths
from sim.loading import load_scenario
from sim.runner import run_scenario


def paired(summary, metric: str, a: str, b: str) -> np.ndarray:
    wide = summary.pivot(index="replicate", columns="strategy", values=metric)
    return (wide[a] - wide[b]).to_numpy(float)


def ci(d: np.ndarray) -> tuple[float, float, float]:
    mean = float(d.mean())
    half = float(stats.t.ppf(0.975, d.size - 1) * d.std(ddof=1) / np.sqrt(d.size)) if d.size > 1 else float("nan")
    return mean, mean - half, mean + half


def driver(summary, a: str, b: str) -> tuple[str, float]:
    gaps = {c: paired(summary, f"npv.meta.{c}", a, b).mean() for c in CHANNEL_NAMES}
    top = max(gaps, key=lambda c: abs(gaps[c]))
    return top, gaps[top]


def outcomes(args) -> tuple:
    path, population, replications = args
    scenario = load_scenario(path, population=population)
    _, summary = run_scenario(scenario, replications=replications)
    return (scenario.name,
            ci(paired(summary, "npv.meta", "open", "closed") / 1e9),
            ci(paired(summary, "npv.meta", "open", "absent") / 1e9),
            ci(paired(summary, "npv.meta_reported", "open", "closed") / 1e9),
            driver(summary, "open", "closed"), driver(summary, "open", "absent"),
            float(summary.loc[summary["strategy"] == "open", "llama_token_share_m24"].mean()))


def fmt(c) -> str:
    return f"{c[0]:+.2f} [{c[1]:+.2f}, {c[2]:+.2f}]"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--population", type=int, default=20_000, help="developers per run (default 20000)")
    parser.add_argument("--replications", type=int, default=10, help="paired replicates (default 10)")
    parser.add_argument("--workers", type=int, default=2, help="processes (default 2)")
    a = parser.parse_args()
    jobs = [(p, a.population, a.replications) for p in preset_paths()]
    with ProcessPoolExecutor(a.workers) as pool:
        rows = list(pool.map(outcomes, jobs))
    print(f"Population {a.population:,}, {a.replications} paired replicates per strategy, 60 months; $ billion NPV at "
          "10%/year, mean [95% CI over replicates].\n")
    print("| preset | Meta NPV open − closed | open − absent | reported AI P&L open − closed | "
          "largest channel in open − closed | largest channel in open − absent | Llama token share m24 |")
    print("|---|---:|---:|---:|---|---|---:|")
    for name, oc, oa, rep, (c1, v1), (c2, v2), llama in rows:
        print(f"| {name} | {fmt(oc)} | {fmt(oa)} | {fmt(rep)} | {LABELS[c1]} ({v1 / 1e9:+.2f}) | "
              f"{LABELS[c2]} ({v2 / 1e9:+.2f}) | {llama:.3f} |")


if __name__ == "__main__":
    main()
