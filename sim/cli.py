"""Command line: parses arguments and calls the library; bad input exits 2 with one line on stderr."""

from __future__ import annotations

import argparse
import importlib
import sys
from pathlib import Path

import yaml

from sim.config import STRATEGIES
from sim.loading import PRESET_DIR, ConfigError, load_scenario

# Modules that add sub-commands of their own, each with ``register(subparsers)``.
COMMAND_MODULES: tuple[str, ...] = ("sim.cli_experiments", "sim.cli_plots", "sim.cli_validation", "sim.cli_decision")
MAX_DEV_STEPS = 5e10  # ~15 min of engine time: more belongs in `sim sweep`, which can resume


class OneLineParser(argparse.ArgumentParser):
    """argparse that reports a bad command line in one line (``sim: message``), exit 2, like every other input error."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: {message}\n")


def int_in(low: int, high: int):
    """An argparse type: an integer within [low, high], so absurd values fail before any work starts."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
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


def progress_bar(total: int, desc: str):
    """A tqdm bar on a terminal, shown only if the work lasts more than a second; silent otherwise."""
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, unit="month", delay=1.0, disable=not sys.stderr.isatty(), leave=False)


def add_scenario_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--seed", type=int_in(0, 2**63 - 1), help="override the scenario's seed")
    p.add_argument("--population", type=int_in(1, 20_000_000), metavar="N", help="override population.n")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="PATH=VALUE",
                   help="override any parameter, e.g. --set license.mau_threshold=1e7 (repeatable)")


def cmd_run(args) -> int:
    from sim.io import save_figure, write_csv, write_parquet, write_text
    from sim.plots import adoption_figure
    from sim.runner import run_scenario

    scenario = load_scenario(args.scenario, args.overrides, args.population, args.seed)
    strategies = parse_strategies(args.strategies)
    if args.replications < 1:
        raise UsageError("--replications", "must be at least 1")
    runs = len(strategies) * args.replications
    work = float(scenario.population.n) * scenario.horizon_months * runs
    if work > MAX_DEV_STEPS:
        raise UsageError("--replications", f"{work:.2g} developer-months is more than this tool runs at once "
                                           f"({MAX_DEV_STEPS:.0g}); use sim sweep or fewer runs")
    out = Path(args.out or Path("results") / scenario.name)
    with progress_bar(runs * scenario.horizon_months, scenario.name) as bar:
        timeseries, summary = run_scenario(scenario, strategies, args.replications, progress=bar.update)
    write_parquet(timeseries, out / "timeseries.parquet")
    write_csv(summary, out / "summary.csv")
    write_text(yaml.safe_dump(scenario.model_dump(mode="json"), sort_keys=False), out / "scenario.yaml")
    fig = adoption_figure(timeseries)
    save_figure(fig, out / "adoption.png", dpi=150, bbox_inches="tight")
    save_figure(fig, out / "adoption.svg", bbox_inches="tight")
    print_key_numbers(summary)
    print(f"wrote {out}/timeseries.parquet, summary.csv, scenario.yaml, adoption.png, adoption.svg")
    return 0


def print_key_numbers(summary) -> None:
    cols = {"npv.meta": "Meta NPV $B", "npv.openai": "OpenAI NPV $B", "llama_token_share_m24": "Llama tokens m24",
            "final_adopted_frac": "adopted"}
    table = summary.groupby("strategy", sort=False)[list(cols)].mean()
    for c in ("npv.meta", "npv.openai"):
        table[c] = table[c] / 1e9
    print(table.rename(columns=cols).to_string(float_format=lambda v: f"{v:,.3f}"))


def cmd_validate(args) -> int:
    for path in args.paths:
        scenario = load_scenario(path)
        print(f"{path}: ok ({scenario.name}, {scenario.population.n} developers, {scenario.horizon_months} months)")
    return 0


def preset_paths() -> list[Path]:
    return sorted(PRESET_DIR.glob("*.yaml"))


def one_line(text: str, width: int = 90) -> str:
    """The first sentence of a description, cut to ``width`` characters."""
    first = " ".join(text.split()).split(". ")[0].rstrip(".")
    return first if len(first) <= width else first[: width - 1].rstrip() + "…"


def cmd_list(args) -> int:
    for path in preset_paths():
        scenario = load_scenario(path)
        print(f"{path.stem:28s} {one_line(scenario.description)}")
    return 0


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
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("run", help="run a scenario under each Meta strategy, paired, and write results and a plot")
    p.add_argument("scenario", help="a preset's name (see sim list) or a YAML path")
    p.add_argument("--out", help="output folder (default results/<scenario name>)")
    p.add_argument("--strategies", default=",".join(STRATEGIES), help="comma list of open,closed,absent")
    p.add_argument("--replications", type=int_in(1, 10_000), default=1, metavar="R")
    add_scenario_options(p)
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("validate", help="check scenario files; exit 2 with the first error")
    p.add_argument("paths", nargs="+")
    p.set_defaults(func=cmd_validate)

    p = sub.add_parser("list", help="list the preset scenarios")
    p.set_defaults(func=cmd_list)

    p = sub.add_parser("show", help="print a scenario fully merged (extends, overrides, defaults)")
    p.add_argument("scenario")
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
        print(f"{exc.filename or 'sim'}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
