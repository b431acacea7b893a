"""The SolaraViz wiring of the dashboard: sliders, a scenario picker, live adoption and ledger plots.

Run it with ``sim dashboard`` (or ``solara run sim.dashboard.app``). Following mesa's examples, this module only
wires things: the model is :class:`sim.market.LLMMarket` behind a thin adapter that mesa can rebuild from keyword
arguments, the figures are those of :mod:`sim.figures.run`, and every slider's label and range is read from the schema
(:mod:`sim.config`) through :func:`sim.figures.run.schema_field`.

Using it: move sliders, pick a preset, then press *Reset* (mesa rebuilds the model with the new values) and *Step*
or *▶*. A slider left where it starts keeps the preset's own value, so picking ``flywheel_strong`` is not undone by
the flywheel slider's default; a slider that was moved overrides the preset.
"""

from __future__ import annotations

import html
import math
import typing
from dataclasses import dataclass

import pandas as pd
import solara
from matplotlib.figure import Figure
from mesa.visualization import Slider, SolaraViz

from sim import paths
from sim.catalog import CLOSED_LABS
from sim.config import STRATEGIES
from sim.errors import ConfigError
from sim.figures.run import FieldSpec, adoption_figure, date_axis, ledger_waterfall_figure, schema_field
from sim.figures.style import OPTION_COLORS
from sim.loading import PRESET_DIR, load_scenario
from sim.market import LLMMarket
from sim.runner import RecordColumns, month_dates, outcomes, summarize
from sim.strategies import PAIRS

TITLE = "LLM market: does giving Llama away pay?"  # the browser tab's title and the app bar's
# mesa builds its sliders with solara's default thumb label, which Vuetify shows only while a slider is dragged;
# this keeps every slider's value on its thumb (Vuetify hides the label with an inline display:none). The bubble
# stands about 40 px above the thumb, over the slider above and its label; room above each slider keeps it in its
# own row.
SLIDER_VALUES_CSS = (".v-slider__thumb-label-container{display:block !important}"
                     ".v-input__slider{padding-top:40px}")
DEFAULT_PRESET = "baseline"
DEFAULT_POPULATION = 5_000  # small enough that a month steps in milliseconds
FIGURE_DPI = 80


@dataclass(frozen=True)
class Knob:
    """A slider that sets one or more schema parameters (the first path describes it).

    ``window`` narrows the schema's validity bounds to the part worth sliding over (it is clipped to them);
    ``log10`` sliders move the exponent, for parameters that span orders of magnitude."""

    name: str
    paths: tuple[str, ...]
    title: str  # a few words for the slider; the meaning shown beside it comes from the schema
    step: float
    window: tuple[float, float] | None = None
    log10: bool = False

    @property
    def spec(self) -> FieldSpec:
        """The schema field of the first path: its bounds, unit and description drive the slider."""
        return schema_field(self.paths[0])

    def bounds(self) -> tuple[float, float]:
        """The slider's (low, high): the schema's bounds narrowed to ``window``, on the log10 scale if set."""
        spec = self.spec
        lo = spec.lo if spec.lo is not None else -math.inf
        hi = spec.hi if spec.hi is not None else math.inf
        if self.window is not None:
            lo, hi = max(lo, self.window[0]), min(hi, self.window[1])
        if self.log10:
            lo, hi = math.log10(max(lo, 1.0)), math.log10(hi)
        return float(lo), float(hi)

    @property
    def unit(self) -> str:
        """The unit shown on the slider (``log10 ...`` when it moves the exponent)."""
        return f"log10 {self.spec.unit}" if self.log10 else self.spec.unit

    @property
    def label(self) -> str:
        """The slider's caption: its title with the unit in brackets."""
        return f"{self.title} ({self.unit})" if self.unit else self.title

    @property
    def meaning(self) -> str:
        """The schema's one-line description of the parameter (or its name when it has none)."""
        spec = self.spec
        return spec.description or spec.path.rsplit(".", 1)[-1].replace("_", " ")

    def to_slider_value(self, value: float) -> float:
        """``value`` on the slider's scale, snapped to its step grid (the browser snaps it anyway)."""
        x = math.log10(max(value, 1.0)) if self.log10 else float(value)
        lo, hi = self.bounds()
        x = min(max(x, lo), hi)
        return round(lo + round((x - lo) / self.step) * self.step, 6)

    def moved(self, slider_value: float | None, start: float) -> bool:
        """Whether the user moved the slider away from ``start`` by more than half a step."""
        return slider_value is not None and abs(float(slider_value) - start) > self.step / 2

    def to_value(self, slider_value: float) -> float:
        """The parameter value a slider position stands for (10**position on a log10 slider)."""
        return float(10.0 ** slider_value) if self.log10 else float(slider_value)


