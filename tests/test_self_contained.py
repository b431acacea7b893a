"""The repository stands alone: nothing a user reads (README, docs, help texts, scenario descriptions, code) points to
design or calibration notes outside it. The model is docs/model.md, the sourced figures docs/sources.md."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCANNED = ["README.md", "docs", "sim", "scenarios", "experiments", "calibration", "benchmarks", "pyproject.toml"]
OUTSIDE = re.compile(r"\.\./shared|shared/design|shared/calibration|design\.md")


def tracked_files() -> list[Path]:
    """The files git tracks under SCANNED (every text file there when this is not a git checkout)."""
    try:
        out = subprocess.run(["git", "ls-files", "-z", "--", *SCANNED], cwd=ROOT, capture_output=True, check=True)
        names = [n for n in out.stdout.decode().split("\0") if n]
    except (OSError, subprocess.CalledProcessError):
        names = []
    if names:
        return [ROOT / n for n in names]
    return [p for top in SCANNED for p in ([ROOT / top] if (ROOT / top).is_file() else (ROOT / top).rglob("*"))
            if p.is_file()]


def test_nothing_points_outside_the_repository():
    files = tracked_files()
    assert any(f.name == "README.md" for f in files) and any(f.suffix == ".py" for f in files)
    hits = []
    for f in files:
        try:
            text = f.read_text(encoding="utf-8")
        except (UnicodeDecodeError, OSError):
            continue  # binary files (figures, parquet) hold no references a reader follows
        for n, line in enumerate(text.splitlines(), 1):
            if OUTSIDE.search(line):
                hits.append(f"{f.relative_to(ROOT)}:{n}: {line.strip()[:100]}")
    assert not hits, "references to files outside the repository:\n" + "\n".join(hits)


def test_the_pattern_catches_what_it_must():
    for text in ("see ../shared/design.md", "from shared/calibration.md", "(design.md §12)"):
        assert OUTSIDE.search(text)
    assert not OUTSIDE.search("see docs/model.md and docs/sources.md")


def test_docs_cross_links_exist():
    for doc in (ROOT / "docs").glob("*.md"):
        for target in re.findall(r"\]\(([^)#]+\.md)\)", doc.read_text()):
            assert (doc.parent / target).is_file(), f"{doc.name} links to missing {target}"
    readme = (ROOT / "README.md").read_text()
    for target in re.findall(r"\]\((docs/[^)#]+\.md)\)", readme):
        assert (ROOT / target).is_file(), f"README links to missing {target}"


# A wall-clock time stated as a fact ("~75 s", "about 3 minutes on 2 cores") goes stale with every change of the engine
# or the machine. The pages a user reads first state none; measured times live in docs/performance.md (which says how
# to measure them) and in what the benchmarks print.
TIMED_PAGES = ["README.md", "docs/presets.md", "docs/validation.md"]
WALL_CLOCK = re.compile(r"(~|≈|about |takes |in )\s?\d[\d.,]*\s?(s|sec|seconds|min|minutes?)\b", re.IGNORECASE)


def test_first_pages_state_no_wall_clock_times():
    hits = [f"{page}:{n}: {line.strip()[:100]}" for page in TIMED_PAGES
            for n, line in enumerate((ROOT / page).read_text(encoding="utf-8").splitlines(), 1)
            if WALL_CLOCK.search(line)]
    assert not hits, "stale-prone timings (drop them, or let a script print them):\n" + "\n".join(hits)
    assert WALL_CLOCK.search("validate-model (~75 s on 2 cores)") and WALL_CLOCK.search("about 3 minutes")
