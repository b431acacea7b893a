"""The scenario schema: every model parameter is declared here once, with its unit, default, bounds and meaning.

The dashboard, the sweep designs and the docs read parameters from this schema rather than repeating them.
Defaults follow docs/model.md and the sourced figures in docs/sources.md.
"""

from __future__ import annotations

import functools
import re
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, create_model, field_validator, model_validator

from sim import catalog
from sim.catalog import CLOSED_LABS, LIKE_KINDS, MAX_PROVIDERS
from sim.paths import deep_merge
from sim.spec import StrictModel

SEGMENTS = ("startup", "enterprise", "regulated", "platform")
STRATEGIES = ("open", "closed", "absent")

# Hard limits that keep a hostile or mistaken file from exhausting memory or time.
MAX_POPULATION = 20_000_000
MAX_HORIZON = 600
MAX_LIST = 1_000


def _check_year_month(value: str) -> str:
    if not re.fullmatch(r"\d{4}-\d{2}", value) or not 1 <= int(value[5:]) <= 12:
        raise ValueError(f"date must be YYYY-MM, got {value!r}")
    return value


YearMonth = Annotated[str, AfterValidator(_check_year_month)]


@functools.lru_cache(maxsize=4096)
def month_index(start: str, date: str) -> int:
    """Months from ``start`` to ``date`` (both YYYY-MM); negative when ``date`` is earlier. Cached: the engine asks
    for the same few dates every month."""
    return (int(date[:4]) - int(start[:4])) * 12 + int(date[5:]) - int(start[5:])


class Section(StrictModel):
    """Base of every schema block: unknown keys and wrong types are errors; event edits are re-validated."""

    model_config = ConfigDict(validate_assignment=True)


def _f(default, lo=None, hi=None, unit="", doc=""):
    """A float field with bounds; ``unit`` and ``doc`` land in the JSON schema for docs and the dashboard."""
    return Field(default, ge=lo, le=hi, description=f"{doc} [{unit}]" if unit else doc)


def _plain(value) -> dict:
    """A section as plain data (it may come validated, e.g. a scenario copied by dumping it)."""
    return value.model_dump() if isinstance(value, BaseModel) else dict(value)


def check_added_keys(added: dict, built_in: int, what: str) -> None:
    """The keys a scenario adds are new names (not an option, product or provider of the built-in catalogue),
    each with a ``like``, and no more than the catalogue holds."""
    taken = set(catalog.OPTIONS) | set(catalog.PRODUCTS) | set(catalog.PROVIDERS)
    for key, entry in added.items():
        if not re.fullmatch(r"[a-z][a-z0-9_]{0,30}", key):
            raise ValueError(f"{key}: an added {what}'s key is lower-case letters, digits and _")
        clash = {key, f"{key}_open", f"{key}_hosted", f"{key}_self"} & taken
        if clash:
            raise ValueError(f"{key}: clashes with the built-in name {sorted(clash)[0]!r}; choose another key")
        if not isinstance(entry, dict | BaseModel) or "like" not in _plain(entry):
            raise ValueError(f"{key}: unknown field; an added {what} needs `like: <a built-in {what}>`")
    if built_in and built_in + len(added) > MAX_PROVIDERS:
        raise ValueError(f"at most {MAX_PROVIDERS} providers in all ({built_in} built in); this adds {len(added)}")


def copy_like(section: type[BaseModel], data, likes: dict[str, str | None], what: str, built_in: int = 0):
    """The raw data of a section in which every key the section does not declare is an added entry: its values are
    the section's (default, then scenario) values of the entry's ``like``, overridden by the entry's own; ``likes``
    maps each allowed ``like`` to the entry's ``kind`` (None: no kind)."""
    if not isinstance(data, dict):
        return data
    added = {k: v for k, v in data.items() if k not in section.model_fields}
    check_added_keys(added, built_in, what)
    out = dict(data)
    for key, entry in added.items():
        like = _plain(entry)["like"]
        if like not in likes:
            raise ValueError(f"{key}.like: must be one of {', '.join(likes)} (got {like!r})")
        base = deep_merge(section.model_fields[like].default.model_dump(), _plain(data.get(like, {})))
        base.pop("releases", None)  # a release history is the provider's own: never copied from ``like``
        out[key] = deep_merge(base, _plain(entry)) | ({"kind": likes[like]} if likes[like] else {})
    return out


class SegmentShares(Section):
    """How the developer population splits into the four segments; the shares must sum to 1."""

    startup: float = _f(0.60, 0, 1, "share", "small teams and start-ups")
    enterprise: float = _f(0.25, 0, 1, "share", "established firms")
    regulated: float = _f(0.08, 0, 1, "share", "government, health and finance")
    platform: float = _f(0.07, 0, 1, "share", "consumer apps and platforms")

    @model_validator(mode="after")
    def _sum_to_one(self):
        if abs(sum(self.model_dump().values()) - 1.0) > 1e-6:
            raise ValueError("segment shares must sum to 1")
        return self


class PerSegment(Section):
    """One number per developer segment."""

    startup: float = Field(0.0, ge=-50, le=50)
    enterprise: float = Field(0.0, ge=-50, le=50)
    regulated: float = Field(0.0, ge=-50, le=50)
    platform: float = Field(0.0, ge=-50, le=50)


PerOption = create_model(
    "PerOption", __base__=Section, __doc__="One number per option whose brand is set directly (sim/catalog.py).",
    **{o: (float, Field(0.0, ge=-50, le=50)) for o in catalog.OPTIONS if o not in catalog.LAB_OPEN_KEYS})


class BetaParams(Section):
    """The two shapes of a Beta distribution (one segment's data sensitivity)."""

    a: float = Field(2.0, gt=0, le=1000, description="Beta shape a (higher: more sensitive)")
    b: float = Field(2.0, gt=0, le=1000, description="Beta shape b (higher: less sensitive)")


class SensitivityBySegment(Section):
    """Beta(a, b) of data sensitivity per segment: regulated firms care most about where their data goes."""

    startup: BetaParams = BetaParams(a=2.0, b=5.0)
    enterprise: BetaParams = BetaParams(a=3.0, b=3.0)
    regulated: BetaParams = BetaParams(a=6.0, b=2.0)
    platform: BetaParams = BetaParams(a=3.0, b=3.0)


