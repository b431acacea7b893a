"""Output folders of decision commands, built on the sweep's store: every batch of runs is a sweep folder.

``DIR/decision.json`` names the problem (its hash); each batch of runs (a generation of the search, or the game's
profiles) lives in a sub-folder laid out exactly like a sweep's (:class:`sim.experiments.storage.SweepStore`: a
Parquet part per batch of finished runs and a manifest), so a killed command resumes without repeating or losing a run.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from sim.errors import ConfigError
from sim.experiments.base import Evaluator
from sim.experiments.designs import Design
from sim.experiments.runs import RunContext, RunFailed, RunSpec
from sim.experiments.storage import SweepStore
from sim.io import write_text


def open_folder(out: Path, record: dict, resume: bool) -> None:
    """Refuse a folder of another problem, or this problem's without ``resume``; mark a new one as ours."""
    stored = out / "decision.json"
    if stored.exists():
        try:
            old = json.loads(stored.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            raise ConfigError(out, "decision.json", "unreadable; this is not a decision folder") from None
        if old.get("hash") != record["hash"] or old.get("format") != record["format"]:
            raise ConfigError(out, "", f"holds results of a different problem ({old.get('spec', {}).get('name')}, "
                                       f"hash {old.get('hash')}; this one is {record['hash']}); choose another "
                                       f"--out or delete the folder")
        if not resume:
            raise ConfigError(out, "", "already holds this problem's runs; add --resume to continue, or choose "
                                       "another --out")
        return
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise ConfigError(out, "", "is not an empty folder and holds no decision runs; choose a new or empty one")
    write_text(json.dumps(record, indent=2), stored)


def run_batch(folder: Path, record: dict, base: dict, design: Design, runs: list[RunSpec], context: RunContext,
              evaluator: Evaluator, strategies: list[str],
              on_progress: Callable[[int], object] | None = None) -> tuple[pd.DataFrame, int]:
    """Every run of one batch (skipping those stored before) -> its results table and how many ran now."""
    store = SweepStore(folder, record, base, design, runs, resume=True)
    try:
        todo = store.todo()
        try:
            for batch in evaluator.evaluate(context, todo):
                n = store.save(batch)
                if on_progress:
                    on_progress(n)
        except RunFailed as exc:
            raise exc.config_error() from None
        return store.assemble(strategies, context.columns()), len(todo)
    finally:
        store.close()
