"""Key outcomes of every preset under the three Meta strategies, as a Markdown table (docs/presets.md).

Usage: .venv/bin/python scripts/preset_outcomes.py [--population N] [--replications R] [--workers K]
"""

from __future__ import annotations

import argparse
from concurrent.futures import ProcessPoolExecutor

from sim.cli import preset_paths
from sim.loading import load_scenario
from sim.runner import run_scenario


def outcomes(args) -> tuple:
    path, population, replications = args
    scenario = load_scenario(path, population=population)
    _, summary = run_scenario(scenario, replications=replications)
    mean = summary.groupby("strategy").mean(numeric_only=True)
    return (scenario.name,
            (mean.loc["open", "npv.meta"] - mean.loc["closed", "npv.meta"]) / 1e9,
            (mean.loc["open", "revenue_total.openai"] - mean.loc["absent", "revenue_total.openai"]) / 1e9,
            mean.loc["open", "llama_token_share_m24"],
            *(mean.loc[s, "npv.meta"] / 1e9 for s in ("open", "closed", "absent")))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--population", type=int, default=50_000)
    parser.add_argument("--replications", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2)
    a = parser.parse_args()
    jobs = [(p, a.population, a.replications) for p in preset_paths()]
    with ProcessPoolExecutor(a.workers) as pool:
        rows = list(pool.map(outcomes, jobs))
    print(f"Population {a.population:,}, {a.replications} paired replicates per strategy, 60 months.\n")
    print("| preset | Meta NPV open − closed ($B) | OpenAI revenue open − absent ($B, 5 years) | "
          "Llama token share, month 24 | Meta NPV open / closed / absent ($B) |")
    print("|---|---:|---:|---:|---:|")
    for name, d_meta, d_openai, llama, m_open, m_closed, m_absent in rows:
        print(f"| {name} | {d_meta:+.1f} | {d_openai:+.2f} | {llama:.3f} | "
              f"{m_open:.1f} / {m_closed:.1f} / {m_absent:.1f} |")


if __name__ == "__main__":
    main()