class Giant(Section):
    """A named platform above 700M MAU, simulated as one firm of its own size."""

    name: str
    mau: float = _f(1e9, 0, 1e11, "users/month")


DEFAULT_GIANTS = [  # calibration.md: firms above 700M MAU in 2023
    Giant(name="Google", mau=3.0e9),
    Giant(name="Apple", mau=2.0e9),
    Giant(name="Microsoft", mau=1.5e9),
    Giant(name="ByteDance", mau=1.5e9),
    Giant(name="Tencent", mau=1.3e9),
    Giant(name="Snap", mau=7.5e8),
]


class Tasks(Section):
    """Two kinds of work (docs/model.md, "Two tasks"; design §15): agentic / coding work and general work. Each firm
    does one; agentic firms weigh quality more, use more tokens (and their use grows faster), and rate each model by
    its agentic benchmark score (the releases' ``agentic``), general firms by its Arena score. At share 0: one task."""

    agentic_share: float = _f(0.0, 0, 1, "share of firms", "share of firms whose main work is agentic or coding")
    agentic_quality_weight: float = _f(1.0, 0, 10, "x beta_quality",
                                       "quality sensitivity of agentic work relative to general work")
    agentic_token_intensity: float = _f(1.0, 0.01, 1000, "x",
                                        "tokens an agentic firm uses per month relative to a general firm of its size")
    agentic_token_growth: float = _f(1.0, 0.1, 100, "x per year",
                                     "growth of agentic token use per firm beyond the general growth")
    anchor_score: float = _f(33.2, 0.1, 99.9, "% resolved",
                             "agentic benchmark score that maps to anchor_elo (GPT-4o on SWE-bench Verified, 2024)")
    anchor_elo: float = _f(1285.0, 0, 5000, "Elo",
                           "Arena score of the anchor model: a benchmark score p maps to anchor_elo + 400 "
                           "log10(odds(p) / odds(anchor_score)), the Elo reading of a success rate")


class Population(Section):
    """The simulated developer firms: how many and whom they stand for, segments, size, token use, data sensitivity
    and ML capability."""

    n: int = Field(50_000, ge=1, le=MAX_POPULATION, description="simulated developers (firms or teams)")
    represents: float = _f(3.0e6, 1, 1e9, "firms", "real developer firms the population stands for (OpenAI: 2-3M devs)")
    segments: SegmentShares = SegmentShares()
    mau_min: float = _f(1_000.0, 1, 1e9, "users/month", "Pareto scale of firm size")
    mau_tail: float = _f(1.0, 0.3, 5, "", "Pareto tail exponent of firm size (Zipf: 1, Axtell 2001)")
    mau_cap: float = _f(5.0e8, 1, 1e11, "users/month", "cap of drawn firm sizes; named giants come on top")
    tasks: Tasks = Tasks()
    giants: list[Giant] = Field(default_factory=lambda: list(DEFAULT_GIANTS), max_length=MAX_LIST,
                                description="named platforms above 700M MAU (2023), each one firm")
    tokens_per_mau: float = _f(0.02, 0, 1e6, "M tokens/month", "token volume scale: tokens = scale * mau^eta")
    tokens_exponent: float = _f(0.8, 0, 2, "", "eta, elasticity of tokens to MAU")
    tokens_sigma: float = _f(1.0, 0, 5, "", "lognormal noise of token volume")
    tokens_growth_per_year: float = _f(1.0, 0.1, 100, "x per year",
                                       "growth of every firm's token use as usage deepens (1: none)")
    price_elasticity: float = _f(0.3, 0, 3, "",
                                 "epsilon: a firm's token use scales with (price paid / reference price)^-epsilon "
                                 "(Jevons; 0: usage ignores price)")
    tail_token_share: float = _f(0.3, 0, 0.95, "share",
                                 "share of tokens carried by the largest token users, simulated one row per real firm "
                                 "(stratified sampling; 0: every row stands for the same number of firms)")
    tail_rows_max: float = _f(0.5, 0, 0.9, "share of rows", "most rows the one-per-firm tail may take")
    sensitivity: SensitivityBySegment = Field(SensitivityBySegment(), description="data sensitivity ~ Beta(a, b)")
    capability_base: PerSegment = Field(PerSegment(startup=0.25, enterprise=0.35, regulated=0.3, platform=0.45),
                                        description="ML capability of a 1-MAU firm, before the size term")
    capability_per_decade: float = _f(0.06, 0, 1, "per 10x MAU", "ML capability rises with size")
    capability_noise: float = _f(0.15, 0, 2, "", "std of ML capability noise")

    @model_validator(mode="after")
    def _room_for_giants(self):
        if self.n <= len(self.giants) or self.represents <= len(self.giants):
            raise ValueError(f"n and represents must exceed the {len(self.giants)} named giants "
                             "(set population.giants: [] for a population without them)")
        return self


class Adoption(Section):
    """How fast developers start building on LLMs (Bass diffusion) and how often adopters reconsider their provider."""

    bass_p: float = _f(0.03, 0, 12, "per year", "Bass innovation coefficient (Bass 1969: 0.01-0.03)")
    bass_q: float = _f(0.38, 0, 12, "per year", "Bass imitation coefficient (0.3-0.5)")
    initial_adopted: float = _f(0.05, 0, 1, "share", "developers already building on LLMs at the start")
    rechoice_rate: float = _f(0.15, 0, 1, "per month", "share of adopters who reconsider their provider")
    entry_outside: bool = Field(False, description="firms the Bass hazard reaches choose among the options and not "
                                                   "adopting (the outside option) by the same logit, so adoption "
                                                   "answers prices at entry; off: every reached firm adopts")


