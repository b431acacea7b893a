"""The market's providers, options and consumer products, each declared once (docs/architecture.md).

An *option* is what a developer picks: a closed API, an open-weight model served by a cloud host, or open weights run
on the firm's own hardware. Each option has an owner (the provider whose model it is), a family (the model lineage
that shares a network effect and community), whether its weights are open, and a route (``api``, ``hosted``,
``self``). Every array over options, every list of labs, every colour and label in the figures is derived from the
tables below, so adding an option or a lab is one row here, not an edit in lockstep across the code.

A scenario may add providers in YAML alone (``providers.<key>: {like: anthropic, ...}``, :mod:`sim.config`): a new
closed lab brings its API and a slot for its own open weights, a new open family its hosted and self-hosted routes,
appended after the built-in options. :func:`catalog_of` builds the scenario's :class:`Catalog`; the module-level
names below are those of the built-in catalogue (:data:`DEFAULT`).

Indices are fixed so that arrays over options have the same columns whatever Meta's strategy; an option that does not
exist in a run is simply unavailable (its share is 0). "Not adopted" is choice -1, not an option.
"""

from __future__ import annotations

import functools
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
    Provider("open_rival", "Other open-model makers", "open_family", "#882255"),
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

KINDS_ADDED = ("closed_lab", "open_family")  # the kinds a scenario may add, in the catalogue's order
MAX_PROVIDERS = 12  # built-in and added: keeps every figure legible and every array small
LIKE_KINDS = {"openai": "closed_lab", "anthropic": "closed_lab", "google": "closed_lab", "open_rival": "open_family"}
EXTRA_COLOURS = ("#44AA99", "#AA4499", "#DDCC77", "#332288", "#117733", "#88CCEE")  # Paul Tol's, unused above


class Catalog:
    """Every list, index and array over providers, options and products, derived from three tables of records."""

    def __init__(self, providers: tuple[Provider, ...], options: tuple[Option, ...], products: tuple[Product, ...]):
        self.provider_table, self.option_table, self.product_table = providers, options, products
        self.PROVIDERS = tuple(p.key for p in providers)
        self.OPTIONS = tuple(o.key for o in options)
        self.CLOSED_LABS = tuple(p.key for p in providers if p.kind == "closed_lab")
        self.OPEN_FAMILIES = tuple(p.key for p in providers if p.kind == "open_family")  # besides Llama
        self.FAMILIES = tuple(p.key for p in providers if p.kind != "host")  # one per model maker
        self.FLYWHEEL_LABS = (*self.CLOSED_LABS, "meta")  # a data flywheel (Meta's runs while it sells an API)
        self.PRODUCTS = tuple(p.key for p in products)
        self.PRODUCT_OWNER = {p.key: p.owner for p in products if p.owner is not None}
        self.K = len(options)
        self.IDX = {name: i for i, name in enumerate(self.OPTIONS)}
        self.FAMILY = {name: i for i, name in enumerate(self.FAMILIES)}
        self.PRODUCT = {name: i for i, name in enumerate(self.PRODUCTS)}
        self.IS_OPEN = self._mask(lambda o: o.open)
        self.IS_SELF = self._mask(lambda o: o.route == "self")
        self.IS_HOSTED_OPEN = self.IS_OPEN & ~self.IS_SELF
        self.IS_META = self._mask(lambda o: o.owner == "meta")
        self.IS_LLAMA = self.IS_META & self.IS_OPEN
        self.IS_LAB_OPEN = self._mask(lambda o: o.open and o.owner in self.CLOSED_LABS)
        self.FAMILY_OF = np.array([self.FAMILY[o.family] for o in options])
        self.CLOSED_OPTIONS = np.flatnonzero(~self.IS_OPEN)
        self.API_OF = {o.owner: i for i, o in enumerate(options) if o.route == "api"}  # each API seller's option
        self.LAB_OPEN = {o.owner: i for i, o in enumerate(options) if o.open and o.owner in self.CLOSED_LABS}
        route = {(o.owner, o.route): i for i, o in enumerate(options)}
        self.ROUTES_OF = {f: (route[f, "hosted"], route[f, "self"]) for f in self.OPEN_FAMILIES}  # hosted, self
        self.META_API = self.API_OF["meta"]
        self.LLAMA_HOSTED, self.LLAMA_SELF = self.IDX["llama_hosted"], self.IDX["llama_self"]
        self.OTHER_HOSTED_OPEN = self.IS_HOSTED_OPEN & ~self.IS_LLAMA  # open families, labs' own weights
        self.OPTION_LABELS = {o.key: o.label for o in options}
        self.OPTION_COLORS = {o.key: o.colour for o in options}
        self.OPTION_STYLES = {o.key: o.style for o in options}
        self.OPTION_HATCHES = {o.key: o.hatch for o in options}
        self.PROVIDER_COLORS = {p.key: p.colour for p in providers}
        self.PROVIDER_LABELS = {p.key: p.label for p in providers}

    def _mask(self, test) -> np.ndarray:
        return np.array([bool(test(o)) for o in self.option_table], dtype=bool)

    def family_routes(self, family: str) -> np.ndarray:
        """The options of an open family (hosted, self-hosted)."""
        return np.array(self.ROUTES_OF[family])


DEFAULT = Catalog(PROVIDER_TABLE, OPTION_TABLE, PRODUCT_TABLE)


