"""The dashboard without a browser: sliders read from the schema, the model adapter, and the page rendered by
solara's test renderer (find widgets, move a slider, press Reset and Step, see the plotted data change)."""

from __future__ import annotations

import io
import math

import numpy as np
import pytest

pytest.importorskip("solara")

import ipyvuetify as v  # noqa: E402
import ipywidgets as widgets  # noqa: E402
import solara  # noqa: E402

from sim.dashboard import app  # noqa: E402
from sim.figures.run import schema_field  # noqa: E402

KNOB = {k.name: k for k in app.KNOBS}


def test_slider_ranges_and_labels_come_from_the_schema():
    params = app.model_params()
    for knob in app.KNOBS:
        slider = params[knob.name]
        spec = schema_field(knob.paths[0])
        lo, hi = (math.log10(max(spec.lo, 1.0)), math.log10(spec.hi)) if knob.log10 else (spec.lo, spec.hi)
        assert lo <= slider.min < slider.max <= hi  # never outside what the schema accepts
        assert spec.unit in slider.label
        assert knob.meaning == spec.description or not spec.description
        assert slider.min <= slider.value <= slider.max
    assert params["license_threshold"].max == pytest.approx(12.0)  # log10 of the schema's 1e12 bound
    assert params["meta_strategy"]["values"] == ["open", "closed", "absent"]  # the schema's Literal
    assert "baseline" in params["preset"]["values"]
    assert params["population"] == app.DEFAULT_POPULATION


def test_adapter_overrides_only_moved_sliders_and_parses_seed():
    base = app.DashboardMarket()
    assert base.overrides == [] and base.devs.n == app.DEFAULT_POPULATION
    start = app.knob_defaults()
    for knob in app.KNOBS:  # starting positions sit on the slider's step grid, so the browser keeps them
        lo, _ = knob.bounds()
        assert (start[knob.name] - lo) / knob.step == pytest.approx(round((start[knob.name] - lo) / knob.step))
    assert app.DashboardMarket(**start).overrides == []
    assert app.DashboardMarket(**start).cfg.license.mau_threshold == 7e8  # not the snapped 10**8.75
    m = app.DashboardMarket(flywheel_strength=150.0, license_threshold=7.0, seed="42", meta_strategy="closed")
    assert all(getattr(m.cfg.providers, lab).flywheel.strength == 150.0 for lab in ("openai", "anthropic", "google"))
    assert m.cfg.license.mau_threshold == pytest.approx(1e7)
    assert m.cfg.seed == 42 and m.strategy == "closed"
    bad = app.DashboardMarket(seed="not a number")
    assert "seed" in bad.notice and bad.cfg.seed == base.cfg.seed
    # A slider left at its start keeps the preset's value: the no_meta_model preset stays absent.
    assert app.DashboardMarket(preset="no_meta_model").strategy == "absent"


def test_charts_follow_the_model():
    m = app.DashboardMarket()
    assert app.adoption_chart(m) is None
    for _ in range(3):
        m.step()
    fig = app.adoption_chart(m)
    assert len(fig.axes) == 1 and len(fig.axes[0].get_lines()[0].get_xdata()) == 3
    ledger = app.ledger_chart(m)
    assert ledger.axes[0].yaxis.get_major_formatter().format_ticks(ledger.axes[0].get_yticks())[-1] == "Meta NPV"
    ind = m.indicators()
    assert list(ind.columns) == ["Llama token share", "Adopted share of developers", "Commoditization index"]
    assert len(ind) == 3 and ind["Adopted share of developers"].iloc[-1] == m.rows[-1]["adopted_frac"]


@solara.component
def Page():
    return solara.AppLayout(children=[app.page])


def images(rc) -> list[bytes]:
    return [w.widget.value for w in rc.find(widgets.Image)]