class Choice(Section):
    """Coefficients of the developer's utility (docs/model.md, "Choice")."""

    beta_quality: float = _f(1.5, 0, 100, "per 100 Elo", "value of model quality")
    alpha_price: float = _f(1.5, 0, 1000, "", "weight of the cost term g(bill / reference bill)")
    budget_per_mtok: float = _f(10.0, 0.001, 1e6, "$/M tokens",
                                "reference price: a firm's reference bill is its tokens x this (the 2023 price level)")
    cost_lambda: float = _f(0.0, 0, 1, "",
                            "Box-Cox lambda of the cost term g = ((c/c_ref)^lambda - 1)/lambda; 0: log cost (a 50% "
                            "cut is worth the same in any year), 1: linear cost")
    outside_utility: float = _f(-1.0, -50, 50, "",
                                "u0: utility of leaving LLMs (stop, or build in-house), relative to an unbranded "
                                "option of the starting frontier's quality at the reference price")
    outside_tracks_frontier: float = _f(0.0, 0, 1, "fraction",
                                        "share of the frontier's rise the outside option follows: what a firm expects "
                                        "of an LLM rises with the best model, so an option's pull is its distance "
                                        "from today's frontier and prices move adoption in every year (0: u0 fixed "
                                        "at the starting frontier)")
    outside_tracks_cost: float = _f(0.0, 0, 1, "fraction",
                                    "share of the fall in the frontier's serving cost the outside option follows, "
                                    "through the cost term: what a firm expects to pay for an LLM falls with the "
                                    "cost of serving one, so falling prices alone do not draw every firm in and "
                                    "prices move adoption in every year (0: only list prices move the pull)")
    gamma_network: float = _f(0.3, 0, 100, "", "ecosystem (network) effect of last month's family share")
    network_s0: float = _f(0.05, 1e-6, 1, "share", "share scale of the network term ln(1 + s/s0)")
    beta_ownership: float = _f(1.0, 0, 100, "", "value of owning weights, x data sensitivity (open options)")
    hosted_ownership: float = _f(0.5, 0, 1, "fraction", "share of the ownership value a hosted open model keeps")
    beta_leak: float = _f(1.0, 0, 100, "", "cost of giving data to a closed API, x data sensitivity")
    switching_cost: float = _f(1.0, 0, 100, "", "S: cost of moving off the current option")
    noise_scale: float = _f(1.0, 1e-3, 100, "", "mu: scale of the Gumbel taste shock")
    family_nesting: float = _f(1.0, 0.05, 1, "",
                               "lambda: nested logit by model family; a family's routes (hosted, self-hosted, a lab's "
                               "API and its own open weights) are closer substitutes the lower it is; 1: plain logit")
    selfhost_capability: float = _f(0.5, 0, 1.01, "", "ML capability needed to self-host")
    meta_trust_penalty: PerSegment = Field(PerSegment(regulated=0.8, enterprise=0.1),
                                           description="disutility of a Meta product (GAO chose other models)")
    brand: PerOption = Field(PerOption(openai=0.5, anthropic=0.2, google=0.1, open_hosted=-0.2, open_self=-0.2),
                             description="brand constant of each option (trust, habit, marketing)")


class GapPoint(Section):
    """One dated point of the open models' quality gap behind the frontier."""

    date: YearMonth
    elo: float = _f(0.0, -1000, 2000, "Elo")


class Market(Section):
    """What every provider faces: the quality frontier, the open-model gap, serving costs, discounting and how much
    AI is the consumer product."""

    frontier_start_elo: float = _f(1250.0, 0, 5000, "Elo", "frontier quality at the start (GPT-4, early 2023)")
    frontier_growth: float = _f(8.0, -100, 500, "Elo/month", "how fast the frontier rises")
    release_sd: float = _f(0.0, 0, 500, "Elo",
                           "sigma_leap: a release lands this far above or below its target (normal), so providers "
                           "can leapfrog each other and a release can disappoint; dated releases with a listed offset "
                           "are exact; 0: every release on target")
    measured_open_share: float = _f(0.2, 0, 1, "share of adopters",
                                    "open weights' share of adopters when the listed open scores were measured "
                                    "(Menlo: ~20% 2023, ~19% 2024); an open score enters net of the community gain "
                                    "at this share")
    measured_family_share: float = _f(0.07, 0, 1, "share of adopters",
                                      "one open family's share of adopters when its scores were measured (a third "
                                      "of the open share)")
    open_gap: list[GapPoint] = Field(
        default_factory=lambda: [
            GapPoint(date="2023-01", elo=190.0),
            GapPoint(date="2023-11", elo=130.0),
            GapPoint(date="2024-12", elo=60.0),
        ],
        min_length=1,
        max_length=MAX_LIST,
        description="open-model gap behind the frontier; linear between points, flat outside (Arena history)",
    )

    @field_validator("open_gap")
    @classmethod
    def _gap_dates_increase(cls, points):
        dates = [p.date for p in points]
        if dates != sorted(set(dates)):
            raise ValueError("dates must be distinct and in increasing order")
        return points
    serving_cost_ref: float = _f(6.0, 0, 1e4, "$/M tokens", "serving cost of a frontier-class model at the start")
    cost_decline_per_year: float = _f(10.0, 1, 1e4, "x per year", "cost fall at constant capability (LLMflation)")
    cost_per_100_elo: float = _f(4.0, 1, 1e3, "x per 100 Elo", "how much more a better model costs to serve")
    open_size_mix: float = _f(1.0, 0.01, 1, "fraction",
                              "serving cost of the open-weight tokens users buy, across a family's sizes, relative to "
                              "its flagship's: most hosted Llama tokens go to 70B and smaller models (host price "
                              "lists 2024: 8B 0.05-0.2, 70B ~0.9, 405B ~3.5 $/M; token-weighted ~0.2-1)")
    discount_rate: float = _f(0.10, 0, 1, "per year", "NPV discount rate")
    amortization_months: int = Field(12, ge=1, le=240, description="months over which a release's training is paid")
    ai_is_the_product: float = _f(0.3, 0, 1, "",
                                  "v: how much AI is the product; consumer AI choice weighs model quality by v and "
                                  "reach by 1 - v (old true/false read as 1/0)")

    @field_validator("ai_is_the_product", mode="before")
    @classmethod
    def _v_from_bool(cls, value):
        return float(value) if isinstance(value, bool) else value