KNOBS = (
    Knob("meta_offset", ("meta.offset_after",), "Llama release offset", step=5.0, window=(-100.0, 100.0)),
    Knob("license_threshold", ("license.mau_threshold",), "Licence threshold", step=0.25, log10=True),
    Knob("flywheel_strength", tuple(f"providers.{lab}.flywheel.strength" for lab in CLOSED_LABS),
         "Data flywheel strength", step=5.0, window=(0.0, 200.0)),
    Knob("price_multiplier", tuple(f"providers.{lab}.price.multiplier" for lab in CLOSED_LABS),
         "Closed-API price multiplier", step=0.05, window=(0.1, 3.0)),
)


def presets() -> list[str]:
    """Names of the preset scenarios offered in the dashboard's scenario menu."""
    return sorted(p.stem for p in PRESET_DIR.glob("*.yaml"))


def strategies() -> list[str]:
    """Meta's strategies the schema allows, for the dashboard's strategy menu."""
    return list(typing.get_args(schema_field("meta.strategy").annotation))


def knob_defaults(preset: str = DEFAULT_PRESET) -> dict[str, float]:
    """Each slider's starting position: the value in ``preset`` (on the slider's scale)."""
    scenario = load_scenario(preset)
    return {k.name: k.to_slider_value(paths.get(scenario, k.paths[0])) for k in KNOBS}


def model_params() -> dict:
    """SolaraViz's ``model_params``: inputs built from the schema, plus fixed values."""
    base = load_scenario(DEFAULT_PRESET)
    start = knob_defaults()
    params: dict = {
        "preset": {"type": "Select", "value": DEFAULT_PRESET, "values": presets(), "label": "Scenario (preset)"},
        "meta_strategy": {"type": "Select", "value": base.meta.strategy, "values": strategies(),
                          "label": "Meta's strategy"},
    }
    for knob in KNOBS:
        lo, hi = knob.bounds()
        params[knob.name] = Slider(knob.label, value=start[knob.name], min=lo, max=hi, step=knob.step, dtype=float)
    params["seed"] = {"type": "InputText", "value": str(base.seed), "label": "Random seed (integer)"}
    params["population"] = DEFAULT_POPULATION
    return params