def test_page_renders_and_slider_plus_step_changes_the_plot():
    app.model.value = app.DashboardMarket()
    box, rc = solara.render(Page(), handle_error=False)
    labels = [s.widget.label for s in rc.find(v.Slider)]
    for knob in app.KNOBS:
        assert knob.label in labels
    texts = " ".join(str(w.widget.children) for w in rc.find(v.CardTitle))
    for title in ("Adoption by option", "Meta's ledger", "differences between strategies", "Active scenario",
                  "Model Parameters"):
        assert title in texts
    step = rc.find(v.Btn, children=["Step"]).widget
    reset = rc.find(v.Btn, children=["Reset"]).widget

    step.click()
    step.click()
    assert len(app.model.value.rows) == 2
    before = images(rc)
    assert len(before) == 4  # adoption, ledger, differences between strategies, indicators
    plotted_before = app.adoption_chart(app.model.value).axes[0].get_lines()[0].get_ydata()

    price = rc.find(v.Slider, label=KNOB["price_multiplier"].label).widget
    price.v_model = price.max  # closed APIs three times dearer
    reset.click()
    assert app.model.value.cfg.providers.openai.price.multiplier == pytest.approx(price.max)
    assert len(app.model.value.rows) == 0
    step.click()
    step.click()
    after = images(rc)
    plotted_after = app.adoption_chart(app.model.value).axes[0].get_lines()[0].get_ydata()
    assert not np.array_equal(plotted_before, plotted_after)  # OpenAI's share of developers moved
    assert after[0] != before[0]  # and so did the adoption picture the page shows
    info = " ".join(w.widget.unsafe_innerHTML for w in rc.find(solara.widgets.HTML))
    assert "month 2/60" in info and "<b>3</b>" in info  # the active-scenario card shows the new multiplier
    rc.close()


def test_figures_render_to_png():
    m = app.DashboardMarket()
    m.step()
    buf = io.BytesIO()
    app.ledger_chart(m).savefig(buf, format="png", dpi=40)
    assert buf.getvalue()[:4] == b"\x89PNG"


def test_indicators_run_against_the_calendar_not_steps():
    m = app.DashboardMarket()
    assert app.indicators_chart(m) is None
    for _ in range(3):
        m.step()
    ax = app.indicators_chart(m).axes[0]
    assert ax.get_xlabel() == "Date (month)" and "Step" not in ax.get_xlabel()
    import pandas as pd

    xs = pd.to_datetime(ax.get_lines()[0].get_xdata())
    assert [d.strftime("%Y-%m") for d in xs] == [d.strftime("%Y-%m") for d in m.dates[:3]]
    assert len({ln.get_linestyle() for ln in ax.get_lines()}) == 3  # told apart without colour


def test_page_has_its_own_title_and_sliders_show_their_values():
    from solara.components.title import TitleWidget

    app.model.value = app.DashboardMarket()
    box, rc = solara.render(Page(), handle_error=False)
    titles = [w.widget.title for w in rc.find(TitleWidget)]
    assert titles == [app.TITLE] and "Solara" not in titles[0]
    css = " ".join(str(w.widget.children) + str(getattr(w.widget, "value", "")) for w in rc.find(v.Html)) + \
        " ".join(str(getattr(w.widget, "value", "")) for w in rc.find(widgets.HTML))
    assert "v-slider__thumb-label-container" in css and "display:block" in css
    assert all(s.widget.thumb_label for s in rc.find(v.Slider))  # the label the CSS keeps on screen
    texts = " ".join(str(w.widget.children) for w in rc.find(v.CardTitle))
    assert "Key indicators by month" in texts
    rc.close()


def test_differences_card_pairs_the_strategies_on_the_same_seed():
    """Meta's NPV shown as differences: each strategy's model on the dashboard's seed, stepped to the same month,
    equals a model run alone."""
    from sim.market import LLMMarket
    from sim.runner import RecordColumns, outcomes

    m = app.DashboardMarket(population=600)
    assert app.differences_chart(m) is None
    for _ in range(4):
        m.step()
    npv = m.npv_to_date()
    assert set(npv) == {"open", "closed", "absent"} and all(len(p.rows) == 4 for p in m.paired.values())
    alone = LLMMarket(m.cfg, strategy="absent")
    for _ in range(4):
        alone.step()
    expected = outcomes(RecordColumns(alone.rows), m.cfg.market.discount_rate, alone.catalog)["npv.meta"]
    assert npv["absent"] == expected
    fig = app.differences_chart(m)
    bars = [p.get_width() for p in fig.axes[0].patches]
    assert bars[1] == pytest.approx((npv["open"] - npv["absent"]) / 1e9)
    assert "only the differences" in app.VALUE_NOTE
