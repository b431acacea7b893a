"""The one error bad input raises, :class:`ConfigError`, and :func:`clip`, which keeps its message to one short line.

Its own module so that readers of files (results, experiments, figures) can raise it without importing the YAML loader.
"""

from __future__ import annotations

from pathlib import Path

MAX_QUOTE = 60  # characters of any one word (a value, a path) a message repeats
MAX_FILE = 240  # characters of the file name or field path that starts a message


def clip(text: object, limit: int = MAX_QUOTE) -> str:
    """``text`` on one line with every word longer than ``limit`` cut to its start, its length and its end (where
    a path keeps its file name), so a hostile value (a 10,000-character ``extends:``) is never echoed whole."""
    def cut(word: str) -> str:
        if len(word) <= limit:
            return word
        keep = max(limit // 2 - 6, 4)
        return f"{word[:keep]}…({len(word)} chars)…{word[-keep:]}"

    return " ".join(cut(w) for w in str(text).split())


class ConfigError(Exception):
    """A bad input file: ``file: field.path: message`` on one line (long words clipped, see :func:`clip`)."""

    def __init__(self, file: str | Path, path: str, message: str):
        self.file, self.path, self.message = clip(file, MAX_FILE), clip(path, MAX_FILE), clip(message)
        super().__init__(f"{self.file}: {self.path}: {self.message}" if path else f"{self.file}: {self.message}")
