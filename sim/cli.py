"""Command line: parses arguments and calls the library; bad input exits 2 with one line on stderr."""

from __future__ import annotations

import argparse
import importlib
import math
import sys
import textwrap
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import yaml

from sim.config import STRATEGIES, Scenario
from sim.errors import MAX_FILE, ConfigError, clip
from sim.loading import PRESET_DIR, load_scenario, parse_assignment

DEFAULT_STRATEGY = Scenario.model_fields["meta"].get_default(call_default_factory=True).strategy
# The files of a ``sim run`` folder, and what sim plot / sim report add to it: only these may be replaced.
RUN_FILES = {"timeseries.parquet", "summary.csv", "scenario.yaml", "overrides.yaml", "adoption.png", "adoption.svg",
             "figures", "report.html"}
STRATEGY_HELP = ("comma list of open,closed,absent (default: all three, paired on the same seeds; but only the "
                 "scenario's own meta.strategy when --set meta.strategy=... names it or its file sets one other "
                 "than open)")

# Modules that add sub-commands of their own, each with ``register(subparsers)``.
COMMAND_MODULES: tuple[str, ...] = ("sim.cli_experiments", "sim.cli_plots", "sim.cli_validation", "sim.cli_decision")
MAX_DEV_STEPS = 5e10  # ~15 min of engine time: more belongs in `sim sweep`, which can resume


class OneLineParser(argparse.ArgumentParser):
    """argparse that reports a bad command line in one line (``sim: message``), exit 2, like every other input error."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: {clip(message)}\n")


def int_in(low: int, high: int):
    """An argparse type: an integer within [low, high], so absurd values fail before any work starts."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number, got {clip(repr(text))}") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{value} is outside [{low}, {high}]")
        return value

    return parse


class UsageError(ConfigError):
    """A bad command-line value, reported like a bad file field."""

    def __init__(self, option: str, message: str):
        super().__init__("sim", option, message)


def parse_strategies(text: str) -> list[str]:
    names = [s.strip() for s in text.split(",") if s.strip()]
    unknown = [s for s in names if s not in STRATEGIES]
    if unknown or not names:
        raise UsageError("--strategies", f"unknown strategy {unknown[0] if unknown else text!r}; "
                                         f"choose from {','.join(STRATEGIES)}")
    return list(dict.fromkeys(names))


def choose_strategies(scenario: Scenario, given: str | None, overrides: list[str]) -> list[str]:
    """Which Meta strategies to run. ``--strategies`` if given; otherwise the scenario's own ``meta.strategy`` when
    ``--set meta.strategy=...`` names it or its file pins one other than the default (``no_meta_model`` is the
    world without Llama, not a paired comparison); otherwise all three, paired. ``--strategies`` against
    ``--set meta.strategy`` is refused; ``--strategies`` over a file's pin runs as asked, with a note."""
    pinned = scenario.meta.strategy
    by_set = any(parse_assignment(text)[0] == "meta.strategy" for text in overrides)
    if given is None:
        if by_set or pinned != DEFAULT_STRATEGY:
            if not by_set:
                print(f"{scenario.name}: meta.strategy is {pinned}, so only {pinned} runs (add --strategies "
                      f"{','.join(STRATEGIES)} to compare all three on this scenario)", file=sys.stderr)
            return [pinned]
        return list(STRATEGIES)
    names = parse_strategies(given)
    if by_set and names != [pinned]:
        raise UsageError("--strategies", f"contradicts --set meta.strategy={pinned}; give one or the other")
    if pinned != DEFAULT_STRATEGY and names != [pinned]:
        print(f"{scenario.name}: meta.strategy is {pinned}, but --strategies asks for {','.join(names)}: running "
              f"{','.join(names)}", file=sys.stderr)
    return names


def progress_bar(total: int | None, desc: str, unit: str = "month"):
    """A tqdm bar on a terminal, shown only if the work lasts more than a second; silent otherwise.

    Without tqdm's monitor thread, which only tunes how often a slow bar redraws: it would keep the process
    multi-threaded, and sweeps fork their workers only from a single-threaded process
    (:func:`sim.experiments.local.start_method`)."""
    from tqdm import tqdm

    class Bar(tqdm):
        monitor_interval = 0

    return Bar(total=total, desc=desc, unit=unit, delay=1.0, disable=not sys.stderr.isatty(), leave=False,
               dynamic_ncols=True)


def add_scenario_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--seed", type=int_in(0, 2**63 - 1), help="override the scenario's seed (replicate r uses a seed "
                                                             "derived from it and r)")
    p.add_argument("--population", type=int_in(1, 20_000_000), metavar="N", help="override population.n")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="PATH=VALUE",
                   help="override any parameter, e.g. --set license.mau_threshold=1e7 (repeatable)")