class Release(Section):
    """One dated release of a model maker: its measured score at release (``elo``, Arena history), or, without one, its
    quality relative to the maker's reference (a lab: the frontier; an open family or Meta: frontier - open gap)."""

    date: YearMonth
    name: str = ""
    offset: float = _f(0.0, -1000, 1000, "Elo", "quality relative to the maker's reference (when no elo is listed)")
    elo: float | None = Field(None, ge=0, le=5000, description="measured score at release (Chatbot Arena / LMArena); "
                              "an open model's is read net of the model's own community, talent and spillover terms "
                              "[Elo]")
    agentic: float | None = Field(None, ge=0.1, le=99.9, description="agentic benchmark score at release "
                                  "(SWE-bench Verified, % resolved); the maker's agentic edge over its Arena score "
                                  "holds until its next scored release [%]")


RELEASES_DOC = ("dated releases with their measured scores (history); the first sets the release schedule, after the "
                "last releases come every cadence_months at the place the last one held relative to the reference, "
                "plus lead / offset and a leap of sd market.release_sd; empty: every release on the reference")


class PricePoint(Section):
    """One dated list price of a closed API's price schedule."""

    date: YearMonth
    price: float = _f(1.0, 0, 1e5, "$/M tokens")


class Pricing(Section):
    """A closed API's price: a dated schedule, the logit-Nash best response p = c + 1/(a (1 - s)), or the market's."""

    mode: Literal["schedule", "best_response", "match"] = Field(
        "schedule", description="schedule, best_response, or match (the mean of the closed labs' prices this month, "
                                "times the multiplier: a newcomer with no price list pricing with the market)")
    schedule: list[PricePoint] = Field(default_factory=lambda: [PricePoint(date="2023-01", price=10.0)],
                                       min_length=1, max_length=MAX_LIST,
                                       description="dated list prices, $/M tokens blended (step function)")
    trend_per_year: float = _f(0.6, 0.001, 10, "x per year",
                               "price drift per year from each dated point until the next, and after the last")
    reprice_every: int = Field(3, ge=1, le=120, description="months between best-response repricing")
    adjustment: float = _f(0.5, 0.01, 1, "fraction",
                           "share of the way to the best-response price moved at each repricing (damps cycles)")
    cap: float = _f(200.0, 0, 1e5, "$/M tokens", "highest price a lab asks (choke price with no rival)")
    multiplier: float = _f(1.0, 0, 1e3, "", "scales the price (events use it for price cuts)")


class Flywheel(Section):
    """Closed labs learn from the usage data they capture: + strength * (1 - exp(-D / D0)), with D0 stated in months
    of the whole market's token volume, so the data race stays live as the market grows."""

    strength: float = _f(40.0, 0, 1000, "Elo", "kappa_data, the most the data flywheel can add")
    d0_market_months: float = _f(36.0, 0.01, 1e4, "market-months",
                                 "D0: captured data at which 63% of the gain is reached, in months of the whole "
                                 "market's token volume at full adoption in the first month")


class PrivateTier(Section):
    """A closed lab's optional private tier: dearer, and its users' data stays out of the lab's flywheel."""

    enabled: bool = Field(False, description="a private tier keeps the developer's data out of the flywheel")
    price_premium: float = _f(0.3, 0, 10, "fraction", "price premium of the private / customized tier")


class OpenWeights(Section):
    """A closed lab's own open-weight model (OpenAI's gpt-oss, Aug 2025; Google's Gemma, Feb 2024): hosted by the
    clouds, free weights, trailing the lab's current model; its users count towards the lab's family (mindshare)."""

    enabled: bool = Field(False, description="the lab also releases an open-weight model of its own")
    date: YearMonth = Field("2023-01", description="first open-weight release (YYYY-MM; at or before the start: "
                                                   "from the start)")
    trail_elo: float = _f(100.0, 0, 1000, "Elo",
                          "how far it trails the lab's current model (about 100 on LMArena in 2025: gpt-oss-120b vs "
                          "GPT-5, Gemma 3 vs Gemini 2.5 Pro)")
    brand_premium: float = _f(0.0, -50, 50, "",
                              "brand constant over the other hosted open models (choice.brand.open_hosted)")
    training_cost: float = _f(2.0e7, 0, 1e12, "$", "extra training cost per lab release while it is offered")


class ClosedLabParams(Section):
    """One closed lab (OpenAI, Anthropic, Google): releases and quality, costs, pricing, data flywheel, private tier
    and its own open weights."""

    enabled: bool = Field(True, description="the lab's API is offered")
    lead: float = _f(0.0, -1000, 1000, "Elo", "quality at a release relative to the frontier (with listed "
                     "releases: relative to the place the last one held)")
    cadence_months: int = Field(6, ge=1, le=240, description="months between releases [months]")
    jitter_months: int = Field(1, ge=0, le=24, description="releases come up to this early or late [months]")
    first_release: YearMonth = Field("2023-03", description="first release in the horizon (YYYY-MM)")
    releases: list[Release] = Field(default_factory=list, max_length=MAX_LIST,
                                    description=RELEASES_DOC)
    quality_bonus: float = _f(0.0, -5000, 5000, "Elo", "added to quality (events: GPT-5-class leaps)")
    serving_efficiency: float = _f(1.0, 0.01, 100, "", "serving cost multiplier")
    training_cost: float = _f(1.0e8, 0, 1e12, "$", "training cost per release")
    price: Pricing = Pricing()
    flywheel: Flywheel = Flywheel()
    private_tier: PrivateTier = PrivateTier()
    open_weights: OpenWeights = OpenWeights()
    trust_penalty: PerSegment = Field(PerSegment(), description="distrust of the lab's models by developer segment "
                                      "(utility, as choice.meta_trust_penalty for Meta's)")
    margin_quality: float = _f(0.0, 0, 100, "Elo per ln",
                               "xi: margins fund quality; the lead at a release gains xi ln(revenue / reference)")
    revenue_ref_per_year: float = _f(1.0e9, 1, 1e13, "$/year", "reference revenue of the margin-funds-quality term")


def _lab(lead, cadence, first, prices, training):
    return ClosedLabParams(
        lead=lead, cadence_months=cadence, first_release=first, training_cost=training,
        price=Pricing(schedule=[PricePoint(date=d, price=p) for d, p in prices]),
    )


