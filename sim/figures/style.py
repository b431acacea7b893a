"""One colour and one line style per option, provider, strategy and scenario across every figure.

Colours start from Okabe-Ito; "Other open, hosted" takes Paul Tol's wine (#882255) instead of Okabe-Ito's orange,
which deuteranopes and protanopes could not tell from Anthropic's vermillion. ``tests/test_plots.py`` checks
every pair of option colours stays apart under simulated protanopia, deuteranopia and tritanopia. Line styles
and hatches tell the kinds of option apart without colour: closed APIs solid, hosted open weights dashed,
self-hosted open weights dotted (hatched in stacked areas); a lab's own open-weight model takes its lab's colour
with a dash-dot line and a cross hatch.
"""

from __future__ import annotations

OKABE_ITO = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442", "#000000", "#999999"]

OPTION_COLORS = {
    "openai": "#000000",
    "anthropic": "#D55E00",
    "google": "#0072B2",
    "meta_api": "#CC79A7",
    "llama_hosted": "#009E73",
    "llama_self": "#56B4E9",
    "open_hosted": "#882255",
    "open_self": "#F0E442",
}
for _lab in ("openai", "anthropic", "google"):  # a lab's own open weights: its colour, dash-dot, cross-hatched
    OPTION_COLORS[f"{_lab}_open"] = OPTION_COLORS[_lab]
OPTION_STYLES = {
    "openai": "-", "anthropic": "-", "google": "-", "meta_api": "-",
    "llama_hosted": "--", "open_hosted": "--",
    "llama_self": ":", "open_self": ":",
    "openai_open": "-.", "anthropic_open": "-.", "google_open": "-.",
}
OPTION_HATCHES = {
    "openai": "", "anthropic": "", "google": "", "meta_api": "",
    "llama_hosted": "//", "open_hosted": "//",
    "llama_self": "..", "open_self": "..",
    "openai_open": "xx", "anthropic_open": "xx", "google_open": "xx",
}
PROVIDER_COLORS = {
    "openai": "#000000",
    "anthropic": "#D55E00",
    "google": "#0072B2",
    "meta": "#009E73",
    "open_rival": "#882255",
    "cloud_host": "#999999",
}
OPTION_LABELS = {
    "openai": "OpenAI API",
    "anthropic": "Anthropic API",
    "google": "Google API",
    "meta_api": "Meta API (closed)",
    "llama_hosted": "Llama, cloud-hosted",
    "llama_self": "Llama, self-hosted",
    "open_hosted": "Other open, hosted",
    "open_self": "Other open, self-hosted",
    "openai_open": "OpenAI open weights (gpt-oss)",
    "anthropic_open": "Anthropic open weights",
    "google_open": "Google open weights (Gemma)",
}
STRATEGY_LABELS = {"open": "Meta open (Llama)", "closed": "Meta closed API", "absent": "No Meta model"}
STRATEGY_COLORS = {"open": OPTION_COLORS["llama_hosted"], "closed": OPTION_COLORS["meta_api"], "absent": "#999999"}
STRATEGY_STYLES = {"open": "-", "closed": "--", "absent": ":"}  # told apart without colour too
STRATEGY_HATCHES = {"open": "", "closed": "//", "absent": ".."}

# Scenarios compared side by side get colours no strategy uses, and a line style each, so that in a figure that
# also shows strategies (sim compare) a colour never means both a scenario and a strategy.
SCENARIO_COLORS = ["#0072B2", "#D55E00", "#000000", "#E69F00", "#56B4E9"]
SCENARIO_STYLES = ["-", "--", "-.", ":", (0, (5, 1, 1, 1, 1, 1))]


def scenario_style(i: int) -> tuple[str, str | tuple]:
    """Colour and line style of the ``i``-th scenario (both change from one scenario to the next)."""
    return SCENARIO_COLORS[i % len(SCENARIO_COLORS)], SCENARIO_STYLES[i % len(SCENARIO_STYLES)]
