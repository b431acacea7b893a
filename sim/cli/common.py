"""What every group of commands shares: argument types and options, the choice of strategies, the progress bar
and the error report (bad input exits 2 with one line on stderr, Ctrl-C exits 130)."""

from __future__ import annotations

import argparse
import sys
from contextlib import contextmanager
from importlib.metadata import PackageNotFoundError, version

from sim.config import STRATEGIES, Scenario
from sim.errors import MAX_FILE, ConfigError, clip
from sim.loading import parse_assignment
from sim.outcomes import without_unsimulated

DEFAULT_STRATEGY = Scenario.model_fields["meta"].get_default(call_default_factory=True).strategy
# The files of a ``sim run`` folder, and what sim plot / sim report add to it: only these may be replaced.
RUN_FILES = {"timeseries.parquet", "summary.csv", "scenario.yaml", "overrides.yaml", "adoption.png", "adoption.svg",
             "figures", "report.html"}
STRATEGY_HELP = ("comma list of open,closed,absent (default: all three, paired on the same seeds; but only the "
                 "scenario's own meta.strategy when --set meta.strategy=... names it or its file sets one other "
                 "than open)")

MAX_DEV_STEPS = 5e10  # ~15 min of engine time: more belongs in `sim sweep`, which can resume


class OneLineParser(argparse.ArgumentParser):
    """argparse that reports a bad command line in one line (``sim: message``), exit 2, like every other input error."""

    def error(self, message: str):
        """Print ``sim: message`` and exit 2 instead of argparse's usage block."""
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
    """The ``--strategies`` comma list, checked and without repeats; an unknown name is a usage error."""
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
    """Add ``--seed``, ``--population`` and ``--set``, the overrides every scenario command takes."""
    p.add_argument("--seed", type=int_in(0, 2**63 - 1), help="override the scenario's seed (replicate r uses a seed "
                                                             "derived from it and r)")
    p.add_argument("--population", type=int_in(1, 20_000_000), metavar="N", help="override population.n")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="PATH=VALUE",
                   help="override any parameter, e.g. --set license.mau_threshold=1e7 (repeatable)")




def plan_run(ref: str, args, where: str = "", advice: str = "") -> tuple[Scenario, list[str]]:
    """The scenario ``ref`` with the command line's overrides and the strategies to run (``sim run``, ``sim
    compare``); more than :data:`MAX_DEV_STEPS` developer-months is refused before any work starts."""
    from sim.loading import load_scenario

    scenario = load_scenario(ref, args.overrides, args.population, args.seed)
    strategies = choose_strategies(scenario, args.strategies, args.overrides)
    work = float(scenario.population.n) * scenario.horizon_months * (len(strategies) * args.replications)
    if work > MAX_DEV_STEPS:
        raise UsageError("--replications", f"{work:.2g} developer-months{where} is more than this tool runs at once "
                                           f"({MAX_DEV_STEPS:.0g}){advice}")
    return scenario, strategies


def run_paired(scenario: Scenario, strategies: list[str], replications: int):
    """Run ``scenario`` under ``strategies`` on paired seeds with a progress bar: the :class:`sim.results.RunResults`
    that ``sim run`` writes and ``sim compare`` draws (a metric read at a month never reached is NaN)."""
    from sim.results import RunResults
    from sim.runner import run_scenario

    with progress_bar(len(strategies) * replications * scenario.horizon_months, scenario.name) as bar:
        timeseries, summary = run_scenario(scenario, strategies, replications, progress=bar.update)
    summary = without_unsimulated(summary, scenario.horizon_months)
    return RunResults(timeseries, summary, scenario.model_dump(mode="json"))


def package_version() -> str:
    """The installed version of the package, for ``sim --version``."""
    try:
        return version("llm-market-sim")
    except PackageNotFoundError:  # run from a source tree that was never installed
        return "unknown (not installed)"


def is_interrupt(exc: BaseException) -> bool:
    """Whether ``exc`` is Ctrl-C: a KeyboardInterrupt, or the ``SystemError: CPUDispatcher(<function ...>) returned
    a result with an exception set`` that CPython raises instead when Ctrl-C lands while a numba-compiled function
    is being called (its signal handler raises inside numba's dispatch, which then returns a result); that error,
    sometimes several of them, is chained by ``__cause__`` to the KeyboardInterrupt."""
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        if isinstance(exc, KeyboardInterrupt):
            return True
        if not isinstance(exc, SystemError):
            return False
        seen.add(id(exc))
        exc = exc.__cause__ or exc.__context__
    return False


class Interrupted(KeyboardInterrupt):
    """Ctrl-C, with what the command kept: ``interrupted; <note>`` is the one line :func:`run_command` prints."""

    def __init__(self, note: str):
        super().__init__(note)
        self.note = note


@contextmanager
def on_interrupt(note: str | None):
    """Turn Ctrl-C inside the block (see :func:`is_interrupt`) into :class:`Interrupted` with ``note``, the words
    that say what was kept (``results/x was left as it was``); without a note, Ctrl-C passes as it came."""
    try:
        yield
    except (KeyboardInterrupt, SystemError) as exc:
        if note is None or isinstance(exc, Interrupted) or not is_interrupt(exc):
            raise
        raise Interrupted(note) from None


def interrupted_line(exc: BaseException) -> str:
    """The one line Ctrl-C prints: ``interrupted``, and what was kept when the command said so."""
    return f"interrupted; {exc.note}" if isinstance(exc, Interrupted) else "interrupted"


def run_command(args) -> int:
    """Run the parsed command; bad input (a ConfigError or a file that cannot be read or written) is one line on
    stderr and exit 2, Ctrl-C (also when it lands inside numba, see :func:`is_interrupt`) is one line and exit
    130."""
    try:
        return int(args.func(args) or 0)
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        return 2
    except OSError as exc:  # a file the command had to read or write; everything expected is a ConfigError already
        print(f"{clip(exc.filename or 'sim', MAX_FILE)}: {clip(exc.strerror or exc)}", file=sys.stderr)
        return 2
    except (KeyboardInterrupt, SystemError) as exc:
        if not is_interrupt(exc):
            raise
        print(interrupted_line(exc), file=sys.stderr)
        return 130