class OpenRivalParams(Section):
    """Mistral, DeepSeek, Qwen... aggregated: free weights, hosted by clouds or self-hosted."""

    enabled: bool = Field(True, description="other open-weight models are offered")
    offset: float = _f(-30.0, -1000, 1000, "Elo", "quality at a release relative to frontier - gap (with listed "
                       "releases: relative to the place the last one held)")
    cadence_months: int = Field(4, ge=1, le=240, description="months between releases [months]")
    jitter_months: int = Field(1, ge=0, le=24, description="releases come up to this early or late [months]")
    first_release: YearMonth = Field("2023-03", description="first release in the horizon (YYYY-MM)")
    releases: list[Release] = Field(default_factory=list, max_length=MAX_LIST,
                                    description=RELEASES_DOC)
    quality_bonus: float = _f(0.0, -5000, 5000, "Elo", "added to quality (events: a DeepSeek-style release)")
    training_cost: float = _f(2.0e7, 0, 1e12, "$", "training cost per release")
    trust_penalty: PerSegment = Field(PerSegment(), description="distrust of the family's models by developer "
                                      "segment (utility; a family of another origin, as Meta's)")
    spillover: float = _f(0.2, 0, 1, "fraction",
                          "sigma: share of the quality lead of the best other open weights out (Llama's, another "
                          "family's, a lab's own) the family absorbs at its next release (Llama 3.1 allows training "
                          "on its outputs)")
    mau_threshold: float | None = Field(None, ge=0, le=1e12,
                                        description="firms with more monthly active users need the family's "
                                        "approval, as Llama's clause (Qwen's licence: 100M; none: no MAU clause, as "
                                        "Apache 2.0 or MIT) [users/month]")
    approval_probability: float = _f(0.2, 0, 1, "probability",
                                     "chance the family's owner approves a firm above its threshold (drawn once "
                                     "per firm)")


class HostClass(Section):
    """A class of Llama hosts: the monthly active users of the hosting firm's own products (what the licence counts)
    and its share of Llama hosting revenue."""

    mau: float = _f(1.0e9, 0, 1e12, "users/month", "monthly active users of the host's products")
    share: float = _f(0.0, 0, 1, "share", "share of Llama hosting revenue")


class CloudHostParams(Section):
    """The clouds that host open weights: their margin, and what the large ones pay Meta under the licence."""

    margin: float = _f(0.3, 0, 50, "fraction",
                       "host price = serving cost of the size mix x (1 + margin); hosts' list prices for one model "
                       "differ by about 2x, so a margin of 0.2-1.5 is within sourced lists")
    meta_revenue_share: float = _f(0.1, 0, 1, "fraction",
                                   "theta_h: share of their Llama revenue that hosts above the MAU threshold pay Meta "
                                   "for its approval (undisclosed: a range)")
    large_host_share: float = _f(0.6, 0, 1, "share",
                                 "share of Llama hosting revenue earned by hosts above the MAU threshold (Azure, "
                                 "Google Cloud, AWS); used when no host classes are given")
    hosts: list[HostClass] = Field(default_factory=list, max_length=50,
                                   description="host classes by size: those above the licence's MAU threshold pay "
                                               "the fee, so it follows the threshold (empty: large_host_share)")
    pass_through: float = _f(0.0, 0, 1, "fraction",
                             "rho: share of the fee fee-paying hosts add to their Llama price (hosted Llama costs "
                             "1 + rho theta_h s_large more), so fee revenue is hump-shaped in theta_h")


class SelfHost(Section):
    """What running open weights on its own GPUs costs a developer firm."""

    fixed_cost: float = _f(8_000.0, 0, 1e9, "$/month", "GPUs + engineering; breakeven ~1.6B tokens/month vs GPT-4o")
    capability_discount: float = _f(0.5, 0, 1, "fraction", "fixed cost falls by this x ML capability")
    variable_cost_multiplier: float = _f(1.0, 0, 100, "", "self-host cost per token / host serving cost")


class Added(Section):
    """What a provider a scenario adds declares beside the parameters it copies from ``like`` (docs/model.md,
    "Adding a provider")."""

    label: str = Field(min_length=1, max_length=40, description="its name in tables and figures")
    enters: YearMonth | None = Field(None, description="first month its models are offered (YYYY-MM; none: "
                                                       "from the start)")
    brand: float | None = Field(None, ge=-50, le=50, description="brand constant of its options in the developers' "
                                                                 "choice (none: that of the provider it is like)")


class AddedLab(ClosedLabParams, Added):
    """A closed lab a scenario adds (xAI, a national champion...): a paid API with a flywheel, like ``like``."""

    kind: Literal["closed_lab"] = "closed_lab"
    like: Literal[CLOSED_LABS]


class AddedFamily(OpenRivalParams, Added):
    """An open-weight family a scenario adds (DeepSeek, Qwen...): free weights, hosted or self-hosted."""

    kind: Literal["open_family"] = "open_family"
    like: Literal["open_rival"]


AddedProvider = Annotated[AddedLab | AddedFamily, Field(discriminator="kind")]


class Providers(Section):
    """The built-in providers' parameters, and any a scenario adds: ``providers.<key>: {like: <provider>, label: ...,
    enters: YYYY-MM, ...}`` copies the scenario's parameters of ``like`` and overrides what it lists."""

    model_config = ConfigDict(extra="allow", strict=True, validate_assignment=True)
    __pydantic_extra__: dict[str, AddedProvider]

    openai: ClosedLabParams = _lab(40.0, 6, "2023-03",
                                   [("2023-01", 20.0), ("2023-03", 8.0), ("2023-11", 5.0), ("2024-05", 3.5),
                                    ("2024-08", 2.5)], 1.0e8)
    anthropic: ClosedLabParams = _lab(20.0, 5, "2023-03",
                                      [("2023-01", 12.0), ("2023-07", 8.0), ("2024-03", 6.0), ("2024-06", 4.0)],
                                      6.0e7)
    google: ClosedLabParams = _lab(0.0, 6, "2023-05",
                                   [("2023-01", 4.0), ("2023-12", 2.0), ("2024-05", 2.5)], 1.0e8)
    open_rival: OpenRivalParams = OpenRivalParams()
    cloud_host: CloudHostParams = CloudHostParams()
    selfhost: SelfHost = SelfHost()

    @model_validator(mode="before")
    @classmethod
    def _copy_like(cls, data):
        """Each added provider starts from the scenario's parameters of the provider it is ``like``."""
        return copy_like(cls, data, LIKE_KINDS, "provider", len(catalog.PROVIDERS))