def added_rows(key: str, kind: str, label: str, colour: str) -> tuple[Provider, tuple[Option, ...]]:
    """The provider and options a scenario adds: a closed lab's API and its own open weights (hosted), or an open
    family's hosted and self-hosted routes."""
    provider = Provider(key, label, kind, colour)
    if kind == "closed_lab":
        return provider, (Option(key, f"{label} API", key, key, False, "api", colour, "-", ""),
                          Option(f"{key}_open", f"{label} open weights", key, key, True, "hosted", colour, "-.", "xx"))
    return provider, (Option(f"{key}_hosted", f"{label}, hosted", key, key, True, "hosted", colour, "--", "//"),
                      Option(f"{key}_self", f"{label}, self-hosted", key, key, True, "self", colour, ":", ".."))


@functools.lru_cache(maxsize=64)
def build(added: tuple[tuple[str, str, str], ...], products: tuple[str, ...]) -> Catalog:
    """The catalogue with ``added`` providers ((key, kind, label) in declaration order) and consumer products."""
    if not added and not products:
        return DEFAULT
    providers, options = list(PROVIDER_TABLE), list(OPTION_TABLE)
    for i, (key, kind, label) in enumerate(added):
        provider, rows = added_rows(key, kind, label, EXTRA_COLOURS[i % len(EXTRA_COLOURS)])
        providers.insert(len(providers) - 1, provider)  # before the clouds: hosts stay last
        options.extend(rows)
    own = tuple(Product(key, key) for key in products)
    return Catalog(tuple(providers), tuple(options), PRODUCT_TABLE[:4] + own + PRODUCT_TABLE[4:])


def catalog_of(cfg) -> Catalog:
    """The catalogue of a validated scenario: the built-in one plus the providers and products it adds (closed labs
    first, then open families, each in the order declared: the order of the record's columns)."""
    extra = (cfg.providers.model_extra or {}).items()
    added = tuple((key, p.kind, p.label) for kind in KINDS_ADDED for key, p in extra if p.kind == kind)
    products = tuple((cfg.consumer.model_extra or {}).keys())
    return build(added, products)


def catalog_from_columns(columns, labels: dict[str, str] | None = None) -> Catalog:
    """The catalogue a results table was made with, read from its column names (``profit.<provider>`` in a
    timeseries, ``revenue_total.<provider>`` in a summary, ``consumer_share.<product>``): what figures of a saved run
    need. ``labels`` names the added providers (default: their keys)."""
    columns, labels = list(columns), labels or {}
    added = [c.split(".", 1)[1] for c in columns if c.startswith(("profit.", "revenue_total."))]
    added = list(dict.fromkeys(k for k in added if k not in DEFAULT.PROVIDERS))
    columns = set(columns)
    lab = {k for k in added if {f"share_tokens.{k}", f"final_share_tokens.{k}"} & columns}
    rows = tuple((k, kind, labels.get(k, k)) for kind in KINDS_ADDED for k in added
                 if (k in lab) == (kind == "closed_lab"))
    products = {c.split(".", 1)[1] for c in columns if c.startswith(("consumer_share.", "final_consumer_share."))}
    return build(rows, tuple(p for p in sorted(products) if p not in DEFAULT.PRODUCTS))


# ---- the built-in catalogue's names, for code that needs no scenario --------------------------------------------
PROVIDERS, OPTIONS, CLOSED_LABS, FAMILIES = DEFAULT.PROVIDERS, DEFAULT.OPTIONS, DEFAULT.CLOSED_LABS, DEFAULT.FAMILIES
FLYWHEEL_LABS, PRODUCTS, PRODUCT_OWNER, K = DEFAULT.FLYWHEEL_LABS, DEFAULT.PRODUCTS, DEFAULT.PRODUCT_OWNER, DEFAULT.K
IDX, FAMILY, PRODUCT = DEFAULT.IDX, DEFAULT.FAMILY, DEFAULT.PRODUCT
IS_OPEN, IS_SELF, IS_HOSTED_OPEN, IS_META = DEFAULT.IS_OPEN, DEFAULT.IS_SELF, DEFAULT.IS_HOSTED_OPEN, DEFAULT.IS_META
IS_LLAMA, IS_LAB_OPEN, FAMILY_OF = DEFAULT.IS_LLAMA, DEFAULT.IS_LAB_OPEN, DEFAULT.FAMILY_OF
CLOSED_OPTIONS, API_OF, LAB_OPEN, META_API = DEFAULT.CLOSED_OPTIONS, DEFAULT.API_OF, DEFAULT.LAB_OPEN, DEFAULT.META_API
LLAMA_HOSTED, LLAMA_SELF, OTHER_HOSTED_OPEN = DEFAULT.LLAMA_HOSTED, DEFAULT.LLAMA_SELF, DEFAULT.OTHER_HOSTED_OPEN
OPEN_HOSTED, OPEN_SELF = DEFAULT.ROUTES_OF["open_rival"]
RIVAL_OPTIONS = DEFAULT.family_routes("open_rival")
OPTION_LABELS, OPTION_COLORS, OPTION_STYLES = DEFAULT.OPTION_LABELS, DEFAULT.OPTION_COLORS, DEFAULT.OPTION_STYLES
LAB_OPEN_KEYS = tuple(DEFAULT.OPTIONS[i] for i in LAB_OPEN.values())  # brand: open_hosted + the lab's premium
OPTION_HATCHES, PROVIDER_COLORS, PROVIDER_LABELS = DEFAULT.OPTION_HATCHES, DEFAULT.PROVIDER_COLORS, \
    DEFAULT.PROVIDER_LABELS