def cmd_run(args) -> int:
    from sim.figures.run import adoption_figure
    from sim.io import replace_folder, save_figure, write_csv, write_parquet, write_text
    from sim.runner import run_scenario

    scenario = load_scenario(args.scenario, args.overrides, args.population, args.seed)
    strategies = choose_strategies(scenario, args.strategies, args.overrides)
    if args.replications < 1:
        raise UsageError("--replications", "must be at least 1")
    runs = len(strategies) * args.replications
    work = float(scenario.population.n) * scenario.horizon_months * runs
    if work > MAX_DEV_STEPS:
        raise UsageError("--replications", f"{work:.2g} developer-months is more than this tool runs at once "
                                           f"({MAX_DEV_STEPS:.0g}); use sim sweep or fewer runs")
    out = Path(args.out or Path("results") / scenario.name)
    with replace_folder(out, RUN_FILES) as tmp:  # locked and checked before the work starts
        with progress_bar(runs * scenario.horizon_months, scenario.name) as bar:
            timeseries, summary = run_scenario(scenario, strategies, args.replications, progress=bar.update)
        summary = without_unsimulated(summary, scenario.horizon_months)
        write_parquet(timeseries, tmp / "timeseries.parquet")
        write_csv(summary, tmp / "summary.csv")
        write_text(yaml.safe_dump(scenario.model_dump(mode="json"), sort_keys=False), tmp / "scenario.yaml")
        if args.overrides:  # the report's titles name them (sim.results.OVERRIDES_FILE)
            write_text(yaml.safe_dump(list(args.overrides)), tmp / "overrides.yaml")
        fig = adoption_figure(timeseries)
        save_figure(fig, tmp / "adoption.png", dpi=150, bbox_inches="tight")
        save_figure(fig, tmp / "adoption.svg", bbox_inches="tight")
    print_key_numbers(summary)
    print(f"wrote {out}/timeseries.parquet, summary.csv, scenario.yaml, adoption.png, adoption.svg")
    return 0


# Metrics read at a fixed month: the month a run must reach for the value to exist.
MONTH_METRICS = {"llama_token_share_m24": 24}


def without_unsimulated(summary, horizon_months: int):
    """NaN for a metric read at a month the run never reached (``--set horizon_months=1`` has no month 24)."""
    summary = summary.copy()
    for col, month in MONTH_METRICS.items():
        if col in summary and horizon_months <= month:
            summary[col] = math.nan
    return summary


def print_key_numbers(summary) -> None:
    cols = {"npv.meta": "Meta NPV $B", "npv.meta_reported": "Meta reported AI P&L $B", "npv.openai": "OpenAI NPV $B",
            "llama_token_share_m24": "Llama tokens m24", "final_adopted_frac": "adopted"}
    cols = {c: label for c, label in cols.items() if c in summary and summary[c].notna().any()}
    table = summary.groupby("strategy", sort=False)[list(cols)].mean()
    for c in cols:
        if c.startswith("npv."):
            table[c] = table[c] / 1e9
    print(table.rename(columns=cols).to_string(float_format=lambda v: f"{v:,.3f}"))


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
    for path in args.paths:
        if is_experiment_file(path):
            from sim.experiments import load_experiment

            exp = load_experiment(path)
            print(f"{path}: ok (experiment {exp.spec.name}: {exp.design.size} points x {exp.spec.replications} "
                  f"replications x {len(exp.spec.strategies)} strategies = {exp.n_runs} runs)")
            continue
        scenario = load_scenario(path)
        print(f"{path}: ok ({scenario.name}, {scenario.population.n} developers, {scenario.horizon_months} months)")
    return 0


def preset_paths() -> list[Path]:
    return sorted(PRESET_DIR.glob("*.yaml"))


def first_sentence(text: str) -> str:
    """The first sentence of a description, whole."""
    return " ".join(text.split()).split(". ")[0].rstrip(".")


def cmd_list(args) -> int:
    for path in preset_paths():
        scenario = load_scenario(path)
        lines = textwrap.wrap(first_sentence(scenario.description), width=88) or [""]
        print(f"{path.stem:28s} {lines[0]}")
        for line in lines[1:]:
            print(" " * 29 + line)
    return 0


def package_version() -> str:
    try:
        return version("llm-market-sim")
    except PackageNotFoundError:  # run from a source tree that was never installed
        return "unknown (not installed)"


def cmd_show(args) -> int:
    scenario = load_scenario(args.scenario, args.overrides, args.population, args.seed)
    print(yaml.safe_dump(scenario.model_dump(mode="json"), sort_keys=False), end="")
    return 0


def cmd_params(args) -> int:
    from sim.params import catalogue, markdown_table

    rows = [p for p in catalogue(load_scenario(args.scenario) if args.scenario else None)
            if not args.filter or args.filter in p.path]
    if args.markdown:
        print(markdown_table(rows), end="")
    else:
        for p in rows:
            rng = "" if p.low is None and p.high is None else f"[{p.low}, {p.high}]"
            print(f"{p.path:48s} {str(p.default):>14s} {rng:>22s} {p.unit:>16s}  {p.meaning}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(prog="sim", description="Strategy simulator of the LLM market (open vs closed).")
    parser.add_argument("--version", action="version", version=f"%(prog)s {package_version()}",
                        help="print the installed version and exit")
    sub = parser.add_subparsers(dest="command", required=True)

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

    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    try:
        return _main(argv)
    except KeyboardInterrupt:  # Ctrl-C while the sub-commands are imported, before any work
        print("interrupted", file=sys.stderr)
        return 130


def _main(argv: list[str] | None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as done:  # --help (0) or a bad command line (2, one line already printed)
        return int(done.code or 0)
    try:
        return int(args.func(args) or 0)
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        return 2
    except OSError as exc:  # a file the command had to read or write; everything expected is a ConfigError already
        print(f"{clip(exc.filename or 'sim', MAX_FILE)}: {clip(exc.strerror or exc)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
