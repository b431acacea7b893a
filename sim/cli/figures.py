"""Sub-commands that turn result folders into pictures: ``plot``, ``compare``, ``report`` and ``dashboard``.

They only parse arguments and call :mod:`sim.figures.run`, :mod:`sim.figures.sweep`, :mod:`sim.figures.run_report` and
:mod:`sim.dashboard`; bad input raises :class:`sim.errors.ConfigError` (one line, exit 2).
"""

from __future__ import annotations

import argparse
import errno
import os
import socket
import sys
from pathlib import Path

from sim.cli.common import RUN_FILES, STRATEGY_HELP, UsageError, add_scenario_options, int_in, plan_run, run_paired
from sim.errors import ConfigError

RUN_KINDS = ("adoption", "tokens", "prices", "ledger", "profits", "strategies")
SWEEP_KINDS = ("response", "breakeven", "spendshare", "sensitivity")
COMPARE_FILES = {"comparison.png", "comparison.svg", "comparison.csv"}  # beside one sim run folder per scenario run


def parse_kinds(values: list[str] | None, allowed: tuple[str, ...]) -> list[str]:
    """``--kind a,b --kind c`` -> [a, b, c], checked against the kinds this folder can draw."""
    if not values:
        return list(allowed)
    kinds = [k.strip() for v in values for k in v.split(",") if k.strip()]
    bad = [k for k in kinds if k not in allowed]
    if bad or not kinds:
        raise UsageError("--kind", f"unknown kind {bad[0] if bad else ''!r} for this folder; choose from "
                                   f"{','.join(allowed)}")
    return list(dict.fromkeys(kinds))


def is_sweep_folder(folder: Path) -> bool:
    """A sweep's folder has results.parquet; anything else is read as a ``sim run`` folder."""
    return (folder / "results.parquet").is_file()


def plot_folder(folder: str | Path, kinds: list[str] | None = None, metric: str = "npv.meta",
                dpi: int = 150) -> list[Path]:
    """Draw the figures of a run or sweep folder into ``folder/figures`` (PNG and SVG); returns the files."""
    from sim.figures.run import RUN_FIGURES, save_both
    from sim.results import RunResults

    folder = Path(folder)
    if not folder.is_dir():
        raise ConfigError(folder, "", "no such folder")
    written: list[Path] = []
    if is_sweep_folder(folder):
        from sim.figures.sweep import SweepResults, sweep_figures

        sweep = SweepResults.read(folder)
        if metric not in sweep.results:
            raise UsageError("--metric", f"{metric!r} is not a column of {folder / 'results.parquet'}")
        figures = sweep_figures(sweep, parse_kinds(kinds, SWEEP_KINDS), metric)
        if not figures:
            raise ConfigError(folder, "results.parquet", "nothing to draw for these kinds (no swept parameter, "
                                                         "no open/closed pair or no sensitivity.csv)")
        for name, fig in figures.items():
            written += save_both(fig, folder / "figures" / name, dpi)
        return written
    run = RunResults.read(folder)
    for kind in parse_kinds(kinds, RUN_KINDS):
        written += save_both(RUN_FIGURES[kind](run), folder / "figures" / kind, dpi)
    return written


def cmd_plot(args) -> int:
    """``sim plot``: draw a run or sweep folder's figures into its figures/ subfolder."""
    files = plot_folder(args.folder, args.kind, args.metric, args.dpi)
    print(f"wrote {len(files)} files to {Path(args.folder) / 'figures'}: "
          + ", ".join(sorted({p.stem for p in files})))
    return 0


def write_run_folder(folder: Path, run) -> None:
    """The files of a ``sim run`` folder (so a compared scenario can be re-read, plotted or reported), written
    beside it and renamed into place like ``sim run``'s."""
    from sim.io import replace_folder

    with replace_folder(folder, RUN_FILES) as tmp:
        run.write_tables(tmp)


def cmd_compare(args) -> int:
    """``sim compare``: run or read several scenarios and draw them side by side, with a CSV table."""
    from sim.io import folder_lock

    if args.replications < 1:
        raise UsageError("--replications", "must be at least 1")
    out = Path(args.out or Path("results") / "compare")
    with folder_lock(out):  # one writer at a time, as sim run
        check_compare_folder(out)
        return compare_into(out, args)


def check_compare_folder(out: Path) -> None:
    """Refuse an ``--out`` holding anything a comparison did not write, as ``sim run`` refuses a folder that is not
    its own: a comparison writes ``comparison.png/.svg/.csv`` and one ``sim run`` folder per scenario it ran, so
    anything else there (a sweep, a user's file or folder) would sit beside or be overwritten by it."""
    from sim.io import SWEEP_MARKERS

    if not out.exists():
        return
    if not out.is_dir():
        raise ConfigError(out, "", "exists and is not a folder; choose another --out")
    for path in sorted(out.iterdir()):
        if path.name.startswith(".") or path.name in COMPARE_FILES or is_run_folder(path):
            continue
        if path.name in SWEEP_MARKERS:
            raise ConfigError(out, "", f"is a sim sweep folder (has {path.name}); a comparison needs its own --out")
        raise ConfigError(out, "", f"holds files a sim compare did not write (e.g. {path.name}); choose an empty or "
                                   "new --out")


def is_run_folder(path: Path) -> bool:
    """A folder holding only the files of a ``sim run`` folder (what a comparison writes for each scenario it ran)."""
    return path.is_dir() and all(p.name.startswith(".") or p.name in RUN_FILES for p in path.iterdir())


