"""``sim run``, ``validate``, ``list``, ``show`` and ``params``: one scenario at a time, from files to results."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import yaml

from sim.cli.common import RUN_FILES, STRATEGY_HELP, UsageError, add_scenario_options, int_in, plan_run, run_paired
from sim.errors import ConfigError
from sim.loading import PRESET_DIR, load_scenario


def cmd_run(args) -> int:
    """``sim run``: run a scenario's strategies on paired seeds and write the run folder."""
    from dataclasses import replace

    from sim.cli.common import on_interrupt
    from sim.figures.run import RUN_FIGURES
    from sim.io import replace_folder, save_figure, write_text
    from sim.results import OVERRIDES_FILE

    scenario, strategies = plan_run(args.scenario, args, advice="; use sim sweep or fewer runs")
    if args.replications < 1:
        raise UsageError("--replications", "must be at least 1")
    out = Path(args.out or Path("results") / scenario.name)
    kept = f"{out} was left as it was" if out.exists() else None  # replace_folder swaps it only at the end
    files = ["timeseries.parquet", "summary.csv", "scenario.yaml"] + [OVERRIDES_FILE] * bool(args.overrides)
    with on_interrupt(kept), replace_folder(out, RUN_FILES) as tmp:  # locked and checked before the work starts
        run = run_paired(scenario, strategies, args.replications)
        run.write_tables(tmp)
        if args.overrides:  # the report's titles name them (sim.results.OVERRIDES_FILE)
            write_text(yaml.safe_dump(list(args.overrides)), tmp / OVERRIDES_FILE)
        # Drawn from the folder as written, as sim plot draws it, so the title names the overrides the same way.
        fig = RUN_FIGURES["adoption"](replace(run, folder=tmp))
        save_figure(fig, tmp / "adoption.png", dpi=150, bbox_inches="tight")
        save_figure(fig, tmp / "adoption.svg", bbox_inches="tight")
    print_key_numbers(run.summary)
    print(f"wrote {out}/" + ", ".join([*files, "adoption.png", "adoption.svg"]))
    return 0


def print_key_numbers(summary) -> None:
    """Print the mean headline outcomes per strategy (NPVs in $B) after a run."""
    cols = {"npv.meta": "Meta NPV $B", "npv.meta_reported": "Meta reported AI P&L $B", "npv.openai": "OpenAI NPV $B",
            "llama_token_share_m24": "Llama tokens m24", "final_adopted_frac": "adopted"}
    cols = {c: label for c, label in cols.items() if c in summary and summary[c].notna().any()}
    table = summary.groupby("strategy", sort=False)[list(cols)].mean()
    for c in cols:
        if c.startswith("npv."):
            table[c] = table[c] / 1e9
    print(table.rename(columns=cols).to_string(float_format=lambda v: f"{v:,.3f}"))
    for line in difference_lines(summary):
        print(line)


def difference_lines(summary) -> list[str]:
    """Meta's value as paired differences between the strategies run (mean and, from 3 replicates, 95% CI), with
    the one line that says why: ``npv.meta`` is a ledger of AI-related lines, not Meta's value."""
    from sim.figures.run import mean_ci
    from sim.figures.run_report import MIN_CI_REPLICATES, strategy_differences

    lenses = {"npv.meta": "strategic", "npv.meta_reported": "reported AI P&L"}
    rows = {}
    for metric, lens in lenses.items():
        for a, b, diff in strategy_differences(summary, metric) if metric in summary else []:
            m, lo, hi = mean_ci(diff / 1e9)
            ci = f" [{lo:+,.2f}, {hi:+,.2f}]" if len(diff) >= MIN_CI_REPLICATES else ""
            rows.setdefault(f"{a} − {b}", []).append(f"{lens} {m:+,.2f}{ci}")
    if not rows:
        return []
    out = ["Meta, paired differences between strategies, $B (95% CI from 3 replicates); npv.meta sums only the "
           "AI-related lines of Meta's ledger, so only these differences mean something:"]
    width = max(map(len, rows))
    cell = max(len(c) for cells in rows.values() for c in cells)
    return out + [f"  {name:<{width}}  " + "   ".join(f"{c:<{cell}}" for c in cells).rstrip()
                  for name, cells in rows.items()]


def is_experiment_file(path: str) -> bool:
    """An experiment names the scenario it sweeps and its design; a scenario has neither key. A name that is no
    preset but is an experiment in experiments/ counts too."""
    from sim.experiments.schema import resolve_experiment_path
    from sim.loading import read_yaml_mapping, resolve_scenario_path

    file = resolve_scenario_path(path)
    if not file.is_file():
        try:
            return resolve_experiment_path(path).is_file()
        except ConfigError:
            return False
    data = read_yaml_mapping(file)
    return "scenario" in data or "parameters" in data


