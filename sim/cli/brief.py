"""``sim brief``: the strategist's answer for one scenario on one page; parses arguments and calls :mod:`sim.brief`."""

from __future__ import annotations

import sys
from pathlib import Path

from sim.cli.common import MAX_DEV_STEPS, UsageError, add_scenario_options, int_in, progress_bar
from sim.config import STRATEGIES

# What a brief folder holds: only these may be replaced by the next brief into it.
BRIEF_FILES = {"brief.html", "brief.md", "brief.json", "figures", "summary.csv", "scenario.yaml", "experiment.yaml",
               "sweep"}


def brief_size(args):
    """The brief's size: ``--quick`` or the full default, then ``--population``, ``--replications``, ``--points``."""
    from dataclasses import replace

    from sim.brief import SIZES

    size = SIZES["quick" if args.quick else "full"]
    changes = {"population": args.population, "replications": args.replications, "points": args.points}
    return replace(size, **{k: v for k, v in changes.items() if v is not None})


def plan_brief(args):
    """The brief's size and scenario, and its split of the documented ranges into swept and held, every check made
    before any work: too much work, ``--set meta.strategy`` (the brief compares all three), too little to sample."""
    from sim.brief.compute import MIN_SWEPT, documented_ranges, split_ranges
    from sim.loading import load_scenario, parse_assignment

    size = brief_size(args)
    if any(parse_assignment(text)[0] == "meta.strategy" for text in args.overrides):
        raise UsageError("--set", "meta.strategy: the brief compares open, closed and absent on the same seeds; "
                                  "drop --set meta.strategy (sim run runs one strategy)")
    scenario = load_scenario(args.scenario, args.overrides, size.population, args.seed)
    work = float(size.population) * scenario.horizon_months * len(STRATEGIES) * (size.replications + size.points)
    if work > MAX_DEV_STEPS:
        raise UsageError("--points", f"{work:.2g} developer-months is more than this tool runs at once "
                                     f"({MAX_DEV_STEPS:.0g}); use fewer points, replications or developers")
    swept, held = split_ranges(scenario, documented_ranges(), args.overrides)
    if len(swept) < MIN_SWEPT:
        raise UsageError("SCENARIO", f"{args.scenario} sets {len(held)} of the {len(held) + len(swept)} documented "
                                     f"ranged parameters itself, leaving {len(swept)} to sample; the brief's worlds "
                                     f"need at least {MIN_SWEPT} (use sim run for this scenario alone)")
    return size, scenario, (swept, held)


def cmd_brief(args) -> int:
    """``sim brief``: run the scenario over seeds and a hypercube of the documented ranges, write the page."""
    from sim.brief import build
    from sim.brief.page import headline, write_page
    from sim.cli.common import on_interrupt
    from sim.experiments.base import WorkerLost
    from sim.io import replace_folder

    size, scenario, split = plan_brief(args)
    out = Path(args.out or Path("results") / "brief" / scenario.name)
    kept = f"{out} was left as it was" if out.exists() else None  # replace_folder swaps it only at the end
    try:
        with on_interrupt(kept), replace_folder(out, BRIEF_FILES, kind="sim brief") as tmp:
            with progress_bar(0, f"brief {scenario.name}", unit="run") as bar:
                brief = build(scenario, list(args.overrides), size, tmp, workers=args.workers, progress=bar.update,
                              on_start=bar.reset, split=split, ref=args.scenario)
            written = write_page(brief, tmp)
    except WorkerLost as exc:
        print(f"sim brief: {exc}; nothing was written, run it again", file=sys.stderr)
        return 1
    for line in headline(brief):
        print(line)
    print(f"wrote {out}/" + ", ".join(written) + " (and the runs behind them: summary.csv, experiment.yaml, sweep/)")
    return 0


def register(sub) -> None:
    """Add ``sim brief`` to the ``sim`` parser."""
    p = sub.add_parser("brief", help="the answer for one scenario on one page: does open pay, how sure, what flips it",
                       description="Run SCENARIO under every Meta strategy over paired seeds and over a Latin "
                                   "hypercube of the documented parameter ranges (experiments/where_open_pays.yaml; "
                                   "the parameters the scenario sets itself stay at its values), then write "
                                   "brief.html and brief.md: open against a closed Meta API and against no Meta "
                                   "model in both lenses, with intervals and probabilities, the channels that make "
                                   "the answer, where it flips, the break-even spend share and what it leans on.")
    p.add_argument("scenario", help="preset name (sim list) or path to a scenario YAML file")
    p.add_argument("--quick", action="store_true",
                   help="a small brief: 5,000 developers, 5 seeds, 48 worlds (default 20,000, 10, 256)")
    p.add_argument("--replications", type=int_in(1, 1000), metavar="R",
                   help="paired seeds of the scenario itself (overrides the size's)")
    p.add_argument("--points", type=int_in(20, 100_000), metavar="N",
                   help="worlds of the Latin hypercube (overrides the size's; at least 20, for discovery)")
    p.add_argument("--workers", type=int_in(1, 4096), help="worker processes for the hypercube (default: all cores)")
    p.add_argument("--out", help="output folder (default results/brief/<scenario>)")
    add_scenario_options(p)
    p.set_defaults(func=cmd_brief)
