"""Figures of one ``sim run`` folder, as functions of its result tables (they never run the model).

Every figure function takes the tidy tables (``timeseries``, ``summary``) and returns a matplotlib Figure, so tests
inspect axes and artists instead of pixels and the report, the CLI and the dashboard share one drawing code.
Colours come from :mod:`sim.figures.style` (Okabe-Ito): an option, provider or strategy has one colour in every figure.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.dates as mdates  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402
from matplotlib.patches import Patch  # noqa: E402
from scipy import stats  # noqa: E402

from sim import paths  # noqa: E402
from sim.catalog import Catalog, catalog_from_columns  # noqa: E402
from sim.channels import LABELS as LEDGER_LABELS  # noqa: E402
from sim.channels import REPORTED  # noqa: E402
from sim.channels import STRATEGIC as META_LINES  # noqa: E402  (the lines npv.meta sums)
from sim.figures.style import (  # noqa: E402
    OPTION_LABELS,
    PROVIDER_LABELS,
    STRATEGY_COLORS,
    STRATEGY_HATCHES,
    STRATEGY_LABELS,
    STRATEGY_STYLES,
    scenario_style,
)
from sim.io import save_figure  # noqa: E402
from sim.results import RunResults  # noqa: E402

BAND = (0.05, 0.95)
# Meta's strategies take the colour of the Meta product they put on the market (Llama green, Meta API purple).
GAIN_COLOR, LOSS_COLOR, TOTAL_COLOR, REPORTED_COLOR = "#0072B2", "#D55E00", "#000000", "#E69F00"
QUALITY_NAMES = {"meta_api": "Meta API", "llama_hosted": "Llama", "open_hosted": "Other open models"}
RELEASE_JUMP_ELO = 20.0  # month-on-month quality rise above which a step is a release (flywheel/community add < 20)
PANEL_W, PANEL_H = 4.6, 3.4

# --- parameters, described by the schema ---------------------------------------------------------------------------


@dataclass(frozen=True)
class FieldSpec:
    """One schema parameter as figures and the dashboard need it: meaning, unit, bounds, default."""

    path: str
    description: str
    unit: str
    lo: float | None
    hi: float | None
    default: Any
    annotation: Any

    @property
    def label(self) -> str:
        """An axis or slider caption: the meaning (or the field's name) with its unit in brackets."""
        text = self.description or self.path.rsplit(".", 1)[-1].replace("_", " ")
        return f"{text} ({self.unit})" if self.unit else text


def schema_field(dotted: str) -> FieldSpec:
    """The :mod:`sim.config` declaration of a dotted parameter path (``providers.openai.flywheel.strength``,
    ``market.open_gap.0.elo``), so labels and ranges are read from the schema, never repeated."""
    from sim.config import Scenario

    try:
        info, node = paths.field_at(Scenario, dotted.split("."))
    except KeyError:
        raise KeyError(dotted) from None
    unit, text = paths.unit_and_meaning(info.description if info else None)
    lo, hi = paths.bounds(info)
    return FieldSpec(dotted, text, unit, lo, hi, info.default if info else None, node)


# Short axis labels for swept parameters: plain words and the schema's unit, never an internal symbol (kappa_comm,
# theta_h, delta_T) or a dotted path; the schema's whole description belongs in a caption (:func:`param_caption`).
# ``*`` stands for a provider's or an option's key (``{who}``), ``#`` for a list index (``{index}``). A parameter not
# listed gets the first plain clause of its description, or its path's last two parts in words.
SHORT_LABELS = {
    "adoption.rechoice_rate": "Re-choice rate",
    "choice.brand.*": "Brand constant, {who}",
    "choice.family_nesting": "Model-family nesting",
    "choice.switching_cost": "Switching cost",
    "community.strength": "Open-community strength",
    "community.n0_share": "Community size scale",
    "community.llama_share": "Community gains following Llama",
    "consumer.attention_at_risk.#.value": "Attention at risk, point {index}",
    "consumer.buy_surplus_share": "Seller's share when Meta buys",
    "consumer.cost_weight": "Apps' weight on model cost",
    "consumer.meta_ad_yield": "Meta AI ad yield vs the feed",
    "consumer.meta_ai.use_per_user": "Meta AI use per user",
    "consumer.sourcing.api_customisation_share": "API buyer's share of fine-tuning gain",
    "consumer.sourcing.customisation": "Fine-tuning gain on own data",
    "consumer.sourcing.cutoff_hazard_per_year": "API cut-off hazard",
    "consumer.sourcing.lag_months": "Sourcing change lag",
    "consumer.sourcing.licence_hazard_ratio": "Licence vs API cut-off hazard",
    "consumer.sourcing.switch_cost": "Cost of switching source",
    "license.approval_probability": "Licence approval probability",
    "license.mau_threshold": "Licence MAU threshold",
    "market.ai_is_the_product": "How much AI is the product",
    "market.release_sd": "Release surprise, sd",
    "meta.flywheel.strength": "Meta data-flywheel strength",
    "meta.internal.bought_share": "Usable share of a bought lead",
    "meta.internal.value_per_100_elo": "Ad gain per 100 Elo inside Meta",
    "meta.ledger.support_revenue_per_dev": "Support revenue per firm",
    "meta.misuse.hazard_open_per_year": "Misuse hazard, open weights",
    "meta.misuse.hazard_closed_per_year": "Misuse hazard, closed API",
    "meta.misuse.liability": "Cost of a misuse incident",
    "meta.offset_after": "Meta's later release offset",
    "meta.quality_bonus": "Llama quality bonus",
    "meta.spend.capex_share": "AI share of capex",
    "meta.spend.rd_share": "AI share of R&D",
    "meta.spend.kept_share_absent": "R&D kept without a model",
    "meta.spend.terminal_years": "Value years after the horizon",
    "meta.talent.base_elo": "Talent gain from frontier work",
    "meta.talent.per_mindshare": "Talent gain at full mindshare",
    "meta.talent.closed_factor": "Closed API's share of talent gain",
    "population.tasks.agentic_share": "Agentic share of firms",
    "population.tasks.agentic_token_growth": "Agentic token growth",
    "providers.cloud_host.meta_revenue_share": "Large hosts' licence fee to Meta",
    "providers.cloud_host.pass_through": "Licence fee passed on by hosts",
    "providers.cloud_host.margin": "Hosts' margin",
    "providers.open_rival.offset": "Other open models' release offset",
    "providers.open_rival.spillover": "Open-model spillover",
    "providers.*.flywheel.strength": "{who} data-flywheel strength",
}
MAX_LABEL_CHARS = 48  # a derived label longer than this falls back to the path's words
LABEL_WRAP = 34  # characters per line of an axis label, so labels of side-by-side panels never meet
GREEK = ("alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta", "kappa", "lambda", "mu", "rho",
         "sigma", "tau", "phi", "chi", "psi", "omega")
# A description's leading symbol: "theta_h: ", "a(t): ", "S: ", "kappa_data, ", "eta, "
SYMBOL = re.compile(r"^(?:[\w()]{1,10}:|\w+_\w+,|(?:" + "|".join(GREEK) + r"),)\s+")
SEGMENT_NAMES = {"startup": "Start-ups", "enterprise": "Enterprises", "regulated": "Regulated firms",
                 "platform": "Platforms"}
WHO = {**SEGMENT_NAMES, "meta_ai": "Meta AI", "platforms": "Platform apps", "apps": "Other apps", **OPTION_LABELS,
       **PROVIDER_LABELS}  # what part of a path names: a segment, a consumer product, an option or a provider
SHORT_LABELS.update({
    "choice.alpha_price": "Weight of cost in the choice",
    "choice.cost_lambda": "Cost curvature (Box-Cox)",
    "choice.network_s0": "Network-effect share scale",
    "community.cost_cut": "Community serving-cost cut",
    "meta.flywheel.d0_market_months": "Meta flywheel data scale",
    "population.price_elasticity": "Token use elasticity to price",
    "population.tasks.agentic_quality_weight": "Quality weight of agentic work",
    "population.tokens_exponent": "Token elasticity to firm size",
    "providers.*.flywheel.d0_market_months": "{who} flywheel data scale",
    **{f"providers.*.trust_penalty.{s}": f"{{who}}: distrust by {n.lower()}" for s, n in SEGMENT_NAMES.items()},
})
UNIT_WORDS = {"x beta_quality": "x value of quality"}  # a unit that names a parameter, in words


def _generic(parts: list[str], star: int = -1) -> str:
    """``parts`` as a :data:`SHORT_LABELS` key: list indices as ``#``, the part at ``star`` as ``*``."""
    return ".".join("*" if i == star else "#" if p.isdigit() else p for i, p in enumerate(parts))


def _who(parts: list[str]) -> tuple[int, str]:
    """Where a path names a provider, option, consumer product or segment, and its name ((-1, "") if none)."""
    for i, part in enumerate(parts[1:], 1):
        if part in WHO:
            return i, WHO[part]
    return -1, ""


def _described(path: str) -> FieldSpec | None:
    """The schema's declaration of ``path``, with the description of its nearest section that has one when it has
    none of its own (a table's leaf); None when the path is not in the schema."""
    try:
        spec = schema_field(path)
    except KeyError:
        return None
    parts = path.split(".")
    while not spec.description and len(parts) > 1:
        parts = parts[:-1]
        try:
            spec = FieldSpec(spec.path, schema_field(".".join(parts)).description, spec.unit, spec.lo, spec.hi,
                             spec.default, spec.annotation)
        except KeyError:
            break
    return spec


def _derived_label(parts: list[str], spec: FieldSpec | None, at: int, who: str) -> str:
    """The first plain clause of the schema's description (no symbol, no aside), else the path's last parts in
    words; prefixed by what the path is about (a provider, a segment...) when the words do not name it."""
    text = SYMBOL.sub("", spec.description if spec is not None else "")
    text = re.sub(r"\s*\([^()]*\)", "", text)
    clause = re.split(r";|: |, | = | — | - ", text, maxsplit=1)[0].strip().rstrip(".")
    if not clause or "_" in clause or len(clause) > MAX_LABEL_CHARS:
        words = [p for i, p in enumerate(parts) if not p.isdigit() and i != at and (i or not who)]
        clause = " ".join(words[-2:]).replace("_", " ")
    if who and who.lower() not in clause.lower():
        clause = f"{who}: {clause}"
    return clause[:1].upper() + clause[1:]


def short_label(path: str, unit: bool = True) -> str:
    """A short axis label for a parameter path, in words with its unit: ``community.strength`` -> "Open-community
    strength (Elo)" (from :data:`SHORT_LABELS`, else the first plain clause of the schema's description, else the
    path's last parts in words)."""
    path = path.removeprefix("param.")
    parts = path.split(".")
    at, who = _who(parts)
    index = next((p for p in parts if p.isdigit()), "")
    spec = _described(path)
    key = next((k for k in (_generic(parts), _generic(parts, at)) if k in SHORT_LABELS), None)
    text = SHORT_LABELS[key].format(who=who, index=index) if key else _derived_label(parts, spec, at, who)
    if not unit or spec is None or not spec.unit:
        return text
    return f"{text} ({UNIT_WORDS.get(spec.unit, spec.unit.replace('_', ' '))})"


def param_label(path: str, wrap: int = LABEL_WRAP) -> str:
    """An axis label for a dotted parameter path: :func:`short_label`, wrapped to ``wrap`` characters a line."""
    text = re.sub(r"\([^()]*\)$", lambda m: m.group(0).replace(" ", "\u00a0"), short_label(path))
    return textwrap.fill(text, wrap, break_long_words=False).replace("\u00a0", " ")  # a unit stays on one line


def param_caption(path: str) -> str:
    """What a parameter is, for a caption: its short label, its path and the schema's whole description."""
    path = path.removeprefix("param.")
    spec = _described(path)
    text = spec.description if spec is not None else ""
    return f"{short_label(path)}: {path}" + (f" — {text}" if text else "")


def parameters_caption(paths) -> str:
    """One sentence naming the parameters a figure shows (short label = path: description), for its caption."""
    shown = list(dict.fromkeys(p.removeprefix("param.") for p in paths))
    return ("Parameters: " + "; ".join(param_caption(p) for p in shown) + ".") if shown else ""


# --- statistics ----------------------------------------------------------------------------------------------------


def band_stats(df: pd.DataFrame, by: list[str], column: str) -> pd.DataFrame:
    """Mean and the 90% band across replicates of ``column`` at each ``by`` key."""
    g = df.groupby(by, sort=True)[column]
    return pd.DataFrame({"mean": g.mean(), "lo": g.quantile(BAND[0]), "hi": g.quantile(BAND[1])}).reset_index()


def mean_ci(values, level: float = 0.95) -> tuple[float, float, float]:
    """Mean and Student-t confidence interval of the mean across replicates (the mean itself when n < 2)."""
    x = np.asarray(values, dtype=float)
    x = x[np.isfinite(x)]
    if x.size == 0:
        return np.nan, np.nan, np.nan
    m = float(x.mean())
    if x.size < 2:
        return m, m, m
    half = float(stats.t.ppf(0.5 + level / 2, x.size - 1) * x.std(ddof=1) / np.sqrt(x.size))
    return m, m - half, m + half


def paired_by_replicate(summary: pd.DataFrame, metric: str, pairs) -> list[tuple[str, str, pd.Series]]:
    """``metric`` under strategy a minus under b for each pair (a, b) of ``pairs`` that was run, paired on replicate
    (the runs of one replicate share a seed): the paired differences every table of Meta's value reads."""
    wide = summary.pivot_table(index="replicate", columns="strategy", values=metric)
    return [(a, b, (wide[a] - wide[b]).dropna()) for a, b in pairs if a in wide and b in wide]


def strategies_of(df: pd.DataFrame) -> list[str]:
    """The strategies in a table, in the order they first appear (so colours and panels stay stable)."""
    return list(dict.fromkeys(df["strategy"]))


def detect_releases(quality: pd.Series, min_jump: float = RELEASE_JUMP_ELO) -> np.ndarray:
    """Months (positions) where a model is released: it becomes available, or its quality jumps by > ``min_jump``.

    Between releases quality only drifts (data flywheel, community fine-tunes); a release resets it to the frontier
    plus the lab's lead, a jump of about cadence x frontier growth, which is what this detects."""
    q = quality.to_numpy(dtype=float)
    prev = np.concatenate([[np.nan], q[:-1]])
    appears = np.isfinite(q) & ~np.isfinite(prev)
    appears[0] = False  # available from the start is not a release seen in the data
    jumps = np.isfinite(q) & np.isfinite(prev) & (q - prev > min_jump)
    return np.flatnonzero(appears | jumps)


# --- shared decoration ---------------------------------------------------------------------------------------------


def _panels(n: int, rows: int = 1, sharey: bool | str = True, sharex: bool | str = False, w=PANEL_W, h=PANEL_H):
    fig = Figure(figsize=(w * n + 2.4, h * rows + 0.8), layout="constrained")
    axes = fig.subplots(rows, n, sharey=sharey, sharex=sharex, squeeze=False)
    return fig, axes


def date_axis(ax) -> None:
    """Calendar ticks on the x axis (a few per figure, concise month labels)."""
    locator = mdates.AutoDateLocator(minticks=3, maxticks=7)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
    ax.set_xlabel("Date (month)")


def legend_outside(fig: Figure, axes, title: str | None = None, extra: list | None = None,
                   below: bool = False) -> None:
    """One legend for the whole figure, right of the panels or (``below``) under them in one row, never over the
    data or an axis label; labels seen once."""
    handles: dict = {}
    for ax in np.ravel(axes):
        for h, lab in zip(*ax.get_legend_handles_labels(), strict=True):
            if not lab.startswith("_"):
                handles.setdefault(lab, h)
    for h in extra or []:
        handles[h.get_label()] = h
    if handles:
        fig.legend(list(handles.values()), list(handles), loc="outside lower center" if below else
                   "outside right center", ncols=len(handles) if below else 1, frameon=False, title=title)


def row_legend(row, title: str, extra: list | None = None) -> None:
    """A legend for one row of panels, right of its last panel (for figures whose rows show different series)."""
    handles: dict = {}
    for ax in row:
        for h, lab in zip(*ax.get_legend_handles_labels(), strict=True):
            if not lab.startswith("_"):
                handles.setdefault(lab, h)
    for h in extra or []:
        handles[h.get_label()] = h
    row[-1].legend(list(handles.values()), list(handles), loc="center left", bbox_to_anchor=(1.02, 0.5),
                   frameon=False, title=title)


def _title(fig: Figure, what: str, ts: pd.DataFrame, many: str = "mean and 90% band of {n} replicates",
           one: str = "") -> None:
    """``what — scenario NAME; <many or one>`` as the figure's title (``{n}``: the number of replicates)."""
    n = ts["replicate"].nunique()
    scenario = ts["scenario"].iloc[0] if "scenario" in ts else ""
    note = many.format(n=n) if n > 1 else one
    fig.suptitle(f"{what} — scenario {scenario}" + (f"; {note}" if note else ""))


def _line_band(ax, sub: pd.DataFrame, column: str, color: str, label: str, scale: float = 1.0, **kw):
    stats_ = band_stats(sub.assign(_v=sub[column] * scale), ["date"], "_v")
    ax.plot(stats_["date"], stats_["mean"], color=color, label=label, lw=1.8, **kw)
    if sub["replicate"].nunique() > 1:
        ax.fill_between(stats_["date"], stats_["lo"], stats_["hi"], color=color, alpha=0.18, lw=0)
    return stats_


# --- run figures ---------------------------------------------------------------------------------------------------


def quality_options(cat: Catalog) -> dict[str, str]:
    """Quality is a property of a model, not of how it is served: one line per model, named by its maker (each API,
    Llama and every open family's hosted route)."""
    out = {}
    for o in cat.option_table:
        if o.route == "api" or (o.route == "hosted" and o.owner not in cat.CLOSED_LABS):
            out[o.key] = QUALITY_NAMES.get(o.key, cat.PROVIDER_LABELS[o.owner])
    return out


def catalog_in(table: pd.DataFrame, cat: Catalog | None) -> Catalog:
    """The catalogue a results table was made with (given, or read from its columns)."""
    return cat if cat is not None else catalog_from_columns(table.columns)


def adoption_figure(ts: pd.DataFrame, cat: Catalog | None = None) -> Figure:
    """Share of all developers on each option over time, one panel per Meta strategy (mean, 90% band if R > 1)."""
    cat = catalog_in(ts, cat)
    strategies = strategies_of(ts)
    fig, axes = _panels(len(strategies))
    n_dev = ts[[c for c in ts.columns if c.startswith("users.")]].iloc[0].sum()
    for ax, strategy in zip(axes[0], strategies, strict=True):
        sub = ts[ts["strategy"] == strategy]
        for option in cat.OPTIONS:
            if sub[f"users.{option}"].max() > 0:
                _line_band(ax, sub, f"users.{option}", cat.OPTION_COLORS[option], cat.OPTION_LABELS[option],
                           1.0 / n_dev, ls=cat.OPTION_STYLES[option])
        ax.set_title(STRATEGY_LABELS.get(strategy, strategy))
        date_axis(ax)
        ax.grid(alpha=0.3)
    axes[0][0].set_ylabel("Share of all developers (fraction)")
    legend_outside(fig, axes, "Option")
    _title(fig, "Adoption by option", ts)
    return fig


def token_share_figure(ts: pd.DataFrame, cat: Catalog | None = None) -> Figure:
    """Who serves the tokens: stacked share of all tokens by option, one panel per strategy (replicate mean)."""
    cat = catalog_in(ts, cat)
    strategies = strategies_of(ts)
    fig, axes = _panels(len(strategies))
    for ax, strategy in zip(axes[0], strategies, strict=True):
        sub = ts[ts["strategy"] == strategy]
        options = [o for o in cat.OPTIONS if sub[f"share_tokens.{o}"].max() > 0]
        mean = sub.groupby("date", sort=True)[[f"share_tokens.{o}" for o in options]].mean()
        if options:
            ax.stackplot(mean.index, mean.to_numpy().T, colors=[cat.OPTION_COLORS[o] for o in options],
                         hatch=[cat.OPTION_HATCHES[o] for o in options], edgecolor="white",
                         labels=[cat.OPTION_LABELS[o] for o in options], alpha=0.9, lw=0)
            ax.set_xlim(mean.index.min(), mean.index.max())  # the stack fills the panel to its last month
        ax.set_ylim(0, 1)
        ax.set_title(STRATEGY_LABELS.get(strategy, strategy))
        date_axis(ax)
        ax.grid(alpha=0.3)
    axes[0][0].set_ylabel("Share of tokens served (fraction)")
    legend_outside(fig, axes, "Option")
    _title(fig, "Token share by option", ts, many="mean of {n} replicates")
    return fig


def prices_quality_figure(ts: pd.DataFrame, min_jump: float = RELEASE_JUMP_ELO, cat: Catalog | None = None) -> Figure:
    """Per-token prices (log scale) and model quality (Arena Elo) over time, releases marked; one column per
    strategy. Releases are detected as jumps in ``quality.<option>`` of the first replicate."""
    cat = catalog_in(ts, cat)
    strategies = strategies_of(ts)
    fig, axes = _panels(len(strategies), rows=2, sharey="row", sharex="col")
    first = ts["replicate"].min()
    for col, strategy in enumerate(strategies):
        sub = ts[ts["strategy"] == strategy]
        ax_p, ax_q = axes[0][col], axes[1][col]
        for option in cat.OPTIONS:
            if sub[f"price.{option}"].notna().any():
                _line_band(ax_p, sub, f"price.{option}", cat.OPTION_COLORS[option], cat.OPTION_LABELS[option],
                           ls=cat.OPTION_STYLES[option])
        for option, label in quality_options(cat).items():
            column = f"quality.{option}"
            if not sub[column].notna().any():
                continue
            line = _line_band(ax_q, sub, column, cat.OPTION_COLORS[option], label, ls=cat.OPTION_STYLES[option])
            rep = sub[sub["replicate"] == first].sort_values("date")
            at = rep["date"].iloc[detect_releases(rep[column], min_jump)]
            y = line.set_index("date")["mean"].reindex(at)
            ax_q.plot(at, y, ls="none", marker="^", ms=6, mfc=cat.OPTION_COLORS[option], mec="white", mew=0.6,
                      label="_release")
        ax_p.set_yscale("log")
        ax_p.set_title(STRATEGY_LABELS.get(strategy, strategy))
        ax_p.grid(alpha=0.3, which="major")  # decades only: minor log gridlines crowd the panel
        ax_q.grid(alpha=0.3)
        date_axis(ax_q)
    axes[0][0].set_ylabel("Price ($ per million tokens, log)")
    axes[1][0].set_ylabel("Quality (Arena Elo)")
    marker = Line2D([], [], ls="none", marker="^", color="0.3", label=f"release (replicate {first})")
    row_legend(axes[0], "Price of option")
    row_legend(axes[1], "Quality of model", extra=[marker])
    _title(fig, "Prices and quality", ts)
    return fig


def profits_figure(ts: pd.DataFrame, cat: Catalog | None = None) -> Figure:
    """Monthly profit of each company, one panel per company, one line per Meta strategy (mean, 90% band)."""
    cat = catalog_in(ts, cat)
    strategies = strategies_of(ts)
    rows = -(-len(cat.PROVIDERS) // 3)
    fig = Figure(figsize=(3 * PANEL_W + 2.2, rows * PANEL_H + 0.9), layout="constrained")
    axes = fig.subplots(rows, 3, sharex=True, squeeze=False)
    for ax in np.ravel(axes)[len(cat.PROVIDERS):]:
        ax.set_visible(False)
    for ax, provider in zip(np.ravel(axes), cat.PROVIDERS, strict=False):
        for strategy in strategies:
            sub = ts[ts["strategy"] == strategy]
            _line_band(ax, sub, f"profit.{provider}", STRATEGY_COLORS.get(strategy, "0.5"),
                       STRATEGY_LABELS.get(strategy, strategy), 1e-6, ls=STRATEGY_STYLES.get(strategy, "-"))
        ax.axhline(0, color="0.4", lw=0.8)
        ax.set_title(cat.PROVIDER_LABELS[provider])
        ax.grid(alpha=0.3)
        ax.set_ylabel("Profit ($M per month)")
    for ax in np.ravel(axes)[-3:]:
        date_axis(ax)
    legend_outside(fig, axes, "Meta's strategy")
    _title(fig, "Monthly profit by company", ts)
    return fig


def _ledger_values(summary: pd.DataFrame) -> tuple[list[str], dict[str, dict[str, float]]]:
    strategies = strategies_of(summary)
    means = {s: {line: float(summary.loc[summary["strategy"] == s, f"npv.meta.{line}"].mean()) / 1e9
                 for line in META_LINES} for s in strategies}
    lines = [line for line in META_LINES if any(abs(means[s][line]) > 0 for s in strategies)]
    return lines, means


def draw_waterfall(ax, values: list[float], labels: list[str], total_label: str = "Total",
                   total_ci: tuple[float, float] | None = None) -> None:
    """Horizontal waterfall: each line a bar from the running total, then the total from zero (top to bottom)."""
    running = 0.0
    y = np.arange(len(values) + 1)
    last = None  # row of the last drawn bar: connectors join bars, never pass through an empty row as a tick
    for i, v in enumerate(values):
        if v == 0:
            continue
        ax.barh(y[i], v, left=running, color=GAIN_COLOR if v >= 0 else LOSS_COLOR, height=0.7)
        if last is not None:
            ax.plot([running, running], [y[last] + 0.35, y[i] - 0.35], color="0.5", lw=0.7, label="_connector")
        running += v
        last = i
    ax.barh(y[-1], running, color=TOTAL_COLOR, height=0.7)
    if total_ci is not None and np.isfinite(total_ci[0]) and total_ci[1] > total_ci[0]:
        ax.errorbar(running, y[-1], xerr=[[running - total_ci[0]], [total_ci[1] - running]], fmt="none",
                    ecolor="0.5", capsize=4, lw=1.2)
    ax.set_yticks(y, [*labels, total_label])
    ax.tick_params(axis="y", length=0)  # the labels name the rows; tick marks would dangle beside empty ones
    ax.use_sticky_edges = False  # bars stick to their base; keep a margin so no bar ends on the frame
    ax.margins(x=0.05)
    ax.autoscale_view()
    if not ax.yaxis_inverted():
        ax.invert_yaxis()
    ax.axvline(0, color="0.3", lw=0.8)
    ax.grid(alpha=0.3, axis="x")


def ledger_waterfall_figure(summary: pd.DataFrame) -> Figure:
    """Meta's NPV built up line by line (discounted at the scenario's rate), one panel per strategy."""
    lines, means = _ledger_values(summary)
    strategies = list(means)
    fig, axes = _panels(len(strategies), sharex=True, w=PANEL_W + 0.4, h=PANEL_H + 0.4)
    for ax, strategy in zip(axes[0], strategies, strict=True):
        npv = summary.loc[summary["strategy"] == strategy, "npv.meta"] / 1e9
        _, lo, hi = mean_ci(npv)
        labels = [LEDGER_LABELS[line] + (" ·" if line in REPORTED else "") for line in lines]
        draw_waterfall(ax, [means[strategy][line] for line in lines], labels, "Meta NPV", (lo, hi))
        if "npv.meta_reported" in summary:  # the investor's lens: the sum of the reported lines (marked ·)
            reported = summary.loc[summary["strategy"] == strategy, "npv.meta_reported"].mean() / 1e9
            ax.plot([reported], [len(lines)], marker="D", color=REPORTED_COLOR, ms=7, zorder=5, ls="none")
        ax.set_title(STRATEGY_LABELS.get(strategy, strategy))
        ax.set_xlabel("NPV ($ billion)")
    with_ci = summary["replicate"].nunique() > 1  # the interval is drawn only then: promise it only then
    handles = [Patch(color=c, label=lab) for c, lab in
               ((GAIN_COLOR, "adds value"), (LOSS_COLOR, "costs"),
                (TOTAL_COLOR, "total (95% CI)" if with_ci else "total (one replicate, no CI)"))]
    if "npv.meta_reported" in summary:
        handles.append(Line2D([], [], marker="D", color=REPORTED_COLOR, ls="none",
                              label="reported AI P&L\n(sum of lines marked ·)"))
    fig.legend(handles=handles, loc="outside right center", frameon=False)
    n = summary["replicate"].nunique()
    fig.suptitle(f"Meta's ledger, NPV by line — scenario {summary['scenario'].iloc[0]}"
                 + (f"; mean of {n} replicates" if n > 1 else ""))
    return fig


def strategy_comparison_figure(summary: pd.DataFrame, cat: Catalog | None = None) -> Figure:
    """NPV of Meta and of each closed lab under each Meta strategy, mean and 95% CI across replicates."""
    cat = catalog_in(summary, cat)
    strategies = strategies_of(summary)
    companies = [p for p in ("meta", *cat.CLOSED_LABS) if f"npv.{p}" in summary]
    fig, axes = _panels(len(companies), sharey=False, w=3.4)
    for ax, company in zip(axes[0], companies, strict=True):
        for i, strategy in enumerate(strategies):
            m, lo, hi = mean_ci(summary.loc[summary["strategy"] == strategy, f"npv.{company}"] / 1e9)
            ax.bar(i, m, color=STRATEGY_COLORS.get(strategy, "0.5"), label=STRATEGY_LABELS.get(strategy, strategy),
                   hatch=STRATEGY_HATCHES.get(strategy), edgecolor="white", lw=0, width=0.7)
            if hi > lo:
                ax.errorbar(i, m, yerr=[[m - lo], [hi - m]], fmt="none", ecolor="0.2", capsize=4, lw=1.2)
        ax.set_xticks(range(len(strategies)), [s for s in strategies])
        ax.set_xlabel("Meta's strategy")
        ax.axhline(0, color="0.3", lw=0.8)
        ax.set_title(cat.PROVIDER_LABELS[company])
        ax.grid(alpha=0.3, axis="y")
    axes[0][0].set_ylabel("NPV ($ billion)")
    legend_outside(fig, axes, "Meta's strategy")
    _title(fig, "NPV by Meta strategy", summary, many="mean and 95% CI of {n} replicates", one="one replicate")
    return fig


RUN_FIGURES: dict[str, Callable[[RunResults], Figure]] = {
    "adoption": lambda r: adoption_figure(r.titled(r.timeseries), r.catalog),
    "tokens": lambda r: token_share_figure(r.titled(r.timeseries), r.catalog),
    "prices": lambda r: prices_quality_figure(r.titled(r.timeseries), cat=r.catalog),
    "ledger": lambda r: ledger_waterfall_figure(r.titled(r.summary)),
    "profits": lambda r: profits_figure(r.titled(r.timeseries), r.catalog),
    "strategies": lambda r: strategy_comparison_figure(r.titled(r.summary), r.catalog),
}
RUN_CAPTIONS = {
    "adoption": "Share of all simulated developers building on each option, month by month.",
    "tokens": "Share of all tokens served, by option (stacked to 100%).",
    "prices": "Per-token prices (top, log scale) and model quality in Arena Elo (bottom); triangles mark releases, "
              "detected as jumps in quality.",
    "ledger": "Meta's net present value built up from its ledger lines (discounted monthly values); blue adds, "
              "vermillion costs, black is the total (with its 95% confidence interval when there are several "
              "replicates).",
    "profits": "Monthly profit of each company under each of Meta's strategies.",
    "strategies": "NPV of Meta and of each closed lab under each Meta strategy (mean and 95% CI across replicates).",
}


def run_captions(n: int) -> dict[str, str]:
    """:data:`RUN_CAPTIONS` for a run of ``n`` replicates: an interval or band is named only when it is drawn (a
    figure draws one from two replicates on)."""
    if n > 1:
        return dict(RUN_CAPTIONS)
    return {**RUN_CAPTIONS,
            "ledger": "Meta's net present value built up from its ledger lines (discounted monthly values); blue adds, "
                      "vermillion costs, black is the total (one replicate: no confidence interval).",
            "strategies": "NPV of Meta and of each closed lab under each Meta strategy (one replicate: the values of "
                          "that run, no confidence interval)."}


def save_both(fig: Figure, stem: Path, dpi: int = 150) -> list[Path]:
    """Write ``stem``.png and ``stem``.svg atomically."""
    return [save_figure(fig, stem.with_suffix(".png"), dpi=dpi, bbox_inches="tight"),
            save_figure(fig, stem.with_suffix(".svg"), bbox_inches="tight")]


# --- several scenarios side by side ---------------------------------------------------------------------------------

def own_strategy(run: RunResults) -> str:
    """The strategy a scenario declares (``meta.strategy``) if it was run, else the first one that was."""
    declared = (run.scenario.get("meta") or {}).get("strategy")
    present = strategies_of(run.timeseries)
    return declared if declared in present else present[0]


def with_derived(ts: pd.DataFrame) -> pd.DataFrame:
    """Add the series the comparison plots: Llama's token share and the closed labs' revenue together."""
    return ts.assign(**{
        "llama_token_share": ts["share_tokens.llama_hosted"] + ts["share_tokens.llama_self"],
        "closed_revenue": sum(ts[f"revenue.{lab}"] for lab in catalog_from_columns(ts.columns).CLOSED_LABS),
    })


def comparison_figure(runs: list[RunResults]) -> Figure:
    """Scenarios side by side: Llama's token share, closed labs' revenue and the commoditization index over time
    (each scenario under its own Meta strategy; mean and 90% band), and Meta's NPV under every strategy (95% CI).

    Scenario lines take a palette and line styles of their own (:data:`sim.figures.style.SCENARIO_COLORS`), never the
    strategy colours of the NPV bars, so a colour means one thing in the whole figure."""
    fig = Figure(figsize=(2 * PANEL_W + 3.4, 2 * PANEL_H + 1.0), layout="constrained")
    axes = fig.subplots(2, 2, squeeze=False)
    ax_llama, ax_npv, ax_rev, ax_comm = axes[0][0], axes[0][1], axes[1][0], axes[1][1]
    for i, run in enumerate(runs):
        color, ls = scenario_style(i)
        strategy = own_strategy(run)
        sub = with_derived(run.timeseries[run.timeseries["strategy"] == strategy])
        label = f"{run.title} ({strategy})"
        _line_band(ax_llama, sub, "llama_token_share", color, label, ls=ls)
        _line_band(ax_rev, sub, "closed_revenue", color, label, 1e-6, ls=ls)
        _line_band(ax_comm, sub, "commoditization", color, label, ls=ls)
    present = {s for run in runs for s in strategies_of(run.summary)}
    strategies = [s for s in ("open", "closed", "absent") if s in present] + sorted(present - set(STRATEGY_COLORS))
    width = 0.8 / max(len(strategies), 1)
    for i, run in enumerate(runs):
        for k, strategy in enumerate(strategies):
            values = run.summary.loc[run.summary["strategy"] == strategy, "npv.meta"] / 1e9
            if values.empty:
                continue
            m, lo, hi = mean_ci(values)
            x = i + (k - (len(strategies) - 1) / 2) * width
            ax_npv.bar(x, m, width=width * 0.95, color=STRATEGY_COLORS.get(strategy, "0.5"),
                       hatch=STRATEGY_HATCHES.get(strategy), edgecolor="white", lw=0,
                       label=STRATEGY_LABELS.get(strategy, strategy))
            if hi > lo:
                ax_npv.errorbar(x, m, yerr=[[m - lo], [hi - m]], fmt="none", ecolor="0.2", capsize=3, lw=1)
    ax_npv.set_xticks(range(len(runs)), [run.title for run in runs], rotation=20, ha="right")
    ax_npv.axhline(0, color="0.3", lw=0.8)
    ax_npv.set_ylabel("Meta NPV ($ billion)")
    several = any(run.summary["replicate"].nunique() > 1 for run in runs)
    ax_npv.set_title("Meta's NPV by strategy" + (" (95% CI)" if several else " (one replicate, no CI)"))
    ax_npv.grid(alpha=0.3, axis="y")
    row_legend([ax_npv], "Meta's strategy")
    ax_llama.set_ylabel("Llama share of tokens (fraction)")
    ax_llama.set_title("Llama's token share")
    ax_rev.set_ylabel("Revenue ($ million per month)")
    ax_rev.set_title("Closed labs' revenue (OpenAI + Anthropic + Google)")
    ax_comm.set_ylabel("Commoditization index (1 − HHI)")
    ax_comm.set_title("Commoditization of models")
    for ax in (ax_llama, ax_rev, ax_comm):
        date_axis(ax)
        ax.grid(alpha=0.3)
    handles, labels = ax_llama.get_legend_handles_labels()
    ax_comm.legend(handles, labels, loc="center left", bbox_to_anchor=(1.02, 0.5), frameon=False,
                   title="Scenario (strategy)")
    fig.suptitle("Scenarios compared — lines: mean and 90% band across replicates")
    return fig


def comparison_table(runs: list[RunResults]) -> pd.DataFrame:
    """One row per scenario x strategy: mean and 95% CI of the outcomes the comparison figure shows."""
    rows = []
    for run in runs:
        ts = with_derived(run.timeseries)
        last = ts[ts["month"] == ts["month"].max()] if "month" in ts else ts.groupby(["strategy", "replicate"]).tail(1)
        for strategy in strategies_of(run.summary):
            s = run.summary[run.summary["strategy"] == strategy]
            row = {"scenario": run.title, "strategy": strategy, "replicates": len(s)}
            for col in ("npv.meta", "npv.openai", "npv.anthropic", "npv.google", "llama_token_share_m24",
                        "final_commoditization"):
                if col in s:
                    row[col], row[f"{col}.lo"], row[f"{col}.hi"] = mean_ci(s[col])
            m, lo, hi = mean_ci(last.loc[last["strategy"] == strategy, "closed_revenue"])
            row["closed_revenue_final_month"], row["closed_revenue_final_month.lo"] = m, lo
            row["closed_revenue_final_month.hi"] = hi
            row.update(paired_meta_columns(run.summary, strategy))
            rows.append(row)
    return pd.DataFrame(rows)


def paired_meta_columns(summary: pd.DataFrame, strategy: str) -> dict[str, float]:
    """Meta's NPV under ``strategy`` minus each other strategy of the run, paired on replicate (mean and 95% CI):
    ``npv.meta`` sums only the AI-related lines of Meta's ledger, so only these differences mean something."""
    out = {}
    pairs = [(strategy, other) for other in strategies_of(summary) if other != strategy]
    for _, other, diff in paired_by_replicate(summary, "npv.meta", pairs):
        name = f"npv.meta_minus_{other}"
        out[name], out[f"{name}.lo"], out[f"{name}.hi"] = mean_ci(diff)
    return out
