"""Interactive dashboard (mesa SolaraViz served by solara); the app itself is :mod:`sim.dashboard.app`.

Only :func:`serve` lives here, so importing the package does not import solara.
"""

from __future__ import annotations

import os

APP = "sim.dashboard.app"


def solara_environment() -> dict[str, str]:
    """Settings that keep the server on this machine: front-end assets from the installed ``solara-assets``
    package (solara's local CDN proxy cache) instead of a CDN, no telemetry, no version check."""
    return {
        "SOLARA_ASSETS_PROXY": "true",
        "SOLARA_TELEMETRY_MIXPANEL_ENABLE": "false",
        "SOLARA_THEME_LOADER": "plain",
        "MPLBACKEND": "Agg",
    }


# What solara warns on a page's first load over plain http at any host but "localhost" (127.0.0.1, 0.0.0.0):
# it would like a samesite=none session cookie, which browsers allow only with https, so it falls back to
# samesite=lax. That fallback is right for this app, which is opened directly and never embedded in another
# site's iframe; no solara setting turns the warning off (solara 1.64: starlette.py decides from the request).
SOLARA_COOKIE_WARNING = r"Cookies with samesite=none require https"


def quiet_solara_warnings() -> None:
    """Drop solara's samesite cookie warning (:data:`SOLARA_COOKIE_WARNING`); every other warning still shows."""
    import warnings

    warnings.filterwarnings("ignore", message=SOLARA_COOKIE_WARNING, category=UserWarning,
                            module=r"solara\.server\.starlette")


def serve(host: str = "127.0.0.1", port: int = 8765, open_browser: bool = False) -> int:
    """Run the dashboard's web server in this process until interrupted."""
    import importlib.util
    import sys

    for key, value in solara_environment().items():
        os.environ.setdefault(key, value)
    quiet_solara_warnings()
    if importlib.util.find_spec("solara_assets") is None:
        print("sim dashboard: solara-assets is not installed; the page will fetch its front end from a CDN",
              file=sys.stderr)
    from solara.__main__ import run  # imported after the environment is set: solara reads it on import

    args = [APP, "--host", host, "--port", str(port), "--production", "--no-check-version",
            "--open" if open_browser else "--no-open", "--log-level-uvicorn", "warning"]
    from click.exceptions import Abort

    try:
        run.main(args=args, standalone_mode=False)
    except Abort:  # click's name for Ctrl-C once uvicorn has shut down; the caller prints one line
        raise KeyboardInterrupt from None
    return 0
