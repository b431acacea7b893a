"""``sim optimize`` and ``sim game``: parse arguments and call :mod:`sim.decision`."""

from __future__ import annotations

import sys
from pathlib import Path

from sim.cli.common import int_in, progress_bar


def _solve(args, kind: str, write, report) -> int:
    """Load a ``kind`` file, run it into --out with a progress bar, ``write(problem, result, out)`` its files and
    ``report(problem, result, out)`` on stdout: 0, or 1 if a worker died (the finished runs are kept)."""
    from sim.decision.levers import load_decision
    from sim.decision.play import run_game
    from sim.decision.robust import run_optimize
    from sim.experiments.base import WorkerLost
    from sim.experiments.sweep import make_evaluator

    problem = load_decision(args.file, kind)
    backend = problem.spec.backend
    runner = run_optimize if kind == "optimize" else run_game
    try:
        evaluator = make_evaluator(args.workers or backend.workers, args.scheduler or backend.scheduler,
                                   backend.bundle)
        with progress_bar(None, problem.spec.name, unit="run") as bar, evaluator:
            result = runner(problem, Path(args.out), evaluator, resume=args.resume, on_progress=bar.update)
    except WorkerLost as exc:
        print(f"sim {kind}: {exc}; the finished runs are stored: rerun with --resume", file=sys.stderr)
        return 1
    write(problem, result, Path(args.out))
    report(problem, result, Path(args.out))
    return 0


def cmd_optimize(args) -> int:
    """``sim optimize``: robust search for Meta's policy over a decision file's levers and worlds."""
    from sim.figures.decision_report import write_optimize

    return _solve(args, "optimize", write_optimize, _optimize_lines)


def _optimize_lines(problem, result, out: Path) -> None:
    from sim.figures.decision_report import robust_summary

    spec = problem.spec
    print(f"{spec.name}: {len(result.policies)} policies x {spec.worlds} worlds = {result.runs} runs ({result.ran} "
          f"ran now, {result.runs - result.ran} replayed from {out}); {len(result.pareto)} on the Pareto set")
    for line in robust_summary(problem, result):
        print(line)
    for note in result.notes:
        print(f"note: {note}")
    print(f"wrote {out}/policies.csv, pareto_outcomes.parquet, convergence.csv, pareto.png/svg, "
          f"convergence.png/svg, report.md")


def cmd_game(args) -> int:
    """``sim game``: payoffs of every profile of the four-firm game, its equilibria and best responses."""
    from sim.figures.decision_report import write_game

    return _solve(args, "game", write_game, _game_lines)


def _game_lines(problem, result, out: Path) -> None:
    eq = result.equilibria
    names = list(problem.players)
    print(f"{problem.spec.name}: {len(problem.profiles())} profiles x {problem.spec.replications} replicates "
          f"({result.ran} runs ran now)")
    for _, row in eq[eq["nash"]].iterrows():
        print("pure Nash equilibrium: " + ", ".join(f"{p}={row[p]}" for p in names))
    if not eq["nash"].any():
        print("no pure Nash equilibrium")
    print(f"{int(eq['epsilon'].sum())} ε-equilibria (no deviation gains significantly at 95%)")
    print(result.headline)
    print(f"wrote {out}/payoffs.parquet, best_responses.csv, equilibria.csv, best_response_path.csv, "
          f"headline.txt, game_path.png/svg, game_meta.png/svg, report.md")


def _backend_options(p) -> None:
    p.add_argument("--out", metavar="DIR", required=True, help="output folder")
    p.add_argument("--workers", type=int_in(1, 512), metavar="K", help="local worker processes (default: all cores)")
    p.add_argument("--scheduler", metavar="ADDRESS", help="Dask scheduler, e.g. tcp://host:8786")
    p.add_argument("--resume", action="store_true", help="continue a killed command in DIR from its stored runs")


def register(sub) -> None:
    """Add ``sim optimize`` and ``sim game`` to the command line."""
    p = sub.add_parser("optimize", help="robust search (NSGA-II) for Meta's policy over levers and uncertain worlds")
    p.add_argument("file", metavar="FILE", help="a decision file with kind: optimize (name in experiments/ or path)")
    _backend_options(p)
    p.set_defaults(func=cmd_optimize)

    p = sub.add_parser("game", help="the four-firm game: payoffs of every profile, equilibria, best responses")
    p.add_argument("file", metavar="FILE", help="a decision file with kind: game (name in experiments/ or path)")
    _backend_options(p)
    p.set_defaults(func=cmd_game)
