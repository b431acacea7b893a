"""One colour per option and provider across every figure (Okabe-Ito, colour-blind safe)."""

from __future__ import annotations

OKABE_ITO = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442", "#000000", "#999999"]

OPTION_COLORS = {
    "openai": "#000000",
    "anthropic": "#D55E00",
    "google": "#0072B2",
    "meta_api": "#CC79A7",
    "llama_hosted": "#009E73",
    "llama_self": "#56B4E9",
    "open_hosted": "#E69F00",
    "open_self": "#F0E442",
}
PROVIDER_COLORS = {
    "openai": "#000000",
    "anthropic": "#D55E00",
    "google": "#0072B2",
    "meta": "#009E73",
    "open_rival": "#E69F00",
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
}
STRATEGY_LABELS = {"open": "Meta open (Llama)", "closed": "Meta closed API", "absent": "No Meta model"}
STRATEGY_COLORS = {"open": OPTION_COLORS["llama_hosted"], "closed": OPTION_COLORS["meta_api"], "absent": "#999999"}
STRATEGY_STYLES = {"open": "-", "closed": "--", "absent": ":"}  # told apart without colour too