class Community(Section):
    """Open weights attract fine-tunes, tooling and efficiency work: + strength * ln(1 + devs / (n0 N))."""

    strength: float = _f(25.0, 0, 1000, "Elo", "kappa_comm")
    n0_share: float = _f(0.02, 1e-6, 1, "share of developers", "community size scale")
    cost_cut: float = _f(0.15, 0, 0.95, "fraction", "Meta serving-cost cut per unit of ln(1 + devs / n0)")
    cost_cut_max: float = _f(0.5, 0, 0.95, "fraction", "largest community cut of serving cost")
    llama_share: float = _f(0.7, 0, 1, "fraction",
                            "phi: share of community gains that follow one model family; the rest (tooling, "
                            "serving kernels) lift every open model with the whole open community")




class MetaLedger(Section):
    """Meta's business outside AI that its AI strategy can move (docs/sources.md)."""

    ad_revenue_per_year: float = _f(1.32e11, 0, 1e13, "$/year", "Meta advertising revenue, 2023 (10-K)")
    ad_growth_per_year: float = _f(0.15, -0.9, 5, "per year", "growth of ad revenue ($132B 2023 -> $161B 2024)")
    support_revenue_per_dev: float = _f(20.0, 0, 1e9, "$/month",
                                        "support and add-on revenue per enterprise/regulated firm on a Meta model "
                                        "(Llama or a Meta API; an assumption, swept 0-100: Meta sells little and "
                                        "partners sell most Llama support)")


class Talent(Section):
    """Talent as quality: researchers come for frontier work (open or closed) and for open work's mindshare."""

    base_elo: float = _f(10.0, 0, 500, "Elo", "release offset gained from doing frontier work at all")
    per_mindshare: float = _f(40.0, 0, 1000, "Elo",
                              "delta_T: offset gained at 100% developer mindshare of Meta's models")
    closed_factor: float = _f(0.5, 0, 1, "fraction",
                              "share of the mindshare gain a closed Meta API earns (open work's premium is 1 - this)")


class Misuse(Section):
    """Expected misuse and liability cost h_s L_s of a released model; closed models are misused too."""

    hazard_open_per_year: float = _f(0.03, 0, 1, "per year", "h_open: chance a year of a costly misuse incident")
    hazard_closed_per_year: float = _f(0.01, 0, 1, "per year", "h_closed: the same for a closed API")
    liability: float = _f(3.0e9, 0, 1e12, "$", "L: cost of an incident (fines, litigation, remediation)")


class AmountPoint(Section):
    """Meta's spend of one kind from a date on ($ a year, until the next point)."""

    date: YearMonth
    value: float = _f(0.0, 0, 1e13, "$/year")


class Spend(Section):
    """Incremental AI spend: training runs + shares of Meta's R&D and capex (most serve ranking and Reels). Capex is
    cash in the strategic lens and depreciated by vintage in the reported lens (design §9 item 9)."""

    rd_per_year: float = _f(4.39e10, 0, 1e13, "$/year", "Meta R&D expense, 2024 (10-K)")
    rd_share: float = _f(0.1, 0, 1, "fraction", "f_R: share of R&D that is generative-AI work (range 0.05-0.4)")
    capex_per_year: float = _f(3.92e10, 0, 1e13, "$/year", "Meta capital expenditure, 2024 (10-K)")
    capex_share: float = _f(0.1, 0, 1, "fraction", "f_K: share of capex for generative AI (range 0.05-0.4)")
    capex_life_years: float = _f(5.0, 1, 30, "years", "depreciation life of that capex")
    rd_path: list[AmountPoint] = Field(default_factory=list, max_length=MAX_LIST,
                                       description="Meta's R&D by year from history (each value from its date on; "
                                                   "empty: rd_per_year throughout)")
    capex_path: list[AmountPoint] = Field(default_factory=list, max_length=MAX_LIST,
                                          description="Meta's capex by year from history (each value from its date "
                                                      "on; empty: capex_per_year throughout)")
    capex_as_cash: bool = Field(False, description="strategic lens: capex counted as cash when spent, and by "
                                                   "vintage (straight-line over capex_life_years) in the reported "
                                                   "lens; off: depreciation of one year's capex in both")
    training_inside_capex: bool = Field(False, description="training on Meta's own clusters is inside the capex "
                                                           "(no rental charge on top): only the quality investment's "
                                                           "extra compute is charged per release")
    terminal_years: float = _f(0.0, 0, 20, "years",
                               "years after the horizon that the last year's channel values (spend excluded) go on, "
                               "discounted: the value of the last vintages beyond 2027 (0: none)")
    kept_share_absent: float = _f(0.0, 0, 1, "fraction",
                                  "f_abs: share of the AI R&D Meta keeps without a model programme (a team to "
                                  "fine-tune, serve and integrate what it buys; range 0.2-0.5)")


class Investment(Section):
    """Quality investment: a higher release offset costs more training (a cost-per-Elo curve)."""

    extra_elo: float = _f(0.0, -200, 500, "Elo", "added to the offset of every Meta release")
    cost_per_100_elo: float = _f(3.0, 1, 100, "x per 100 Elo",
                                 "training cost multiplier per 100 Elo of extra offset (scaling laws: ~3x compute "
                                 "per 100 Elo)")


class Switch(Section):
    """A dated change of Meta's strategy (e.g. open until 2025-04, closed after); released weights stay usable."""

    date: YearMonth = Field("2025-04", description="month the new strategy starts (YYYY-MM)")
    to: Literal["open", "closed", "absent"] = Field("closed", description="the strategy from that month on")


class InternalUse(Section):
    """What a better model does inside Meta (design §9 item 10): AR chi (Q_int - Q_ref) / 100, counting only gains
    that need an LLM (integrity, ad creative, business agents); the recommender gains Meta reports exist under every
    strategy and sit outside it."""

    value_per_100_elo: float = _f(0.0, 0, 0.05, "share of ad revenue",
                                  "chi: ad revenue a year gained per 100 Elo of internal model over the reference "
                                  "(range 0-1%)")
    bought_share: float = _f(1.0, 0, 1, "fraction",
                             "psi: share of a bought model's lead over the reference internal use can draw on "
                             "(terms of use, no fine-tuning of an API)")


