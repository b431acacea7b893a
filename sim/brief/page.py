"""The brief on one page: the headline, the verdict table, the channel waterfall, where it flips, the spend it must
justify and what the answer leans on, as ``brief.md`` and a self-contained ``brief.html`` (figures embedded)."""

from __future__ import annotations

import html
import json
import math

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from sim.brief.compute import ASKED, LENSES, Brief, Verdict, world_differences
from sim.channels import LABELS, STRATEGIC
from sim.experiments.discovery import readable_name
from sim.figures.run import param_label, short_label
from sim.figures.run_report import figure_png_base64, markdown_table
from sim.figures.style import STRATEGY_LABELS
from sim.outcomes import MIN_CI_REPLICATES  # fewer paired seeds: a difference, no verdict

LEDGER_NOTE = ("Meta's NPV here (`npv.meta`) sums only the AI-related lines of its ledger — "
               + ", ".join(LABELS[c].lower() for c in STRATEGIC)
               + " — not Meta's enterprise value. Its level means little; only the differences between strategies "
                 "do, and those are what this page shows.")
FIXED_INPUTS = (  # the fixed inputs the answer rests on, and where they come from (docs/sources.md has each figure)
    ("Release dates and quality at release of every lab and open family, through 2025",
     "Chatbot Arena / LMArena leaderboard history; SWE-bench Verified as reported at release"),
    ("List prices of the labs' APIs and of hosted open models", "the providers' and hosts' published price lists"),
    ("Enterprise spend shares of 2023–24 (the fit's targets)",
     "Menlo Ventures, State of Generative AI in the Enterprise (2023, 2024)"),
    ("Meta's capex and R&D, 2023–25, and its advertising revenue", "Meta's 10-K and 10-Q filings"),
    ("Meta AI's users (400M Sep 2024, 600M Dec 2024)", "Meta's announcements"),
    ("The licence's 700M monthly-user clause", "the Llama 2, 3 and 3.1 community licence texts"),
    ("Firms that abandon most AI initiatives (17% in 2024)", "S&P Global Market Intelligence"),
)
OTHER = {"closed": "a closed Meta API", "absent": "no Meta model"}


def money(v: float) -> str:
    """$B with a sign and two decimals."""
    return "–" if not math.isfinite(v) else f"{v / 1e9:+,.2f}"


def percent(p: float) -> str:
    """A share as a whole percent."""
    return f"{100 * p:.0f}%"


def seeds_sentence(v: Verdict) -> str:
    """What the paired seeds say: a verdict only when the interval, from enough seeds, excludes zero."""
    head = f"{money(v.mean)} $B"
    if v.n < MIN_CI_REPLICATES:
        return f"{head} over {v.n} seed(s): too few for a verdict"
    ci = f"{head} (95% CI {money(v.lo)} to {money(v.hi)}, {v.n} paired seeds)"
    if v.lo > 0:
        return f"{ci}: open pays more"
    if v.hi < 0:
        return f"{ci}: open pays less"
    return f"{ci}: no clear difference"


def worlds_sentence(v: Verdict) -> str:
    """What the hypercube says: how often open is ahead over the documented ranges."""
    share = f"open ahead in {percent(v.p)} of {v.points} sampled worlds (95% CI {percent(v.p_lo)}–{percent(v.p_hi)})"
    if v.p_hi < 0.1:
        return f"{share}: almost nowhere in the ranges"
    if v.p_lo > 0.9:
        return f"{share}: almost everywhere in the ranges"
    if v.p in (0.0, 1.0):
        return f"{share}: {'in none' if v.p == 0 else 'in every one'} of them, too few worlds to say more"
    if v.p_hi < 0.5:
        return f"{share}: in a minority of worlds"
    if v.p_lo > 0.5:
        return f"{share}: in most worlds"
    return f"{share}: it depends on the world"


def headline(b: Brief) -> list[str]:
    """One line per alternative, in the strategic lens: the seeds' difference and the worlds' probability."""
    out = []
    for v in b.verdicts:
        if v.metric == "npv.meta":
            out.append(f"Open vs {OTHER[v.b]}: {seeds_sentence(v)}; {worlds_sentence(v)}.")
    return out


def flip_sentence(v: Verdict) -> str:
    """Where the verdict reverses, in one sentence."""
    if v.flips:
        return v.flips[0]
    side = "ahead" if v.p > 0.5 else "behind"
    top = v.influence["parameter"].head(2).map(readable_name).tolist() if v.influence is not None else []
    moved = f"; what moves the difference most: {' and '.join(top)}" if top else ""
    return f"No sampled world reverses it: open is {side} in all {v.points} sampled worlds{moved}."


