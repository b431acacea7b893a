"""Atomic output: every file is written to a temporary name in its folder, then renamed, so a killed run never
leaves a partial file behind."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path

import pandas as pd

from sim.loading import ConfigError


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
    with atomic_path(target) as tmp:
        writer(tmp)
    return Path(target)


def write_parquet(df: pd.DataFrame, target: str | Path) -> Path:
    return write_atomic(target, lambda p: df.to_parquet(p, index=False))


def write_csv(df: pd.DataFrame, target: str | Path) -> Path:
    return write_atomic(target, lambda p: df.to_csv(p, index=False))


def write_text(text: str, target: str | Path) -> Path:
    return write_atomic(target, lambda p: p.write_text(text, encoding="utf-8"))


def save_figure(fig, target: str | Path, **kwargs) -> Path:
    """Save a matplotlib figure atomically (format from the target's suffix)."""
    fmt = Path(target).suffix.lstrip(".") or "png"
    return write_atomic(target, lambda p: fig.savefig(p, format=fmt, **kwargs))
