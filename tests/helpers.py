"""Shared helpers: small scenarios built from the presets, so tests stay fast and follow the presets' structure."""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path

from sim.loading import load_scenario
from sim.market import LLMMarket


def small(preset: str = "baseline", n: int = 3000, horizon: int = 24, **sets) -> object:
    """A preset at a small population and short horizon, with extra ``dotted.path=value`` overrides."""
    overrides = [f"horizon_months={horizon}"] + [f"{k.replace('__', '.')}={v}" for k, v in sets.items()]
    return load_scenario(preset, overrides, population=n)


def run_model(scenario, strategy="open", seed=None, each_month=None) -> LLMMarket:
    """Run a model to its horizon, calling ``each_month(model)`` after every step."""
    model = LLMMarket(scenario, strategy=strategy, seed=seed)
    while model.running:
        model.step()
        if each_month is not None:
            each_month(model)
    return model


def write(tmp_path, name: str, text: str):
    path = tmp_path / name
    path.write_text(text)
    return path


CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]
BROWSER_ACTION_MS = 30_000


def browser_unavailable(reason: str):
    """Skip a browser test outside CI; under CI=true the browser must be there, so fail."""
    import os

    import pytest

    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason}; CI=true, so the browser test must run (see scripts/setup-browser.sh)")
    pytest.skip(reason)


@contextmanager
def chromium_page(profile: Path, width: int = 1500, height: int = 1100):
    """A page of Debian's headless Chromium driven by Playwright (no browser download), closed afterwards."""
    if not CHROMIUM.exists():
        browser_unavailable(f"{CHROMIUM} is not installed (apt-get install chromium chromium-driver)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        browser_unavailable("the playwright Python package is not installed (pip install -e '.[dev]')")
    with sync_playwright() as p:
        ctx = p.chromium.launch_persistent_context(
            str(profile), executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_FLAGS,
            viewport={"width": width, "height": height}, timeout=BROWSER_ACTION_MS)
        try:
            page = ctx.new_page()
            page.set_default_timeout(BROWSER_ACTION_MS)
            yield page
        finally:
            ctx.close()


def free_port() -> int:
    """A TCP port free on the loopback interface now (for a test's own server)."""
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def stored_runs(out) -> list[str]:
    """The keys of the runs a sweep folder's parts hold, one per stored run (a part holds a batch of runs)."""
    from sim.experiments.storage import part_keys

    return [key for part in sorted((Path(out) / "parts").glob("*.parquet")) for key in part_keys(part)]