class DashboardMarket(LLMMarket):
    """:class:`LLMMarket` built from the dashboard's keyword values (mesa re-creates it on *Reset*).

    Args:
        preset: a preset scenario's name.
        meta_strategy: ``open``, ``closed`` or ``absent``.
        meta_offset, license_threshold, flywheel_strength, price_multiplier: slider values (see :data:`KNOBS`);
            ``None`` or the starting position keeps the preset's own value.
        seed: an integer (text from the seed box); a blank or bad value falls back to the preset's seed.
        population: simulated developers (small, so that stepping is instant).
    """

    def __init__(self, preset: str = DEFAULT_PRESET, meta_strategy: str | None = None,
                 meta_offset: float | None = None, license_threshold: float | None = None,
                 flywheel_strength: float | None = None, price_multiplier: float | None = None,
                 seed: str | int | None = None, population: int = DEFAULT_POPULATION):
        self.notice = ""
        values = {"meta_offset": meta_offset, "license_threshold": license_threshold,
                  "flywheel_strength": flywheel_strength, "price_multiplier": price_multiplier}
        start = knob_defaults()
        overrides = []
        for knob in KNOBS:
            v = values[knob.name]
            if not knob.moved(v, start[knob.name]):
                continue
            overrides += [f"{path}={knob.to_value(float(v))!r}" for path in knob.paths]
        seed_value = None
        if seed not in (None, ""):
            try:
                seed_value = int(str(seed).strip())
                if seed_value < 0:
                    raise ValueError
            except ValueError:
                self.notice = f"seed {seed!r} is not a non-negative integer; using the preset's seed"
                seed_value = None
        self.preset = preset
        self.overrides = overrides
        try:
            cfg = load_scenario(preset, overrides, population=population, seed=seed_value)
        except ConfigError as exc:  # a slider cannot leave the schema's bounds, but a preset file can be broken
            self.notice = str(exc)
            cfg = load_scenario(DEFAULT_PRESET, population=population, seed=seed_value)
        super().__init__(cfg, strategy=meta_strategy or cfg.meta.strategy)
        self.dates = month_dates(cfg.start, cfg.horizon_months)
        self.paired = {s: LLMMarket(cfg, strategy=s) for s in STRATEGIES
                       if s != self.plan.name}  # the other strategies on the same seed, stepped when asked

    def npv_to_date(self) -> dict[str, float]:
        """Meta's strategic NPV over the months run so far under every strategy, on the same seed: the other
        strategies' models are stepped up to this one's month first."""
        out = {}
        for name, m in {self.plan.name: self, **self.paired}.items():
            while m is not self and m.running and len(m.rows) < len(self.rows):
                m.step()
            out[name] = outcomes(RecordColumns(m.rows), self.cfg.market.discount_rate, m.catalog)["npv.meta"]
        return out

    def indicators(self) -> pd.DataFrame:
        """The key indicators month by month, read from the model's record (its one output path)."""
        df = pd.DataFrame.from_records(self.rows, columns=["share_tokens.llama_hosted", "share_tokens.llama_self",
                                                           "adopted_frac", "commoditization"])
        return pd.DataFrame({"Llama token share": df["share_tokens.llama_hosted"] + df["share_tokens.llama_self"],
                             "Adopted share of developers": df["adopted_frac"],
                             "Commoditization index": df["commoditization"]})

    def timeseries(self) -> pd.DataFrame:
        """The months run so far in the layout of :func:`sim.runner.run_once` (so the run figures apply)."""
        df = pd.DataFrame.from_records(self.rows)
        ids = pd.DataFrame({"scenario": self.cfg.name, "strategy": self.strategy, "replicate": 0,
                            "seed": int(self.cfg.seed)}, index=df.index)
        df = pd.concat([ids, df], axis=1)
        df.insert(5, "date", self.dates[: len(df)])
        return df


def adoption_chart(model: DashboardMarket) -> Figure | None:
    """The run figure of adoption, on the whole horizon so that it fills in as the model runs."""
    if not model.rows:
        return None
    fig = adoption_figure(model.timeseries(), model.catalog)
    for ax in fig.axes:
        ax.set_xlim(model.dates[0], model.dates[-1])
        for line in ax.get_lines():
            line.set_marker("o" if len(line.get_xdata()) < 3 else "")
    return fig


def ledger_chart(model: DashboardMarket) -> Figure | None:
    """Meta's NPV by ledger line for the months run so far; None before the first step."""
    if not model.rows:
        return None
    summary = pd.DataFrame([summarize(model.timeseries(), model.cfg.market.discount_rate, model.catalog)])
    return ledger_waterfall_figure(summary)


VALUE_NOTE = ("npv.meta sums only the AI-related lines of Meta's ledger, not Meta's value: only the differences "
              "between strategies mean something. One seed, so part of a difference is the model's randomness: "
              "sim run --replications 3 or sim brief give intervals.")


def differences_chart(model: DashboardMarket) -> Figure | None:
    """Meta's NPV to date as paired differences between strategies (open − closed, open − absent, closed − absent,
    same seed), $B; None before the first step."""
    if not model.rows:
        return None
    npv = model.npv_to_date()
    labels = [f"{a} − {b}" for a, b in PAIRS]
    values = [(npv[a] - npv[b]) / 1e9 for a, b in PAIRS]
    fig = Figure(figsize=(5.6, 2.6), layout="constrained")
    ax = fig.subplots()
    ax.barh(labels, values, color=["#0072B2" if v >= 0 else "#D55E00" for v in values], height=0.6)
    ax.axvline(0, color="0.3", lw=0.8)
    ax.invert_yaxis()
    ax.set_xlabel(f"$B, NPV to month {len(model.rows)} (same seed)")
    ax.grid(alpha=0.3, axis="x")
    return fig