def influence_table(b: Brief, top: int = 3) -> pd.DataFrame:
    """The swept parameters the answer leans on most: the best ``top`` of each verdict by extra-trees score, with
    their range and the largest score they reach."""
    rows = {}
    for v in b.verdicts:
        if v.influence is None:
            continue
        for _, r in v.influence.head(top).iterrows():
            best = rows.setdefault(r["parameter"], {"parameter": r["parameter"], "score": 0.0, "verdicts": []})
            best["score"] = max(best["score"], float(r["score"]))
            best["verdicts"].append(f"{v.comparison} ({LENSES[v.metric]})")
    table = pd.DataFrame(rows.values(), columns=["parameter", "score", "verdicts"])
    table["range"] = [_range(b.swept.get(p, {})) for p in table["parameter"]]
    table["name"] = table["parameter"].map(short_label)
    return table.sort_values("score", ascending=False, kind="stable").reset_index(drop=True)


def _range(spec: dict) -> str:
    if "low" in spec and "high" in spec:
        return f"{spec['low']:g} – {spec['high']:g}"
    return ", ".join(f"{k}={v}" for k, v in spec.items())


# --- figures -------------------------------------------------------------------------------------------------------


def channels_figure(b: Brief, keep: int = 8) -> Figure:
    """The paired difference of Meta's strategic NPV by value channel, one waterfall per alternative: which
    channels make the answer (the largest ``keep``; the rest summed)."""
    from sim.figures.run import draw_waterfall

    fig = Figure(figsize=(11.5, 4.2), layout="constrained")
    axes = fig.subplots(1, len(ASKED))
    for ax, (a, other) in zip(axes, ASKED, strict=True):
        column = f"{a}-{other}"
        table = b.channels[["label", column]].dropna()
        table = table.reindex(table[column].abs().sort_values(ascending=False).index)
        shown, rest = table.head(keep), table.iloc[keep:][column].sum()
        values = [*(shown[column] / 1e9), rest / 1e9] if len(table) > keep else list(shown[column] / 1e9)
        labels = [*shown["label"], "Other channels"] if len(table) > keep else list(shown["label"])
        v = next(x for x in b.verdicts if x.comparison == column and x.metric == "npv.meta")
        ci = (v.lo / 1e9, v.hi / 1e9) if v.n >= MIN_CI_REPLICATES else None
        draw_waterfall(ax, values, labels, total_label="Difference of Meta's NPV", total_ci=ci)
        ax.set_title(f"{STRATEGY_LABELS[a]} − {STRATEGY_LABELS[other]}", fontsize=10)
        ax.set_xlabel("$B (NPV, paired mean over seeds)")
    return fig


def flips_figure(b: Brief) -> Figure:
    """Each verdict's worlds over the two parameters that move its difference most, marked by whether open is
    ahead, with the PRIM box where it restricts them: where the answer flips."""
    fig = Figure(figsize=(11.5, 8.0), layout="constrained")
    axes = fig.subplots(len(ASKED), len(LENSES), squeeze=False).ravel()
    for ax, v in zip(axes, b.verdicts, strict=True):
        diffs = world_differences(b.results, v)
        params = v.influence["parameter"].head(2).tolist() if v.influence is not None else []
        points = b.results.drop_duplicates("point").set_index("point").loc[diffs.index]
        if len(params) < 2:
            ax.set_axis_off()
            continue
        x, y = points[f"param.{params[0]}"], points[f"param.{params[1]}"]
        ahead = diffs.to_numpy() > 0
        for mask, marker, color, label in ((ahead, "o", "#009E73", "open ahead"),
                                           (~ahead, "x", "#D55E00", "open behind")):
            if mask.any():
                ax.scatter(x[mask], y[mask], s=18, marker=marker, color=color, label=label)
        _draw_box(ax, v, params, x, y)
        ax.set_xlabel(param_label(params[0]))
        ax.set_ylabel(param_label(params[1]))
        ax.set_title(f"Open against {OTHER[v.b]}, {LENSES[v.metric]}: open ahead in {percent(v.p)} of worlds",
                     fontsize=10)
    handles = {}
    for ax in fig.axes:  # one legend for the figure, below the panels, so no marker hides a world
        for h, label in zip(*ax.get_legend_handles_labels(), strict=True):
            handles.setdefault(label, h)
    if handles:
        fig.legend(handles.values(), handles.keys(), loc="outside lower center", ncols=len(handles), frameon=False)
    return fig


