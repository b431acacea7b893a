"""One colour and one line style per option, provider, strategy and scenario across every figure.

Options and providers take theirs from :mod:`sim.catalog`, where they are declared (a provider a scenario adds
gets one of Paul Tol's colours no built-in uses). Colours start from Okabe-Ito; "Other open, hosted" takes Paul
Tol's wine (#882255) instead of Okabe-Ito's orange, which deuteranopes and protanopes could not tell from
Anthropic's vermillion. ``tests/test_plots.py`` checks every pair of option colours stays apart under simulated
protanopia, deuteranopia and tritanopia. Line styles and hatches tell the kinds of option apart without colour:
closed APIs solid, hosted open weights dashed, self-hosted open weights dotted (hatched in stacked areas); a lab's
own open-weight model takes its lab's colour with a dash-dot line and a cross hatch.
"""

from __future__ import annotations

from sim.catalog import DEFAULT

OKABE_ITO = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442", "#000000", "#999999"]

# Options' and providers' colours, line styles, hatches and labels are declared with them in the catalogue.
OPTION_COLORS, OPTION_STYLES, OPTION_HATCHES = DEFAULT.OPTION_COLORS, DEFAULT.OPTION_STYLES, DEFAULT.OPTION_HATCHES
OPTION_LABELS, PROVIDER_COLORS, PROVIDER_LABELS = DEFAULT.OPTION_LABELS, DEFAULT.PROVIDER_COLORS, \
    DEFAULT.PROVIDER_LABELS
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