def cmd_validate(args) -> int:
    """``sim validate``: load each scenario or experiment file and print a one-line summary if it is valid."""
    for path in args.paths:
        if is_experiment_file(path):
            from sim.decision.levers import load_decision
            from sim.experiments import load_experiment
            from sim.experiments.schema import resolve_experiment_path
            from sim.loading import read_yaml_mapping

            kind = read_yaml_mapping(resolve_experiment_path(path)).get("kind")
            if kind in ("optimize", "game"):  # decision files share experiments/: validated by their own schema
                problem = load_decision(path)
                print(f"{path}: ok ({kind} {problem.spec.name})")
                continue
            exp = load_experiment(path)
            print(f"{path}: ok (experiment {exp.spec.name}: {exp.design.size} points x {exp.spec.replications} "
                  f"replications x {len(exp.spec.strategies)} strategies = {exp.n_runs} runs)")
            continue
        scenario = load_scenario(path)
        print(f"{path}: ok ({scenario.name}, {scenario.population.n} developers, {scenario.horizon_months} months)")
    return 0


def preset_paths() -> list[Path]:
    """The preset scenario files that ``sim list`` shows, sorted by name."""
    return sorted(PRESET_DIR.glob("*.yaml"))


def first_sentence(text: str) -> str:
    """The first sentence of a description, whole."""
    return " ".join(text.split()).split(". ")[0].rstrip(".")


def cmd_list(args) -> int:
    """``sim list``: each preset's name and the first sentence of its description."""
    for path in preset_paths():
        scenario = load_scenario(path)
        lines = textwrap.wrap(first_sentence(scenario.description), width=88) or [""]
        print(f"{path.stem:28s} {lines[0]}")
        for line in lines[1:]:
            print(" " * 29 + line)
    return 0


def cmd_show(args) -> int:
    """``sim show``: print a scenario with its overrides applied and every default filled in, as YAML."""
    scenario = load_scenario(args.scenario, args.overrides, args.population, args.seed)
    print(yaml.safe_dump(scenario.model_dump(mode="json"), sort_keys=False), end="")
    return 0


def cmd_params(args) -> int:
    """``sim params``: the parameter catalogue (path, default, range, unit, meaning), as text or Markdown."""
    import shutil

    from sim.params import catalogue, markdown_table, text_table

    rows = [p for p in catalogue(load_scenario(args.scenario) if args.scenario else None)
            if not args.filter or args.filter in p.path]
    if args.markdown:
        print(markdown_table(rows), end="")
    else:  # on a terminal, meanings wrapped to its width; into a file or pipe, one line per parameter (for grep)
        width = shutil.get_terminal_size().columns if sys.stdout.isatty() else None
        print(text_table(rows, width), end="")
    return 0


def register(sub) -> None:
    """Add ``sim run``, ``validate``, ``list``, ``show`` and ``params`` to the command line."""
    p = sub.add_parser("run", help="run a scenario under each Meta strategy, paired, and write results and a plot",
                       description="Run a scenario under Meta's strategies (paired on the same seeds) and write "
                                   "timeseries.parquet, summary.csv, scenario.yaml and adoption.png/svg into a "
                                   "folder, replaced whole (a run never mixes old and new files). Strategies: all "
                                   "three by default; a scenario that pins meta.strategy (no_meta_model, "
                                   "meta_closed_api, --set meta.strategy=closed) runs only that one unless "
                                   "--strategies says otherwise.")
    p.add_argument("scenario", help="a preset's name (see sim list) or a YAML path")
    p.add_argument("--out", metavar="DIR", help="output folder (default results/<scenario name>); replaced whole, "
                                                "refused if it holds a sweep or files sim did not write, or another "
                                                "sim is writing it")
    p.add_argument("--strategies", default=None, metavar="LIST", help=STRATEGY_HELP)
    p.add_argument("--replications", type=int_in(1, 10_000), default=1, metavar="R",
                   help="replicates per strategy, each with its own seed shared by all strategies (default 1)")
    add_scenario_options(p)
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("validate", help="check scenario and experiment files; exit 2 with the first error")
    p.add_argument("paths", nargs="+", metavar="FILE",
                   help="scenario or experiment YAML files, or preset/experiment names (the kind is detected: an "
                        "experiment has scenario: and parameters:)")
    p.set_defaults(func=cmd_validate)

    p = sub.add_parser("list", help="list the preset scenarios")
    p.set_defaults(func=cmd_list)

    p = sub.add_parser("show", help="print a scenario fully merged (extends, overrides, defaults)")
    p.add_argument("scenario", help="a preset's name (see sim list) or a YAML path")
    add_scenario_options(p)
    p.set_defaults(func=cmd_show)

    p = sub.add_parser("params", help="list every parameter: path, default, range, unit, meaning")
    p.add_argument("scenario", nargs="?", help="show this scenario's values instead of the schema defaults")
    p.add_argument("--filter", help="only paths containing this text")
    p.add_argument("--markdown", action="store_true", help="print a Markdown table")
    p.set_defaults(func=cmd_params)