def _draw_box(ax, v: Verdict, params: list[str], x: pd.Series, y: pd.Series) -> None:
    if v.box is None or v.box.empty:
        return
    limits = v.box.set_index("parameter")
    if not set(params) & set(limits.index):
        return

    def span(p: str, values: pd.Series) -> tuple[float, float]:  # an open side (NaN) runs to the data's edge
        lo, hi = (limits.at[p, "lower"], limits.at[p, "upper"]) if p in limits.index else (np.nan, np.nan)
        return (lo if np.isfinite(lo) else values.min()), (hi if np.isfinite(hi) else values.max())

    (x0, x1), (y0, y1) = span(params[0], x), span(params[1], y)
    ax.add_patch(Rectangle((x0, y0), x1 - x0, y1 - y0, fill=False, lw=1.5, ls="--", color="0.2", label="PRIM box"))
    ax.annotate(f"box: open {'ahead' if v.box_of else 'behind'}", (x0, y1), xytext=(3, -3),
                textcoords="offset points", va="top", fontsize=8, color="0.2",
                bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none", "alpha": 0.8})


# --- the page as blocks, written as Markdown and as HTML ------------------------------------------------------------


def verdict_table(b: Brief) -> pd.DataFrame:
    """One row per alternative and lens: the seeds' difference and the worlds' probability."""
    rows = []
    for v in b.verdicts:
        ci = f"[{money(v.lo)}, {money(v.hi)}]" if v.n >= MIN_CI_REPLICATES else "(too few seeds)"
        rows.append({"Open against": OTHER[v.b], "Lens": LENSES[v.metric],
                     "Difference, $B (seeds)": f"{money(v.mean)} {ci}",
                     "Open ahead (worlds)": f"{percent(v.p)} [{percent(v.p_lo)}–{percent(v.p_hi)}]"})
    return pd.DataFrame(rows)


def breakeven_blocks(b: Brief) -> list[tuple]:
    """The break-even spend share f*, over seeds and worlds, against the scenario's own AI shares."""
    if b.breakeven.empty:
        return []
    table = pd.DataFrame({
        "Building strategy": b.breakeven["builder"].map(STRATEGY_LABELS),
        "Over": b.breakeven["source"].map({"seeds": "the scenario's seeds", "worlds": "the sampled worlds"}),
        "f*, median": b.breakeven["median"].map(percent_fine),
        "f*, 90% range": [f"{percent_fine(lo)} – {percent_fine(hi)}" for lo, hi
                          in zip(b.breakeven["q05"], b.breakeven["q95"], strict=True)],
    })
    f_r, f_k = b.spend_share
    return [("h2", "The spend a model must justify"),
            ("p", "f* is the share of Meta's R&D and capex that is AI work (f_R = f_K = f) at which building a model "
                  "breaks even with staying out: below it building pays, above it staying out does; a negative f* "
                  "means building loses even with no spend at all. The scenario "
                  f"books f_R = {percent_fine(f_r)} and f_K = {percent_fine(f_k)} (documented range 5–40%)."),
            ("table", table)]


def percent_fine(p: float) -> str:
    """A share to a tenth of a percent (f* is often below 1%), never "-0.0%"."""
    return "–" if not math.isfinite(p) else f"{100 * p + 0.0:.1f}%".replace("-0.0%", "0.0%")


def leans_blocks(b: Brief) -> list[tuple]:
    """What the model does not know: the swept parameters that move the answer most, the scenario's own settings
    held fixed, and the sources of the fixed inputs."""
    table = influence_table(b)
    shown = pd.DataFrame({"Parameter": table["name"], "Path": table["parameter"], "Range swept": table["range"],
                          "Influence (extra trees)": table["score"].map(lambda s: f"{s:.2f}"),
                          "Moves": table["verdicts"].map(lambda v: "; ".join(v))})
    blocks = [("h2", "What the answer leans on"),
              ("p", "The swept parameters that move the differences most (extra-trees feature scores on the paired "
                    "difference over the sampled worlds; a verdict's scores add up to 1). These are the assumptions "
                    "to argue about."),
              ("table", shown)]
    if b.held:
        blocks.append(("p", "Held at the scenario's own values (its premise, not sampled): " + ", ".join(
            f"{readable_name(p)} = {v:g}" for p, v in b.held.items()) + "."))
    blocks.append(("p", "Fixed inputs, from public sources (docs/sources.md restates each figure):"))
    blocks.append(("ul", [f"{what} — {source}." for what, source in FIXED_INPUTS]))
    return blocks


def blocks(b: Brief) -> list[tuple]:
    """The page, top to bottom: (kind, ...) tuples that :func:`markdown` and :func:`html_page` render alike."""
    sc, size = b.scenario, b.size
    title = sc.name + (f" with {', '.join(b.overrides)}" if b.overrides else "")
    facts = (f"{size.replications} paired seeds of the scenario and {b.verdicts[0].points} worlds of a Latin "
             f"hypercube over {len(b.swept)} documented ranges, every strategy on the same seeds; "
             f"{sc.population.n:,} simulated developers, {sc.horizon_months} months from {sc.start}, seed {sc.seed}.")
    out = [("h1", f"Does giving Llama away pay? — {title}"), ("p", facts), *strategy_notes(b), ("lead", headline(b)),
           ("p", str(sc.description).strip()),
           ("h2", "The answer"),
           ("p", "Open minus each alternative, paired: over the scenario's own seeds (mean and 95% interval) and over "
                 "the sampled worlds (the share where open is ahead, with its 95% interval; each world runs one "
                 "seed, so the share holds the model's randomness as well as what the ranges leave open). The "
                 "strategic NPV counts every channel; the reported AI P&L is what an investor sees."),
           ("table", verdict_table(b)), ("note", LEDGER_NOTE),
           ("h2", "Which channels make the answer"),
           ("figure", "channels", "The paired difference of Meta's strategic NPV by value channel (largest eight, the "
                                  "rest summed), over the scenario's seeds; the last bar is the total, with its 95% "
                                  "interval."),
           ("h2", "Where it flips"),
           ("ul", [f"Open against {OTHER[v.b]} ({LENSES[v.metric]}): {flip_sentence(v)}" for v in b.verdicts]),
           ("figure", "flips", "Each sampled world over the two parameters that move the difference most: open ahead "
                               "(circles) or behind (crosses); the dashed box is PRIM's, where it restricts them.")]
    out += breakeven_blocks(b)
    out += leans_blocks(b)
    out += [("h2", "Reproduce"), ("ul", reproduce(b))]
    return out


def reproduce(b: Brief) -> list[str]:
    """The commands that give the page's numbers again, run from this folder."""
    sc = b.scenario
    sets = "".join(f" --set {o}" for o in b.overrides)
    return [f"The seeds: sim run {b.ref} --strategies open,closed,absent --replications {b.size.replications} "
            f"--population {sc.population.n} --seed {sc.seed}{sets}",
            "The worlds: sim sweep experiment.yaml --out worlds, then sim analyze worlds (this folder's experiment "
            "file; its sweep/ holds the runs already)",
            f"Where it flips: sim discover sweep --metric npv.meta --comparison open-closed --resamples "
            f"{b.size.resamples} (npv.meta_reported for the reported lens, open-absent for the other alternative)"]


def strategy_notes(b: Brief) -> list[tuple]:
    """What the strategies mean in this scenario when it pins one or switches one at a date."""
    from sim.config import Scenario

    meta, notes = b.scenario.meta, []
    if meta.strategy != Scenario.model_fields["meta"].get_default(call_default_factory=True).strategy:
        notes.append(f"This scenario pins Meta's strategy to {meta.strategy} (sim run would run only that one); "
                     "the brief compares all three on it, which are the baseline's comparisons in this world.")
    if meta.switch is not None:
        notes.append(f"This scenario switches Meta's {meta.strategy} strategy to {meta.switch.to} in "
                     f"{meta.switch.date}: below, '{meta.strategy}' means {meta.strategy} until then and "
                     f"{meta.switch.to} after; the other strategies hold from the start.")
    return [("note", n) for n in notes]


def markdown(page_blocks: list[tuple]) -> str:
    """``brief.md``: the blocks as Markdown, figures linked from ``figures/``."""
    parts = []
    for kind, *rest in page_blocks:
        if kind in ("h1", "h2"):
            parts.append(f"{'#' if kind == 'h1' else '##'} {rest[0]}")
        elif kind in ("p", "note"):
            parts.append(rest[0] if kind == "p" else f"> {rest[0]}")
        elif kind in ("ul", "lead"):
            parts.append("\n".join(f"- {item}" for item in rest[0]))
        elif kind == "table":
            parts.append(markdown_table(rest[0]))
        elif kind == "figure":
            parts.append(f"![{rest[0]}](figures/{rest[0]}.png)\n\n*{rest[1]}*")
    return "\n\n".join(parts) + "\n"


CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;max-width:1180px;margin:2em auto;
padding:0 1.2em;color:#1a1a1a;line-height:1.45}
h1{font-size:1.6em;margin-bottom:.3em} h2{font-size:1.25em;margin-top:1.8em;border-bottom:1px solid #ddd}
.lead{font-size:1.05em;background:#f4f7fb;border-left:4px solid #0072B2;padding:.6em 1em}
.note{background:#fff6e5;border-left:4px solid #E69F00;padding:.6em 1em}
table{border-collapse:collapse;margin:.6em 0;font-size:.92em;max-width:100%} th,td{padding:.35em .7em;
border-bottom:1px solid #e3e3e3;text-align:left;vertical-align:top} thead th{background:#f2f2f2}
figure{margin:1em 0 1.6em} figure img{max-width:100%;height:auto;box-sizing:border-box;border:1px solid #eee}
figcaption{color:#444;font-size:.92em} code{font-size:.95em}
"""


def html_page(page_blocks: list[tuple], images: dict[str, str]) -> str:
    """``brief.html``: the blocks as one self-contained page (inline styles, figures as base64 PNG)."""
    parts = []
    for kind, *rest in page_blocks:
        if kind in ("h1", "h2"):
            parts.append(f"<{kind}>{html.escape(rest[0])}</{kind}>")
        elif kind == "p":
            parts.append(f"<p>{html.escape(rest[0])}</p>")
        elif kind == "note":
            parts.append(f'<p class="note">{html.escape(rest[0])}</p>')
        elif kind in ("ul", "lead"):
            items = "".join(f"<li>{html.escape(item)}</li>" for item in rest[0])
            parts.append(f'<ul class="lead">{items}</ul>' if kind == "lead" else f"<ul>{items}</ul>")
        elif kind == "table":
            parts.append(rest[0].to_html(index=False, border=0, escape=True))
        elif kind == "figure":
            parts.append(f'<figure id="fig-{rest[0]}"><img alt="{html.escape(rest[0])} figure" '
                         f'src="data:image/png;base64,{images[rest[0]]}"><figcaption>{html.escape(rest[1])}'
                         "</figcaption></figure>")
    title = html.escape(page_blocks[0][1])
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><meta name="viewport" '
            f'content="width=device-width, initial-scale=1"><title>{title}</title><style>{CSS}</style></head>'
            f"<body>\n{chr(10).join(parts)}\n<footer><p>Written by <code>sim brief</code>.</p></footer>"
            "</body></html>\n")


def numbers(b: Brief) -> dict:
    """``brief.json``: the page's numbers, for a notebook or a test ($ as dollars, shares as fractions)."""
    return {
        "scenario": b.scenario.name, "overrides": b.overrides, "seed": int(b.scenario.seed),
        "population": int(b.scenario.population.n), "replications": b.size.replications,
        "points": b.verdicts[0].points,
        "verdicts": [{"comparison": v.comparison, "metric": v.metric, "mean": v.mean, "ci_lo": v.lo, "ci_hi": v.hi,
                      "seeds": v.n, "p_open_ahead": v.p, "p_lo": v.p_lo, "p_hi": v.p_hi, "flips": flip_sentence(v)}
                     for v in b.verdicts],
        "channels": b.channels.to_dict("records"),
        "breakeven_spend_share": b.breakeven.to_dict("records"),
        "swept": b.swept, "held": b.held,
    }


def strict_json(value):
    """``value`` with every NaN or infinity as None (JSON null) and numpy scalars as Python numbers."""
    if isinstance(value, dict):
        return {str(k): strict_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [strict_json(v) for v in value]
    if isinstance(value, (float, np.floating)):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, np.integer):
        return int(value)
    return value


def write_page(b: Brief, folder, dpi: int = 110) -> list[str]:
    """Draw the figures and write ``brief.md``, ``brief.html``, ``brief.json`` and ``figures/`` into ``folder``;
    returns the names written."""
    from pathlib import Path

    from sim.figures.run import save_both
    from sim.io import write_text

    folder = Path(folder)
    figures = {"channels": channels_figure(b), "flips": flips_figure(b)}
    images = {name: figure_png_base64(fig, dpi) for name, fig in figures.items()}
    for name, fig in figures.items():
        save_both(fig, folder / "figures" / name)
    page_blocks = blocks(b)
    write_text(markdown(page_blocks), folder / "brief.md")
    write_text(html_page(page_blocks, images), folder / "brief.html")
    write_text(json.dumps(strict_json(numbers(b)), indent=2), folder / "brief.json")
    return ["brief.html", "brief.md", "brief.json", "figures/"]
