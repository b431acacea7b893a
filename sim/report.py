"""A single self-contained HTML page from a result folder: what the scenario says, the key numbers, every figure.

Figures are embedded as base64 PNG and the styles are inline, so the file can be mailed to a colleague and opened
offline. Written atomically to ``FOLDER/report.html``.
"""

from __future__ import annotations

import base64
import datetime as _dt
import html
import io
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from sim.io import write_text
from sim.loading import ConfigError
from sim.options import OPTIONS
from sim.plots import RUN_CAPTIONS, RUN_FIGURES, RunResults, mean_ci, strategies_of
from sim.style import OPTION_LABELS, STRATEGY_LABELS

CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;max-width:1640px;margin:2em auto;
padding:0 1.2em;color:#1a1a1a;line-height:1.45} p,ul,.lead{max-width:1100px}
h1{font-size:1.7em;margin-bottom:.2em}
h2{font-size:1.25em;margin-top:2em;border-bottom:1px solid #ddd;padding-bottom:.2em}
.meta{color:#555;font-size:.92em}
.lead{font-size:1.05em;background:#f4f7fb;border-left:4px solid #0072B2;padding:.7em 1em}
table{border-collapse:collapse;margin:.6em 0;font-size:.92em} th,td{padding:.35em .7em;border-bottom:1px solid #e3e3e3;
text-align:right} th:first-child,td:first-child{text-align:left} thead th{background:#f2f2f2}
td .ci{color:#777;font-size:.85em}
figure{margin:1.2em 0 2em;overflow-x:auto} figure img{max-width:none;border:1px solid #eee}
.caution{background:#fff6e5;border-left:4px solid #E69F00;padding:.6em 1em}
figcaption{color:#444;font-size:.92em;margin-top:.3em} footer{color:#777;font-size:.85em;margin:3em 0 1em}
"""
MIN_CI_REPLICATES = 3  # fewer replicates: no confidence interval is shown, and the report says so
CSS_PX_PER_INCH = 96  # a figure is shown at its own size (10 pt text stays 13 px), however sharp its PNG
MONEY = ("npv.meta", "npv.openai", "npv.anthropic", "npv.google")
OUTCOME_COLUMNS = {
    "npv.meta": "Meta NPV ($B)",
    "npv.openai": "OpenAI NPV ($B)",
    "npv.anthropic": "Anthropic NPV ($B)",
    "npv.google": "Google NPV ($B)",
    "llama_token_share_m24": "Llama token share, month 24",
    "final_adopted_frac": "Developers adopted, final",
    "final_commoditization": "Commoditization, final",
}


def figure_png(fig: Figure, dpi: int = 110) -> tuple[str, int, int]:
    """The figure as base64 PNG and its display size in CSS pixels (its size in inches at 96 px per inch)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight")
    data = buf.getvalue()
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")  # the IHDR chunk
    scale = CSS_PX_PER_INCH / dpi
    return base64.b64encode(data).decode("ascii"), round(width * scale), round(height * scale)


def figure_png_base64(fig: Figure, dpi: int = 110) -> str:
    return figure_png(fig, dpi)[0]


def _fmt(value: float, money: bool) -> str:
    if not np.isfinite(value):
        return "–"
    return f"{value / 1e9:,.2f}" if money else f"{value:.3f}"


def _cell(values, money: bool, with_ci: bool = True) -> str:
    m, lo, hi = mean_ci(values)
    ci = f' <span class="ci">[{_fmt(lo, money)}, {_fmt(hi, money)}]</span>' if with_ci and hi > lo else ""
    return f"{_fmt(m, money)}{ci}"


def strategy_table(summary: pd.DataFrame, headers: dict[str, str], cell, css: str) -> str:
    """An HTML table with a row per Meta strategy and a column per ``headers`` key, cells from ``cell(rows, key)``."""
    head = "".join(f"<th>{html.escape(label)}</th>" for label in headers.values())
    body = []
    for s in strategies_of(summary):
        sub = summary[summary["strategy"] == s]
        cells = "".join(f"<td>{cell(sub, key)}</td>" for key in headers)
        body.append(f"<tr><td>{html.escape(STRATEGY_LABELS.get(s, s))}</td>{cells}</tr>")
    return (f'<table class="{css}"><thead><tr><th>Meta strategy</th>{head}</tr></thead>'
            f"<tbody>{''.join(body)}</tbody></table>")


def outcomes_table(summary: pd.DataFrame, with_ci: bool = True) -> str:
    """Mean [95% CI] of the key outcomes, one row per Meta strategy (the mean alone when ``with_ci`` is False)."""
    headers = {c: OUTCOME_COLUMNS[c] for c in OUTCOME_COLUMNS if c in summary}
    return strategy_table(summary, headers, lambda sub, c: _cell(sub[c], c in MONEY, with_ci), "outcomes")


def shares_table(summary: pd.DataFrame) -> str:
    """Final share of tokens by option (replicate mean, %), one row per strategy; options nobody used left out."""
    headers = {o: OPTION_LABELS[o] for o in OPTIONS
               if f"final_share_tokens.{o}" in summary and summary[f"final_share_tokens.{o}"].max() > 0}
    return strategy_table(summary, headers, lambda sub, o: f"{100 * sub[f'final_share_tokens.{o}'].mean():.1f}%",
                          "shares")


def paired_lines(summary: pd.DataFrame) -> list[str]:
    """Sentences on Meta's choice: NPV(open) minus NPV(closed or absent), paired on replicate (same seeds).

    A verdict needs a confidence interval: with fewer than :data:`MIN_CI_REPLICATES` pairs the sentence gives
    the difference and says it is untested; with more, it says whether the interval excludes zero."""
    out = []
    wide = summary.pivot_table(index="replicate", columns="strategy", values="npv.meta")
    if "open" not in wide:
        return out
    for other in ("closed", "absent"):
        if other not in wide:
            continue
        diff = (wide["open"] - wide[other]).dropna() / 1e9
        m, lo, hi = mean_ci(diff)
        head = f"{STRATEGY_LABELS['open']} versus {STRATEGY_LABELS[other]}: Meta NPV {m:+,.2f} $B"
        if len(diff) < MIN_CI_REPLICATES:
            out.append(f"{head} over {len(diff)} paired replicate(s) — too few to tell this difference from the "
                       f"model's randomness; run at least {MIN_CI_REPLICATES} replications before drawing a "
                       "conclusion.")
        elif lo > 0 or hi < 0:
            out.append(f"{head} (95% CI {lo:+,.2f} to {hi:+,.2f}) over {len(diff)} paired replicates — in this "
                       f"scenario, open pays {'more' if m > 0 else 'less'} (the interval excludes zero).")
        else:
            out.append(f"{head} (95% CI {lo:+,.2f} to {hi:+,.2f}) over {len(diff)} paired replicates — the "
                       "interval includes zero: no clear difference at this number of replicates.")
    return out


def _scenario_facts(run: RunResults) -> str:
    sc, ts = run.scenario, run.timeseries
    pop = sc.get("population") or {}
    facts = [
        f"start {sc.get('start', ts['date'].min().strftime('%Y-%m'))}",
        f"{ts['month'].nunique() if 'month' in ts else '?'} months",
        f"{pop.get('n', '?'):,} simulated developers" if isinstance(pop.get("n"), int) else "",
        f"standing for {pop['represents']:,.0f} firms" if isinstance(pop.get("represents"), (int, float)) else "",
        f"{ts['replicate'].nunique()} replicate(s)",
        "strategies: " + ", ".join(strategies_of(ts)),
        f"seed {sc['seed']}" if "seed" in sc else "",
        f"discount rate {(sc.get('market') or {}).get('discount_rate', 0.1):.0%}/year",
    ]
    return " · ".join(html.escape(f) for f in facts if f)


def figures_html(figures: dict[str, tuple[Figure, str]], dpi: int) -> str:
    """Each figure at its own size (a wide one scrolls sideways) rather than shrunk to the text column."""
    parts = []
    for kind, (fig, caption) in figures.items():
        data, width, height = figure_png(fig, dpi)
        parts.append(f'<figure id="fig-{html.escape(kind)}"><img alt="{html.escape(kind)} figure" '
                     f'width="{width}" height="{height}" src="data:image/png;base64,{data}"><figcaption>'
                     f"<b>{html.escape(kind.capitalize())}.</b> "
                     f"{html.escape(caption)}</figcaption></figure>")
    return "\n".join(parts)


def replicates_note(n: int) -> str:
    """What the key numbers are: means with a 95% CI, or (too few replicates) plain values and a caution."""
    if n >= MIN_CI_REPLICATES:
        return ("Mean across replicates with its 95% confidence interval in brackets. NPVs are discounted monthly "
                "profits in US$ billion for the whole market the population stands for.")
    what = "the values of a single replicate" if n == 1 else f"means of {n} replicates"
    return (f'<span class="caution">Only {n} replicate{"s" if n != 1 else ""}: these are {what}, with no '
            f"confidence interval (at least {MIN_CI_REPLICATES} replicates are needed); differences between "
            "strategies may be the model's randomness. Re-run with <code>--replications 3</code> or more.</span> "
            "NPVs are discounted monthly profits in US$ billion for the whole market the population stands for.")


def run_report_html(run: RunResults, dpi: int = 110) -> str:
    figures = {kind: (draw(run), RUN_CAPTIONS[kind]) for kind, draw in RUN_FIGURES.items()}
    description = str(run.scenario.get("description") or "(no description)")
    verdicts = "".join(f"<li>{html.escape(line)}</li>" for line in paired_lines(run.summary))
    lead = f'<div class="lead"><ul>{verdicts}</ul></div>' if verdicts else ""
    n = int(run.summary["replicate"].nunique())
    overrides = "".join(f"<li><code>{html.escape(o)}</code></li>" for o in run.overrides)
    changed = f"<p>Settings changed from the preset <b>{html.escape(run.name)}</b>:</p><ul>{overrides}</ul>" \
        if overrides else ""
    body = f"""
<h1>{html.escape(run.display_name)} — LLM market simulation</h1>
<p class="meta">{_scenario_facts(run)}</p>
<h2>Scenario</h2>
<p>{html.escape(description)}</p>
{changed}
{lead}
<h2>Key numbers</h2>
<p>{replicates_note(n)}</p>
{outcomes_table(run.summary, with_ci=n >= MIN_CI_REPLICATES)}
<h3>Final share of tokens served</h3>
{shares_table(run.summary)}
<h2>Figures</h2>
{figures_html(figures, dpi)}"""
    return page(f"{run.display_name} — LLM market simulation report", body, noise_note(n))


def noise_note(n: int) -> str:
    """The footer's account of what differences between strategies mean, honest about the replicate count."""
    paired = ("every strategy runs on the same random streams (common random numbers), so differences between "
              "strategies are paired")
    if n >= MIN_CI_REPLICATES:
        return f"{paired}; their confidence intervals say how much of a difference could still be noise."
    return (f"{paired}, but with {n} replicate{'s' if n != 1 else ''} the report cannot say how much of a "
            "difference is noise.")


def sweep_report_html(folder: Path, dpi: int = 110) -> str:
    from sim.sweep_plots import SWEEP_CAPTIONS, SWEEP_KINDS, SweepResults, sweep_figures

    sweep = SweepResults.read(folder)
    figs = sweep_figures(sweep, list(SWEEP_KINDS))
    figures = {name: (fig, SWEEP_CAPTIONS[name.split("-")[0]]) for name, fig in figs.items()}
    params = [c.removeprefix("param.") for c in sweep.results.columns if c.startswith("param.")]
    experiments = ", ".join(dict.fromkeys(sweep.results["experiment"].astype(str)))
    body = f"""
<h1>Sweep {html.escape(experiments)} — LLM market simulation</h1>
<p class="meta">{len(sweep.results):,} runs · {sweep.results['point'].nunique()} design points ·
parameters: {html.escape(', '.join(params))}</p>
<h2>Key numbers</h2>
<p>Mean and 95% confidence interval across all runs of each strategy (over the whole design).</p>
{outcomes_table(sweep.results)}
<h2>Figures</h2>
{figures_html(figures, dpi)}"""
    return page(f"Sweep {experiments} — LLM market simulation report", body, noise_note(MIN_CI_REPLICATES))


def page(title: str, body: str, note: str = "") -> str:
    stamp = _dt.datetime.now().strftime("%Y-%m-%d %H:%M")
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(title)}</title><style>{CSS}</style></head>
<body>{body}
<footer>Generated by <code>sim report</code> on {stamp}. Agent-based strategy simulator of the LLM market
(Meta's open Llama vs closed APIs){"; " + html.escape(note) if note else "."}</footer>
</body></html>
"""


def write_report(folder: str | Path, out: str | Path | None = None, dpi: int = 110) -> Path:
    """Build the report of a run (or sweep) folder and write it atomically."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ConfigError(folder, "", "no such folder")
    if (folder / "results.parquet").is_file():
        text = sweep_report_html(folder, dpi)
    else:
        text = run_report_html(RunResults.read(folder), dpi)
    return write_text(text, Path(out) if out else folder / "report.html")
