"""Command line: parses arguments and calls the library; bad input exits 2 with one line on stderr.

Each group of commands is a module with ``register(subparsers)``; :data:`COMMANDS` lists them in the order
``sim --help`` shows them. Shared helpers are in :mod:`sim.cli.common`, which imports nothing from here.
"""

from __future__ import annotations

import argparse
import sys

from sim.cli import brief, decision, experiments, figures, scenarios, validation
from sim.cli.common import OneLineParser, package_version, run_command

COMMANDS = (brief, scenarios, experiments, figures, validation, decision)


def build_parser() -> argparse.ArgumentParser:
    """The ``sim`` parser with every command group's subcommands, in :data:`COMMANDS` order."""
    parser = OneLineParser(prog="sim", description="Strategy simulator of the LLM market (open vs closed).")
    parser.add_argument("--version", action="version", version=f"%(prog)s {package_version()}",
                        help="print the installed version and exit")
    sub = parser.add_subparsers(dest="command", required=True)
    for group in COMMANDS:
        group.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``sim``: parse ``argv``, run the command and return its exit code (130 on Ctrl-C)."""
    try:
        return _main(argv)
    except (KeyboardInterrupt, SystemError) as exc:
        # Ctrl-C while the parser is built (validate-model imports its checks), before any work; the SystemError that
        # numba raises when Ctrl-C lands in a compiled call is Ctrl-C too (sim.cli.common.is_interrupt)
        from sim.cli.common import interrupted_line, is_interrupt

        if not is_interrupt(exc):
            raise
        print(interrupted_line(exc), file=sys.stderr)
        return 130


def _main(argv: list[str] | None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as done:  # --help (0) or a bad command line (2, one line already printed)
        return int(done.code or 0)
    return run_command(args)
