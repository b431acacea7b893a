"""A sweep's output folder: one Parquet part per batch of finished runs, a SQLite manifest, and the assembled results.

A part is written under a temporary name and renamed, so its presence is the truth of "these runs finished": a
SIGKILL at any moment loses only runs that had not finished. A part holds the runs a worker returned together (one
per part in this process, a bundle from worker processes: a part per run cost the coordinator a thirtieth of a small
run's time), is named by its first run's key, and the store never writes a finished run again, so a run is never
stored twice. The manifest (planned and finished runs) is a fast index, reconciled with the parts on every open.

Layout of ``DIR``: ``experiment.json`` (identity hash and the validated experiment), ``scenario.yaml`` (the merged
base scenario), ``design.parquet`` (points, unit coordinates), ``manifest.sqlite``, ``parts/<first key>.parquet``,
and at the end ``results.parquet`` (one row per run).
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
import time
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.dataset as pa_dataset
import pyarrow.parquet as pq
import yaml

from sim.errors import ConfigError
from sim.experiments.designs import Design
from sim.experiments.runs import RunSpec, run_key
from sim.io import atomic_path, folder_lock, write_parquet, write_text

OWN_FILES = {"experiment.json", "scenario.yaml", "design.parquet", "manifest.sqlite", "manifest.sqlite-journal",
             "manifest.sqlite-wal", "manifest.sqlite-shm", "parts", "results.parquet", "paired_deltas.csv",
             "sensitivity.csv", "point_stats.csv"}


def design_frame(design: Design) -> pd.DataFrame:
    """The design as a table: point, ``param.<path>`` values and ``unit.<path>`` sampler coordinates."""
    frame = {"point": np.arange(design.size, dtype=np.int64)}
    for j, name in enumerate(design.names):
        frame[f"param.{name}"] = design.values[:, j].astype(float)
    for j, name in enumerate(design.names):
        frame[f"unit.{name}"] = design.unit[:, j].astype(float)
    return pd.DataFrame(frame)


def part_keys(path: Path) -> list[str]:
    """The keys of the runs a Parquet part holds, in its row order."""
    ids = pq.read_table(path, columns=["point", "replicate", "strategy"]).to_pydict()
    return [run_key(p, r, s) for p, r, s in zip(ids["point"], ids["replicate"], ids["strategy"], strict=True)]


class SweepStore:
    """The output folder of one experiment. Only the coordinating process writes to it, and only one at a time: the
    store holds the folder's lock from opening to :meth:`close`."""

    def __init__(self, out: Path, record: dict, scenario: dict, design: Design, runs: list[RunSpec], resume: bool):
        self.out = Path(out)
        self.parts = self.out / "parts"
        self.record = record
        self.runs = runs
        self.db = None
        # One writer per folder, as sim run (sim.io.folder_lock): a second sweep, or a --resume while the first still
        # runs, is refused at once instead of running every run twice. Held until close().
        self._lock = contextlib.ExitStack()
        self._lock.enter_context(folder_lock(self.out))
        try:
            self._prepare(design, scenario, resume)
            self.db = sqlite3.connect(self.out / "manifest.sqlite", isolation_level=None)
            self.db.execute("PRAGMA journal_mode=WAL")  # cheap commits; the parts, not the manifest, are the truth
            self.db.execute("PRAGMA synchronous=NORMAL")
            self._plan()
            self.finished = self._reconcile()
        except BaseException:
            self.close()
            raise

    # --- opening ----------------------------------------------------------------------------------------------------

    def _prepare(self, design: Design, scenario: dict, resume: bool) -> None:
        """Refuse a folder holding something else; write the experiment's identity files the first time."""
        stored = self.out / "experiment.json"
        if stored.exists():
            try:
                old = json.loads(stored.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                raise ConfigError(self.out, "experiment.json", "unreadable; this is not a sweep folder") from None
            if old.get("hash") != self.record["hash"] or old.get("format") != self.record["format"]:
                name = old.get("experiment", {}).get("name", "?")
                raise ConfigError(self.out, "", f"holds results of a different experiment ({name}, hash "
                                                f"{old.get('hash')}; this one is {self.record['hash']}); choose "
                                                f"another --out or delete the folder")
            if (self.out / "timeseries.parquet").exists():
                raise ConfigError(self.out, "timeseries.parquet", "a sim run wrote into this sweep folder (its "
                                                                  "scenario.yaml may differ): start a new folder")
            if not resume:
                raise ConfigError(self.out, "", "already holds this experiment's runs; add --resume to continue "
                                                "it, or choose another --out")
            if not design_frame(design).equals(pd.read_parquet(self.out / "design.parquet")):
                raise ConfigError(self.out, "design.parquet", "the design drawn now differs from the stored one "
                                                              "(library versions changed?); start a new folder")
            return
        if (self.out / "timeseries.parquet").exists() or (self.out / "summary.csv").exists():
            raise ConfigError(self.out, "", "is a sim run folder (has timeseries.parquet or summary.csv); a sweep "
                                            "needs its own --out")
        if self.out.exists() and any(p.name not in OWN_FILES for p in self.out.iterdir()):
            raise ConfigError(self.out, "", "is not empty and holds no sweep; choose an empty or new folder")
        self.parts.mkdir(parents=True, exist_ok=True)
        write_parquet(design_frame(design), self.out / "design.parquet")
        write_text(yaml.safe_dump(scenario, sort_keys=False), self.out / "scenario.yaml")
        write_text(json.dumps(self.record, indent=2), stored)  # last: its presence marks a sweep folder

    def _plan(self) -> None:
        self.db.executescript("""
            CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
            CREATE TABLE IF NOT EXISTS runs (
                key TEXT PRIMARY KEY, point INTEGER NOT NULL, replicate INTEGER NOT NULL, strategy TEXT NOT NULL,
                seed INTEGER NOT NULL, status TEXT NOT NULL CHECK (status IN ('planned', 'finished')),
                finished_at REAL);
        """)
        with self.db:
            self.db.execute("BEGIN")
            self.db.execute("INSERT OR REPLACE INTO meta VALUES ('hash', ?)", (self.record["hash"],))
            self.db.executemany(
                "INSERT OR IGNORE INTO runs VALUES (?, ?, ?, ?, ?, 'planned', NULL)",
                ((r.key, r.point, r.replicate, r.strategy, r.seed) for r in self.runs))

    def _reconcile(self) -> set[str]:
        """Parts on disk are the truth: mark them finished, anything else planned; drop temporaries of killed writes."""
        for tmp in self.parts.glob(".*.tmp"):
            tmp.unlink(missing_ok=True)
        planned = {r.key for r in self.runs}
        finished = set().union(*(self._keys_in(part) for part in sorted(self.parts.glob("*.parquet")))) & planned
        with self.db:
            self.db.execute("BEGIN")
            self.db.execute("UPDATE runs SET status = 'planned', finished_at = NULL")
            self.db.executemany("UPDATE runs SET status = 'finished' WHERE key = ?", ((k,) for k in finished))
        return finished

    def _keys_in(self, path: Path) -> set[str]:
        """The keys of the runs a part holds (none, and the part removed, if it cannot be read)."""
        try:
            return set(part_keys(path))
        except (OSError, pa.ArrowException, KeyError):
            path.unlink(missing_ok=True)  # cannot happen with rename-into-place, but never trust a broken part
            return set()

    # --- running ----------------------------------------------------------------------------------------------------

    def todo(self) -> list[RunSpec]:
        """The runs not finished yet, so an interrupted sweep resumes where it stopped."""
        return [r for r in self.runs if r.key not in self.finished]

    def save(self, done: Iterable[tuple[RunSpec, dict]]) -> int:
        """Store finished runs: parts first (the truth), then their manifest rows in one transaction."""
        keys, rows = [], []
        for spec, row in done:
            if spec.key in self.finished or spec.key in keys:
                continue
            keys.append(spec.key)
            rows.append(row)
        if rows:
            with atomic_path(self.parts / f"{keys[0]}.parquet") as tmp:  # a few rows: no compression or statistics
                pq.write_table(pa.Table.from_pylist(rows), tmp, compression="none", write_statistics=False)
        now = time.time()
        with self.db:
            self.db.execute("BEGIN")
            self.db.executemany("UPDATE runs SET status = 'finished', finished_at = ? WHERE key = ?",
                                ((now, key) for key in keys))
        self.finished.update(keys)
        return len(keys)

    def counts(self) -> dict[str, int]:
        """Runs in the manifest by status, for progress and the final summary."""
        rows = self.db.execute("SELECT status, COUNT(*) FROM runs GROUP BY status").fetchall()
        return {status: n for status, n in rows}

    # --- assembling -------------------------------------------------------------------------------------------------

    def assemble(self, strategies: list[str], columns: list[str]) -> pd.DataFrame:
        """results.parquet from the parts: one row per run, sorted by point, replicate and strategy as listed."""
        missing = [r.key for r in self.runs if r.key not in self.finished]
        if missing:
            raise RuntimeError(f"{len(missing)} runs have not finished (first: {missing[0]})")
        if not self.runs:
            return pd.DataFrame(columns=columns)
        parts = [str(p) for p in sorted(self.parts.glob("*.parquet"))]  # one schema: execute() writes every row
        df = pa_dataset.dataset(parts, format="parquet").to_table().to_pandas()  # read on threads, not one by one
        df = df.drop_duplicates(["point", "replicate", "strategy"])  # never written twice; a part copied in by hand
        order = {s: i for i, s in enumerate(strategies)}
        df = (df.assign(_s=df["strategy"].map(order)).sort_values(["point", "replicate", "_s"], kind="stable")
              .drop(columns="_s").reset_index(drop=True))[columns]
        write_parquet(df, self.out / "results.parquet")
        return df

    def close(self) -> None:
        """Close the manifest database and release the folder's lock."""
        try:
            if self.db is not None:
                self.db.close()
                self.db = None
        finally:
            self._lock.close()
