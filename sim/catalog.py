"""The market's providers, options and consumer products, each declared once (docs/architecture.md).

An *option* is what a developer picks: a closed API, an open-weight model served by a cloud host, or open weights run
on the firm's own hardware. Each option has an owner (the provider whose model it is), a family (the model lineage
that shares a network effect and community), whether its weights are open, and a route (``api``, ``hosted``,
``self``). Every array over options, every list of labs, every colour and label in the figures is derived from the
tables below, so adding an option or a lab is one row here, not an edit in lockstep across the code.

Indices are fixed so that arrays over options have the same columns whatever Meta's strategy; an option that does not
exist in a run is simply unavailable (its share is 0). "Not adopted" is choice -1, not an option.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Provider:
    """A company in the market. ``kind``: ``closed_lab`` (a paid API and a data flywheel), ``meta`` (Meta, whose
    strategy is the policy compared), ``open_family`` (open-weight models of other origins) or ``host`` (the
    clouds that serve open weights)."""

    key: str
    label: str
    kind: str
    colour: str


@dataclass(frozen=True)
class Option:
    """A choice open to a developer: whose model (``owner``), which lineage (``family``), open weights or not, and the
    route to it (``api``, ``hosted`` by a cloud, or ``self``-hosted); how figures draw it."""

    key: str
    label: str
    owner: str
    family: str
    open: bool
    route: str
    colour: str
    style: str
    hatch: str


@dataclass(frozen=True)
class Product:
    """A consumer AI product: an assistant with an owner, or the apps built on what developers chose (no owner)."""

    key: str
    owner: str | None


PROVIDER_TABLE = (
    Provider("openai", "OpenAI", "closed_lab", "#000000"),
    Provider("anthropic", "Anthropic", "closed_lab", "#D55E00"),
    Provider("google", "Google", "closed_lab", "#0072B2"),
    Provider("meta", "Meta", "meta", "#009E73"),
    Provider("open_rival", "Other open families", "open_family", "#882255"),
    Provider("cloud_host", "Cloud hosts", "host", "#999999"),
)
# Colours start from Okabe-Ito; "Other open, hosted" takes Paul Tol's wine (#882255) instead of Okabe-Ito's orange,
# which deuteranopes and protanopes could not tell from Anthropic's vermillion. Line styles and hatches tell the
# routes apart without colour: closed APIs solid, hosted open weights dashed, self-hosted dotted (hatched in stacked
# areas); a lab's own open-weight model takes its lab's colour with a dash-dot line and a cross hatch.
OPTION_TABLE = (
    Option("openai", "OpenAI API", "openai", "openai", False, "api", "#000000", "-", ""),
    Option("anthropic", "Anthropic API", "anthropic", "anthropic", False, "api", "#D55E00", "-", ""),
    Option("google", "Google API", "google", "google", False, "api", "#0072B2", "-", ""),
    Option("meta_api", "Meta API (closed)", "meta", "meta", False, "api", "#CC79A7", "-", ""),
    Option("llama_hosted", "Llama, cloud-hosted", "meta", "meta", True, "hosted", "#009E73", "--", "//"),
    Option("llama_self", "Llama, self-hosted", "meta", "meta", True, "self", "#56B4E9", ":", ".."),
    Option("open_hosted", "Other open, hosted", "open_rival", "open_rival", True, "hosted", "#882255", "--", "//"),
    Option("open_self", "Other open, self-hosted", "open_rival", "open_rival", True, "self", "#F0E442", ":", ".."),
    Option("openai_open", "OpenAI open weights (gpt-oss)", "openai", "openai", True, "hosted", "#000000", "-.", "xx"),
    Option("anthropic_open", "Anthropic open weights", "anthropic", "anthropic", True, "hosted", "#D55E00", "-.",
           "xx"),
    Option("google_open", "Google open weights (Gemma)", "google", "google", True, "hosted", "#0072B2", "-.", "xx"),
)
PRODUCT_TABLE = (
    Product("meta_ai", "meta"),
    Product("openai", "openai"),
    Product("anthropic", "anthropic"),
    Product("google", "google"),
    Product("platforms", None),  # the named giants' apps, on the models they chose
    Product("apps", None),  # the rest of the platform segment's apps
)

# ---- derived: names -------------------------------------------------------------------------------------------------
PROVIDERS = tuple(p.key for p in PROVIDER_TABLE)
OPTIONS = tuple(o.key for o in OPTION_TABLE)
CLOSED_LABS = tuple(p.key for p in PROVIDER_TABLE if p.kind == "closed_lab")
MODEL_MAKERS = tuple(p.key for p in PROVIDER_TABLE if p.kind != "host")  # whose models have a family
FAMILIES = MODEL_MAKERS  # model families, for the network and concentration terms: one per model maker
FLYWHEEL_LABS = (*CLOSED_LABS, "meta")  # providers with a data flywheel (Meta's runs while it sells an API)
PRODUCTS = tuple(p.key for p in PRODUCT_TABLE)
PRODUCT_OWNER = {p.key: p.owner for p in PRODUCT_TABLE if p.owner is not None}
K = len(OPTIONS)
IDX = {name: i for i, name in enumerate(OPTIONS)}
FAMILY = {name: i for i, name in enumerate(FAMILIES)}
PRODUCT = {name: i for i, name in enumerate(PRODUCTS)}


def _mask(test) -> np.ndarray:
    return np.array([bool(test(o)) for o in OPTION_TABLE], dtype=bool)


# ---- derived: arrays over options -------------------------------------------------------------------------------
IS_OPEN = _mask(lambda o: o.open)
IS_SELF = _mask(lambda o: o.route == "self")
IS_HOSTED_OPEN = IS_OPEN & ~IS_SELF
IS_META = _mask(lambda o: o.owner == "meta")
IS_LLAMA = IS_META & IS_OPEN
IS_LAB_OPEN = _mask(lambda o: o.open and o.owner in CLOSED_LABS)
FAMILY_OF = np.array([FAMILY[o.family] for o in OPTION_TABLE])
CLOSED_OPTIONS = np.flatnonzero(~IS_OPEN)
API_OF = {o.owner: i for i, o in enumerate(OPTION_TABLE) if o.route == "api"}  # each API seller's option
LAB_OPEN = {o.owner: i for i, o in enumerate(OPTION_TABLE) if o.open and o.owner in CLOSED_LABS}  # gpt-oss, Gemma
META_API = API_OF["meta"]
LLAMA_HOSTED, LLAMA_SELF = (IDX[k] for k in ("llama_hosted", "llama_self"))
OPEN_HOSTED, OPEN_SELF = (IDX[k] for k in ("open_hosted", "open_self"))
RIVAL_OPTIONS = np.flatnonzero(_mask(lambda o: o.owner == "open_rival"))  # Mistral, DeepSeek, Qwen...
OTHER_HOSTED_OPEN = IS_HOSTED_OPEN & ~IS_LLAMA  # hosted by the clouds besides Llama: open families, labs' own weights

# ---- derived: figures ---------------------------------------------------------------------------------------------
OPTION_LABELS = {o.key: o.label for o in OPTION_TABLE}
OPTION_COLORS = {o.key: o.colour for o in OPTION_TABLE}
OPTION_STYLES = {o.key: o.style for o in OPTION_TABLE}
OPTION_HATCHES = {o.key: o.hatch for o in OPTION_TABLE}
PROVIDER_COLORS = {p.key: p.colour for p in PROVIDER_TABLE}
PROVIDER_LABELS = {p.key: p.label for p in PROVIDER_TABLE}
