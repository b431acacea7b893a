"""Atomic output: every file is written to a temporary name in its folder, then renamed, so a killed run never
leaves a partial file behind; a whole output folder is built beside its target, under a lock, and renamed into
place, so old and new files never mix."""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import tempfile
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path

import pandas as pd

from sim.errors import ConfigError


@contextmanager
def atomic_path(target: str | Path):
    """Yield a temporary path beside ``target``; on success it replaces ``target``, on failure it is removed."""
    target = Path(target)
    if target.is_dir():
        raise ConfigError(target, "", "is a directory; expected a file path to write")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    except OSError as exc:
        raise ConfigError(target.parent, "", f"cannot write here: {exc.strerror or exc}") from None
    os.close(fd)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600; results are ordinary files
    try:
        yield Path(tmp)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_atomic(target: str | Path, writer: Callable[[Path], None]) -> Path:
    """Let ``writer`` fill a temporary file beside ``target``, then rename it into place: no half-written files."""
    with atomic_path(target) as tmp:
        writer(tmp)
    return Path(target)


def write_parquet(df: pd.DataFrame, target: str | Path) -> Path:
    """Write a table as Parquet (no index), atomically."""
    return write_atomic(target, lambda p: df.to_parquet(p, index=False))


def write_csv(df: pd.DataFrame, target: str | Path) -> Path:
    """Write a table as CSV (no index), atomically."""
    return write_atomic(target, lambda p: df.to_csv(p, index=False))


def write_text(text: str, target: str | Path) -> Path:
    """Write UTF-8 text, atomically."""
    return write_atomic(target, lambda p: p.write_text(text, encoding="utf-8"))


def save_figure(fig, target: str | Path, **kwargs) -> Path:
    """Save a matplotlib figure atomically (format from the target's suffix)."""
    fmt = Path(target).suffix.lstrip(".") or "png"
    return write_atomic(target, lambda p: fig.savefig(p, format=fmt, **kwargs))


# Files whose presence marks a folder as a sweep's (sim sweep): never a place for a run's files.
SWEEP_MARKERS = ("experiment.json", "manifest.sqlite", "results.parquet")


_HELD_LOCKS: set[int] = set()  # descriptors of the folder locks this process holds


def _drop_inherited_locks() -> None:
    """In a forked child (a sweep's worker): close the copies of the parent's lock descriptors, so the lock is the
    parent's alone; a worker left running after its coordinator was killed would otherwise hold it, and refuse every
    ``--resume``, for as long as it lives. Closing a copy does not release the parent's lock."""
    for fd in list(_HELD_LOCKS):
        with contextlib.suppress(OSError):
            os.close(fd)
    _HELD_LOCKS.clear()


os.register_at_fork(after_in_child=_drop_inherited_locks)


@contextmanager
def folder_lock(target: Path):
    """An exclusive lock on ``target`` for one writer: ``flock`` on the sibling file ``.<name>.lock`` (released by
    the kernel if the process dies, so it never goes stale). A second writer is refused at once. The holder removes
    the file before releasing it, so none is left behind; a writer that locked a file just removed (its inode is no
    longer at the path) tries again on the new one, so two writers never hold the lock at once."""
    target.parent.mkdir(parents=True, exist_ok=True)
    lock = target.parent / f".{target.name}.lock"
    while True:
        fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o666)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise ConfigError(target, "", f"another sim is writing this folder (lock {lock.name}); wait for it to "
                                          "finish or choose another --out") from None
        try:
            current = os.stat(lock).st_ino == os.fstat(fd).st_ino
        except FileNotFoundError:
            current = False
        if current:
            break
        os.close(fd)  # the previous holder removed this file as we locked it: lock the one at the path now
    _HELD_LOCKS.add(fd)
    try:
        yield
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(lock)  # while still holding it
        _HELD_LOCKS.discard(fd)
        os.close(fd)  # closing releases the lock


def check_replaceable(target: Path, owned: set[str], kind: str) -> None:
    """Refuse to replace a folder holding anything but ``owned`` files (hidden files aside): a sweep's folder, or
    files of the user's that replacing the folder would delete."""
    if not target.exists():
        return
    if not target.is_dir():
        raise ConfigError(target, "", "exists and is not a folder; choose another --out")
    names = sorted(p.name for p in target.iterdir() if not p.name.startswith("."))
    sweep = [n for n in names if n in SWEEP_MARKERS]
    if sweep:
        raise ConfigError(target, "", f"is a sim sweep folder (has {sweep[0]}); a {kind} needs its own --out")
    foreign = [n for n in names if n not in owned]
    if foreign:
        raise ConfigError(target, "", f"holds files a {kind} did not write (e.g. {foreign[0]}); choose an empty or "
                                      "new --out")


@contextmanager
def replace_folder(target: str | Path, owned: set[str], kind: str = "sim run"):
    """Lock ``target``, check it may be replaced, and yield a fresh temporary sibling folder to write into; on
    success the sibling replaces ``target`` (the old folder is moved aside, then deleted), on failure or Ctrl-C it
    is deleted and ``target`` is untouched."""
    target = Path(target)
    with folder_lock(target):
        check_replaceable(target, owned, kind)
        try:
            tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent))
        except OSError as exc:
            raise ConfigError(target.parent, "", f"cannot write here: {exc.strerror or exc}") from None
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o777 & ~umask)  # mkdtemp makes 0700; results are ordinary folders
        try:
            yield tmp
            if target.exists():
                old = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".old", dir=target.parent))
                os.replace(target, old)  # an empty directory may be replaced by a rename
                os.replace(tmp, target)
                shutil.rmtree(old, ignore_errors=True)
            else:
                os.replace(tmp, target)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