class MetaParams(Section):
    """Meta: ``open`` (Llama weights, licence clause, hosted and self-hosted), ``closed`` (its own API), ``absent``."""

    strategy: Literal["open", "closed", "absent"] = Field("open", description="open, closed or absent")
    releases: list[Release] = Field(
        default_factory=lambda: [
            Release(date="2023-07", name="Llama 2", offset=0.0),
            Release(date="2024-04", name="Llama 3", offset=10.0),
            Release(date="2024-07", name="Llama 3.1", offset=25.0),
        ],
        max_length=MAX_LIST,
        description="dated Llama releases (Llama 2, 3, 3.1)",
    )
    cadence_after: int = Field(9, ge=1, le=240, description="months between releases after the listed ones")
    spillover: float = _f(0.0, 0, 1, "fraction",
                          "sigma: share of a better open model's lead (another family's, a lab's own weights) a Meta "
                          "release absorbs, open or closed (distillation, training on outputs; 0: none)")
    offset_after: float = _f(25.0, -1000, 1000, "Elo", "offset of releases after the listed ones (relative to "
                             "frontier - gap, plus the place the last listed one with a score held)")
    quality_bonus: float = _f(0.0, -5000, 5000, "Elo", "added to Llama's quality (events)")
    serving_efficiency: float = _f(1.0, 0.01, 100, "", "serving cost multiplier")
    training_cost: float = _f(8.0e7, 0, 1e12, "$", "training cost per Llama release (405B: $60-90M, model card)")
    api_with_open_weights: bool = Field(False, description="under open, Meta also sells an API of the same "
                                                           "weights (the Llama API, April 2025), priced against the "
                                                           "hosts of those weights")
    api_open_premium: float = _f(0.0, -0.9, 10, "fraction",
                                 "a Meta API beside open weights charges the hosted Llama price x (1 + this)")
    switch: Switch | None = Field(None, description="a dated strategy switch applied to the run of strategy "
                                                     "`meta.strategy` (e.g. {date: 2025-04, to: closed})")
    price: Pricing = Field(Pricing(mode="best_response", schedule=[PricePoint(date="2023-01", price=3.0)]),
                           description="Meta API pricing (closed): the labs' logit-Nash rule by default")
    flywheel: Flywheel = Flywheel()
    ledger: MetaLedger = MetaLedger()
    talent: Talent = Talent()
    misuse: Misuse = Misuse()
    spend: Spend = Spend()
    investment: Investment = Investment()
    internal: InternalUse = InternalUse()


class License(Section):
    """Llama's clause: firms above the MAU threshold in the month before a release need Meta's approval."""

    enabled: bool = Field(True, description="the MAU clause applies")
    mau_threshold: float = _f(7.0e8, 0, 1e12, "users/month", "firms above it need Meta's approval")
    approval_probability: float = _f(0.2, 0, 1, "probability", "chance Meta approves a firm above the threshold")
    applies_to_api: bool = Field(False, description="one access policy: the clause also covers a Meta API (closed, "
                                                    "or beside open weights), so firms above the threshold need "
                                                    "Meta's approval for either")


class Regulation(Section):
    """Safety rules: a compliance cost and a distribution ban, applied to open weights, closed APIs or all models.
    A ban stops third parties' use; Meta's own products keep running on its model."""

    applies_to: Literal["open", "closed", "all"] = Field("open", description="which models the rules cover")
    extra_cost: float = _f(0.0, 0, 1e4, "$/M tokens", "safety-compliance cost added to covered options")
    banned: bool = Field(False, description="covered models may not be used commercially")


class Product(Section):
    """One consumer AI product: a brand constant and, for the labs and Meta, its own reach and revenue per user
    (the giants' platforms and the apps take their reach from the developer population instead)."""

    brand: float = _f(0.0, -50, 50, "", "brand constant in the consumer AI logit")
    reach: float = _f(1.0e8, 1, 1e11, "users",
                      "people the product reaches through its owner's distribution (Meta: ~3.3B daily users of its "
                      "apps; ignored for platforms and apps)")
    revenue_per_user_month: float = _f(0.0, 0, 1e3, "$/user-month", "r_k: revenue per user of the product")
    use_per_user: float = _f(1.0, 0.001, 1000, "relative",
                             "u_k: use per user (sessions or time per user-month, relative); an assistant embedded in "
                             "apps reaches many and is used little, so its share of use is below its share of users")
    launch: YearMonth = Field("2023-01", description="month the product launches (YYYY-MM)")


class AddedProduct(Product):
    """The consumer product of a closed lab the scenario adds (``consumer.<lab>``), copied from ``like``'s."""

    like: Literal[CLOSED_LABS]


class ValuePoint(Section):
    """One dated value of a share that is linear between points (the attention at risk a(t))."""

    date: YearMonth
    value: float = _f(0.0, 0, 1, "share")


class Sourcing(Section):
    """Build, buy or self-host (docs/model.md, "What Meta's products run on"): each review Meta's products move to the
    best source — its own model while it runs a programme, a lab's API, a lab's weights licensed to run on Meta's
    servers, or the best open model self-hosted — with the same rule under every strategy; sellers compete (Ho & Lee
    2019), and what Meta buys can be cut off."""

    review_months: int = Field(3, ge=1, le=60, description="months between reviews of the source [months]")
    lag_months: int = Field(0, ge=0, le=24, description="l: months a chosen change takes to come into force; a "
                                                        "cut-off falls back at once to the best source Meta holds "
                                                        "[months]")
    switch_cost: float = _f(0.0, 0, 1e11, "$", "one-off cost of moving Meta's products to another source")
    licensed_weights: bool = Field(False, description="the labs license their weights to run on Meta's servers (as "
                                                      "Apple's reported custom Gemini, Nov 2025)")
    cutoff_hazard_per_year: float = _f(0.0, 0, 1, "per year",
                                       "h_d: chance a year that a lab cuts off or reprices the API Meta buys "
                                       "(Anthropic cut Windsurf's access in 2025)")
    licence_hazard_ratio: float = _f(0.5, 0, 1, "fraction", "licensed weights' cut-off hazard relative to an API's")
    customisation: float = _f(0.0, 0, 200, "Elo",
                              "kappa_c: what fine-tuning on its own data adds to a product whose owner holds the "
                              "weights (own, licensed or open)")
    api_customisation_share: float = _f(0.0, 0, 1, "fraction", "psi_c: the share of kappa_c an API's buyer gets")
    excluded_families: list[str] = Field(default_factory=list, max_length=12,
                                         description="open families Meta will not run in its products (an origin "
                                                     "filter)")