def compare_into(out: Path, args) -> int:
    """Run or read ``args.scenarios`` and write the comparison into ``out`` (locked and checked by the caller)."""
    from sim.figures.run import comparison_figure, comparison_table, save_both
    from sim.io import write_csv
    from sim.results import RunResults

    # Validate every argument before running anything, so a typo in the last one costs nothing.
    plan = []
    for ref in args.scenarios:
        if Path(ref).is_dir():
            plan.append((ref, RunResults.read(ref)))
        else:
            plan.append((ref, plan_run(ref, args, where=f" for {ref}")))
    runs: list = []
    used: set[str] = set()

    def unique(name: str) -> str:
        while name in used:
            name += "_"
        used.add(name)
        return name

    for ref, item in plan:
        if isinstance(item, RunResults):
            item.label = unique(Path(ref).resolve().name)  # a folder is known by its name (results/strict)
            runs.append(item)
            continue
        scenario, strategies = item
        run = run_paired(scenario, strategies, args.replications)
        run.label = unique(scenario.name)
        run.folder = out / run.label
        write_run_folder(run.folder, run)
        runs.append(run)
    save_both(comparison_figure(runs), out / "comparison", args.dpi)
    table = comparison_table(runs)
    write_csv(table, out / "comparison.csv")
    cols = ["scenario", "strategy", "npv.meta", "llama_token_share_m24", "final_commoditization"]
    shown = table[cols].copy()
    shown["npv.meta"] = shown["npv.meta"] / 1e9
    print(shown.rename(columns={"npv.meta": "Meta NPV $B"}).to_string(index=False, float_format=lambda v: f"{v:,.3f}"))
    print(f"wrote {out}/comparison.png, comparison.svg, comparison.csv")
    return 0


def cmd_report(args) -> int:
    """``sim report``: write a run or sweep folder's self-contained HTML report."""
    from sim.figures.run_report import write_report

    path = write_report(args.folder, args.out, args.dpi)
    print(f"wrote {path}")
    return 0


def cmd_dashboard(args) -> int:
    """Serve the SolaraViz app; solara's front-end assets come from the local solara-assets package."""
    from sim.dashboard import serve

    port = args.port
    if port is None:
        env = os.environ.get("PORT", "8765")
        try:
            port = int_in(1, 65_535)(env)
        except argparse.ArgumentTypeError as exc:
            raise UsageError("PORT", str(exc)) from None
    check_port_free(args.host, port)
    try:
        return serve(args.host, port, open_browser=args.open)
    except KeyboardInterrupt:
        print("sim dashboard: stopped", file=sys.stderr)
        return 130


def check_port_free(host: str, port: int) -> None:
    """Bind the port once (as the server will, with SO_REUSEADDR) so a port in use is one line and exit 2, not a
    server that says "starting" and then dies."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except (socket.gaierror, UnicodeError) as exc:
        raise UsageError("--host", f"cannot use {host!r}: {exc}") from None
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise UsageError("--port", f"{port} is already in use on {host}; choose another --port (or set "
                                           f"PORT)") from None
            raise UsageError("--host", f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None


def register(sub) -> None:
    """Add ``sim plot``, ``sim compare``, ``sim report`` and ``sim dashboard`` to the command line."""
    p = sub.add_parser("plot", help="draw the figures of a sim run (or sim sweep) output folder")
    p.add_argument("folder", help="a sim run folder (timeseries.parquet, summary.csv) or sim sweep folder "
                                  "(results.parquet)")
    p.add_argument("--kind", action="append", metavar="KIND",
                   help=f"subset to draw (repeatable or comma list); run folders: {','.join(RUN_KINDS)}; "
                        f"sweep folders: {','.join(SWEEP_KINDS)}; default all")
    p.add_argument("--metric", default="npv.meta", help="sweep metric for response and break-even (default npv.meta)")
    p.add_argument("--dpi", type=int_in(20, 600), default=150, help="resolution of the PNG files (default 150)")
    p.set_defaults(func=cmd_plot)

    p = sub.add_parser("compare", help="run (or read) several scenarios and draw them side by side")
    p.add_argument("scenarios", nargs="+", metavar="SCENARIO", help="preset names, YAML paths or sim run folders")
    p.add_argument("--out", metavar="DIR", help="output folder (default results/compare); refused if it holds files "
                                                "sim compare did not write (its comparison.* and one sim run folder "
                                                "per scenario), or another sim is writing it")
    p.add_argument("--replications", type=int_in(1, 10_000), default=3, metavar="R",
                   help="replicates per strategy and scenario, on seeds shared by all strategies (default 3)")
    p.add_argument("--strategies", default=None, metavar="LIST", help=STRATEGY_HELP)
    p.add_argument("--dpi", type=int_in(20, 600), default=150, help="resolution of the PNG file (default 150)")
    add_scenario_options(p)
    p.set_defaults(func=cmd_compare)

    p = sub.add_parser("report", help="write a self-contained HTML report of a sim run (or sweep) folder")
    p.add_argument("folder", help="a sim run folder (timeseries.parquet, summary.csv) or sim sweep folder "
                                  "(results.parquet)")
    p.add_argument("--out", help="HTML file to write (default FOLDER/report.html)")
    p.add_argument("--dpi", type=int_in(20, 600), default=110, help="resolution of the embedded figures (default 110)")
    p.set_defaults(func=cmd_report)

    p = sub.add_parser("dashboard", help="interactive dashboard in the browser (mesa SolaraViz)")
    p.add_argument("--port", type=int_in(1, 65_535), default=None, help="port (default $PORT or 8765)")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1: this machine "
                                                         "only; 0.0.0.0 serves the network)")
    p.add_argument("--open", action="store_true", help="open a browser tab")
    p.set_defaults(func=cmd_dashboard)