def _figure_card(title: str, fig: Figure | None, note: str = ""):
    with solara.Card(title, classes=["sim-chart"]) as card:
        if fig is None:
            solara.Text("Press Step or ▶ to run the model.")
        else:
            solara.FigureMatplotlib(fig, format="png", dpi=FIGURE_DPI, bbox_inches="tight")
            if note:
                solara.Text(note, style={"color": "#555", "font-size": "0.85em"})
    return card


# Plain functions of the model, not @solara.component: SolaraViz wraps them so they redraw after every step.
def AdoptionPlot(model: DashboardMarket):
    """The adoption chart's card, redrawn by SolaraViz after every step."""
    return _figure_card("Adoption by option", adoption_chart(model))


def LedgerPlot(model: DashboardMarket):
    """The card with Meta's ledger to date, redrawn by SolaraViz after every step."""
    return _figure_card("Meta's ledger to date (NPV by line)", ledger_chart(model))


def DifferencesPlot(model: DashboardMarket):
    """The card with Meta's NPV to date as differences between strategies, redrawn after every step."""
    return _figure_card("Meta's NPV: differences between strategies", differences_chart(model), VALUE_NOTE)


def ScenarioInfo(model: DashboardMarket):
    """What is running: the preset's story, the strategy and each slider parameter's value and meaning."""
    cfg = model.cfg
    month = len(model.rows)
    date = model.dates[month - 1].strftime("%Y-%m") if month else "not started"
    first = cfg.description.strip().split(". ")[0].rstrip(".") + "."
    items = "".join(
        f"<li>{html.escape(knob.title)}: <b>{paths.get(cfg, knob.paths[0]):,.4g}</b> {html.escape(knob.spec.unit)}"
        f" <span style='color:#666'>— {html.escape(knob.meaning)}</span></li>" for knob in KNOBS)
    notice = f"<p style='color:#D55E00'>⚠ {html.escape(model.notice)}</p>" if model.notice else ""
    body = (f"<p><b>{html.escape(cfg.name)}</b> — {html.escape(first)}</p>"
            f"<p>Meta strategy <b>{html.escape(model.strategy)}</b> · {cfg.population.n:,} developers · "
            f"seed {cfg.seed} · month {month}/{cfg.horizon_months} ({date})</p><ul>{items}</ul>{notice}")
    with solara.Card("Active scenario", classes=["sim-info"]) as card:
        solara.HTML(tag="div", unsafe_innerHTML=body)  # escaped above; Markdown would fetch KaTeX from a CDN
    return card


INDICATORS = {"Llama token share": OPTION_COLORS["llama_hosted"], "Adopted share of developers": "#0072B2",
              "Commoditization index": "#E69F00"}
INDICATOR_STYLES = {"Llama token share": "--", "Adopted share of developers": "-", "Commoditization index": ":"}


def indicators_chart(model: DashboardMarket) -> Figure | None:
    """The key indicators month by month against the calendar (mesa's own plot would count "Step"s)."""
    df = model.indicators()
    if df.empty:
        return None
    fig = Figure(figsize=(5.6, 3.6), layout="constrained")
    ax = fig.subplots()
    dates = model.dates[: len(df)]
    for name, color in INDICATORS.items():
        ax.plot(dates, df[name].to_numpy(float), color=color, ls=INDICATOR_STYLES[name], label=name,
                marker="." if len(df) < 24 else "")
    ax.set_xlim(model.dates[0], model.dates[-1])
    date_axis(ax)
    ax.set_ylabel("Share or index (fraction)")
    ax.set_ylim(0, 1)
    ax.grid(alpha=0.3)
    ax.legend(loc="lower center", bbox_to_anchor=(0.5, 1.02), ncols=2, frameon=False, fontsize=8)
    return fig


def IndicatorsPlot(model: DashboardMarket):
    """The key indicators' card, redrawn by SolaraViz after every step."""
    return _figure_card("Key indicators by month", indicators_chart(model))


model = solara.reactive(DashboardMarket())


@solara.component
def Page():
    """The whole app: a named browser tab, sliders that show their values, and mesa's SolaraViz."""
    solara.Title(TITLE)
    solara.Style(SLIDER_VALUES_CSS)
    SolaraViz(
        model,
        components=[AdoptionPlot, LedgerPlot, DifferencesPlot, IndicatorsPlot, ScenarioInfo],
        model_params=model_params(),
        name=TITLE,
        play_interval=150,
    )


page = Page()