class Consumer(Section):
    """The consumer AI layer: people's AI use A(t) split by a logit over products (design of docs/model.md).
    U_k = v beta_c Q_k / 100 + (1 - v) delta ln(reach_k) + brand_k. An added closed lab's assistant is declared as
    ``consumer.<lab>: {like: <product>, ...}``."""

    model_config = ConfigDict(extra="allow", strict=True, validate_assignment=True)
    __pydantic_extra__: dict[str, AddedProduct]

    users_start: float = _f(1.5e8, 0, 1e11, "users/month", "consumer AI users at the start (ChatGPT ~100M, early 2023)")
    users_growth_per_year: float = _f(2.2, 0.1, 100, "x per year", "growth of consumer AI use (swept)")
    users_max: float = _f(4.0e9, 1, 1e11, "users/month", "ceiling of consumer AI use (people online)")
    beta_quality: float = _f(2.0, 0, 100, "per 100 Elo", "beta_c: value of model quality to consumers")
    reach_weight: float = _f(1.0, 0, 100, "per ln user", "delta: value of the owner's distribution")
    tokens_per_user_month: float = _f(0.1, 0, 1e4, "M tokens/user-month", "tau: tokens a user of Meta AI needs")
    attention_at_risk: list[ValuePoint] = Field(
        default_factory=lambda: [ValuePoint(date="2023-01", value=0.0), ValuePoint(date="2027-12", value=0.05)],
        min_length=1, max_length=MAX_LIST,
        description="a(t): share of Meta's ad-relevant time AI products can take; linear between points (no public "
                    "figure: an assumption, swept)")
    meta_ad_yield: float = _f(0.5, 0, 1.5, "", "m: Meta AI's ad yield relative to the feed (~0 in 2023-24)")
    engagement_lift: float = _f(0.001, 0, 0.1, "per ln price",
                                "zeta: cheaper AI content lifts engagement, AR zeta ln(p_ref / average price)")
    cost_weight: float = _f(0.0, 0, 10, "per ln cost",
                            "alpha_c: every consumer product's utility less alpha_c ln(unit cost of the model it "
                            "runs on / choice.budget_per_mtok): a free model arms the apps more than a paid API")
    buy_surplus_share: float = _f(0.5, 0.3, 1, "fraction",
                                  "theta_b: share of its lead over the runner-up source a seller captures above "
                                  "its floor when Meta buys")
    sourcing: Sourcing = Field(Sourcing(), description="what Meta's products run on")
    meta_ai: Product = Product(brand=0.0, reach=3.3e9, revenue_per_user_month=0.02, launch="2023-09")
    openai: Product = Product(brand=2.0, reach=3.0e8, revenue_per_user_month=1.2, launch="2023-01")
    anthropic: Product = Product(brand=-1.0, reach=3.0e7, revenue_per_user_month=1.2, launch="2023-03")
    google: Product = Product(brand=-0.5, reach=3.0e9, revenue_per_user_month=0.3, launch="2023-03")
    platforms: Product = Product(brand=-1.5, reach=1.0, launch="2023-01")
    apps: Product = Product(brand=-1.0, reach=1.0, launch="2023-01")

    @model_validator(mode="before")
    @classmethod
    def _copy_like(cls, data):
        """Each added product starts from the scenario's parameters of the product it is ``like``."""
        return copy_like(cls, data, {lab: None for lab in CLOSED_LABS}, "product")

    @field_validator("attention_at_risk")
    @classmethod
    def _dates_increase(cls, points):
        dates = [p.date for p in points]
        if dates != sorted(set(dates)):
            raise ValueError("dates must be distinct and in increasing order")
        return points


class Outputs(Section):
    """Optional, costlier outputs of a run (the developer-surplus sample)."""

    surplus_sample: int = Field(2_000, ge=0, le=1_000_000, description="developers in the fixed surplus sample "
                                "(0: not computed, dev_surplus is empty)")


class Event(Section):
    """A dated change of any parameter: ``set``, ``add`` to or ``multiply`` a dotted path at the start of a month."""

    date: YearMonth
    description: str = ""
    set: dict[str, float | int | bool | str] = Field(default_factory=dict, max_length=100)
    add: dict[str, float | int] = Field(default_factory=dict, max_length=100)
    multiply: dict[str, float | int] = Field(default_factory=dict, max_length=100)


class Scenario(Section):
    """A whole scenario as a YAML file states it: name, story, seed and horizon, every section of the market, and
    dated events."""

    name: str = Field(min_length=1, max_length=200, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$",
                      description="short name, used for output folders (letters, digits, _ . -)")
    description: str = Field(min_length=1, max_length=20_000, description="the story this scenario tells")
    seed: int = Field(ge=0, le=2**63 - 1, description="base seed; replicate seeds derive from it")
    start: YearMonth = Field("2023-01", description="first simulated month (YYYY-MM)")
    horizon_months: int = Field(60, ge=1, le=MAX_HORIZON, description="months simulated [months]")
    population: Population = Population()
    adoption: Adoption = Adoption()
    choice: Choice = Choice()
    market: Market = Market()
    providers: Providers = Providers()
    meta: MetaParams = MetaParams()
    community: Community = Community()
    license: License = License()
    regulation: Regulation = Regulation()
    consumer: Consumer = Consumer()
    outputs: Outputs = Outputs()
    events: list[Event] = Field(default_factory=list, max_length=MAX_LIST,
                                description="dated set/add/multiply edits of any market parameter")
