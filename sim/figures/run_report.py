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

from sim.catalog import catalog_from_columns
from sim.channels import LABELS as CHANNEL_LABELS
from sim.channels import STRATEGIC
from sim.errors import ConfigError
from sim.figures.run import RUN_FIGURES, mean_ci, paired_by_replicate, run_captions, strategies_of
from sim.figures.style import STRATEGY_LABELS
from sim.io import write_text
from sim.outcomes import MIN_CI_REPLICATES  # fewer: no CI is shown, and the report says so
from sim.results import RunResults
from sim.strategies import COMPARISONS, PAIRS, comparisons_in

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
figure{margin:1.2em 0 2em} figure img{max-width:100%;height:auto;border:1px solid #eee}
.caution{display:block;background:#fff6e5;border-left:4px solid #E69F00;padding:.6em 1em;max-width:1100px}
.note{background:#f7f7f7;border-left:4px solid #999;padding:.6em 1em}
figcaption{color:#444;font-size:.92em;margin-top:.3em} footer{color:#777;font-size:.85em;margin:3em 0 1em}
"""
CSS_PX_PER_INCH = 96  # a figure is shown at its own size (10 pt text stays 13 px) or, on a narrower window, shrunk
# to fit it (max-width:100%), so no legend is ever pushed off-screen
MONEY = ("npv.meta", "npv.meta_reported", "npv.openai", "npv.anthropic", "npv.google")
OUTCOME_COLUMNS = {
    "npv.meta": "Meta NPV, strategic ($B)",
    "npv.meta_reported": "Meta reported AI P&L, NPV ($B)",
    "npv.openai": "OpenAI NPV ($B)",
    "npv.anthropic": "Anthropic NPV ($B)",
    "npv.google": "Google NPV ($B)",
    "llama_token_share_m24": "Llama token share, month 24",
    "final_adopted_frac": "Developers adopted, final",
    "final_commoditization": "Commoditization, final",
}


def markdown_table(df: pd.DataFrame) -> str:
    """A plain Markdown table of ``df`` (pandas' to_markdown needs tabulate, which this package does not depend on):
    floats to four significant figures, a "|" inside a cell written "/" so it cannot split the row."""
    lines = ["| " + " | ".join(map(str, df.columns)) + " |", "|" + "---|" * len(df.columns)]
    for row in df.itertuples(index=False):
        cells = [(f"{v:,.4g}" if isinstance(v, float) else str(v)).replace("|", "/") for v in row]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def figure_png(fig: Figure, dpi: int = 110) -> tuple[str, int, int]:
    """The figure as base64 PNG and its display size in CSS pixels (its size in inches at 96 px per inch)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight")
    data = buf.getvalue()
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")  # the IHDR chunk
    scale = CSS_PX_PER_INCH / dpi
    return base64.b64encode(data).decode("ascii"), round(width * scale), round(height * scale)


def figure_png_base64(fig: Figure, dpi: int = 110) -> str:
    """Just the base64 PNG of :func:`figure_png`, for embedding where the size is not needed."""
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
    cat = catalog_from_columns(summary.columns)
    headers = {o: cat.OPTION_LABELS[o] for o in cat.OPTIONS
               if f"final_share_tokens.{o}" in summary and summary[f"final_share_tokens.{o}"].max() > 0}
    return strategy_table(summary, headers, lambda sub, o: f"{100 * sub[f'final_share_tokens.{o}'].mean():.1f}%",
                          "shares")


def paired_lines(summary: pd.DataFrame) -> list[str]:
    """Sentences on Meta's choice: NPV(open) minus NPV(closed or absent), paired on replicate (same seeds).

    A verdict needs a confidence interval: with fewer than :data:`MIN_CI_REPLICATES` pairs the sentence gives
    the difference and says it is untested; with more, it says whether the interval excludes zero."""
    out = []
    for metric, lens in (("npv.meta", "Meta NPV (strategic, every channel)"),
                         ("npv.meta_reported", "Meta's reported AI P&L (what an investor sees)")):
        if metric in summary:
            out += _paired_sentences(summary, metric, lens)
    return out


def _paired_sentences(summary: pd.DataFrame, metric: str, lens: str) -> list[str]:
    out = []
    for base, other, diff in paired_by_replicate(summary, metric, COMPARISONS):
        diff = diff / 1e9
        m, lo, hi = mean_ci(diff)
        head = f"{STRATEGY_LABELS[base]} versus {STRATEGY_LABELS[other]}: {lens} {m:+,.2f} $B"
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


DIFFERENCE_COLUMNS = {"npv.meta": "Meta NPV, strategic ($B)", "npv.meta_reported": "Meta reported AI P&L, NPV ($B)"}


def _channel_words(names) -> str:
    """Ledger channel labels as a running list in lower case ("attention lost to AI products, Meta AI revenue...")."""
    def lower(label: str) -> str:
        first = label.split(" ", 1)[0]
        return label if first.isupper() or first in ("Meta", "Meta's") else label[:1].lower() + label[1:]
    return ", ".join(lower(CHANNEL_LABELS[n]) for n in names)


def meta_value_note() -> str:
    """The one plain statement of what ``npv.meta`` is, for beside every table that shows Meta's NPV."""
    return ('<p class="note"><b>What Meta\'s NPV measures.</b> <code>npv.meta</code> sums only the AI-related channels '
            f"of Meta's ledger ({html.escape(_channel_words(STRATEGIC))}), discounted. It is not Meta's enterprise "
            "value: Meta's advertising business as a whole is not in it, only what its AI strategy moves. Its level, "
            "often negative under every strategy, means little on its own; only differences between strategies are "
            "meaningful. <code>npv.meta_reported</code> is the same for the lines an investor sees in the AI P&amp;L."
            "</p>")


def strategy_differences(summary: pd.DataFrame, metric: str) -> list[tuple[str, str, np.ndarray]]:
    """``metric`` under one strategy minus another, paired on replicate (same seeds), for every pair of
    :data:`sim.strategies.PAIRS` that was run: open − closed, open − absent, closed − absent (in $)."""
    return [(a, b, diff.to_numpy(float)) for a, b, diff in paired_by_replicate(summary, metric, PAIRS)]


def differences_table(summary: pd.DataFrame, with_ci: bool = True) -> str:
    """Meta's value as differences between strategies: a row per pair run (open − closed, open − absent, closed −
    absent), the paired mean of each lens with its 95% CI (only with ``with_ci`` and at least
    :data:`MIN_CI_REPLICATES` pairs) and how many replicates the first strategy is ahead in; '' with one strategy."""
    metrics = [m for m in DIFFERENCE_COLUMNS if m in summary]
    per_metric = {m: strategy_differences(summary, m) for m in metrics}
    if not metrics or not per_metric[metrics[0]]:
        return ""
    head = "".join(f"<th>{html.escape(DIFFERENCE_COLUMNS[m])}</th>" for m in metrics)
    body = []
    for k, (a, b, first) in enumerate(per_metric[metrics[0]]):
        ci = with_ci and len(first) >= MIN_CI_REPLICATES
        cells = "".join(f"<td>{_cell(per_metric[m][k][2], True, ci)}</td>" for m in metrics)
        body.append(f"<tr><td>{html.escape(f'{a} − {b}')}</td>{cells}"
                    f"<td>{int((first > 0).sum())} of {len(first)}</td></tr>")
    ahead = f"Replicates where the first is ahead ({html.escape(DIFFERENCE_COLUMNS[metrics[0]].split(' (')[0])})"
    return (f'<table class="differences"><thead><tr><th>Paired difference (same seeds)</th>{head}'
            f"<th>{ahead}</th></tr></thead><tbody>{''.join(body)}</tbody></table>")


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
    return (f'<div class="caution">Only {n} replicate{"s" if n != 1 else ""}: these are {what}, with no '
            f"confidence interval (at least {MIN_CI_REPLICATES} replicates are needed); differences between "
            "strategies may be the model's randomness. Re-run with <code>--replications 3</code> or more.</div> "
            "NPVs are discounted monthly profits in US$ billion for the whole market the population stands for.")


def run_report_html(run: RunResults, dpi: int = 110) -> str:
    """The HTML report of a ``sim run``: scenario, verdicts, key numbers with CIs and every figure."""
    n = int(run.summary["replicate"].nunique())
    captions = run_captions(n)
    figures = {kind: (draw(run), captions[kind]) for kind, draw in RUN_FIGURES.items()}
    description = str(run.scenario.get("description") or "(no description)")
    verdicts = "".join(f"<li>{html.escape(line)}</li>" for line in paired_lines(run.summary))
    lead = f'<div class="lead"><ul>{verdicts}</ul></div>' if verdicts else ""
    differences = differences_table(run.summary, with_ci=n >= MIN_CI_REPLICATES)
    if differences:
        differences = f"<h3>Meta's value: differences between strategies</h3>\n{meta_value_note()}\n{differences}"
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
<div>{replicates_note(n)}</div>
{differences or meta_value_note()}
<h3>Outcomes by strategy</h3>
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
    """The HTML report of a sweep folder: where open pays (or pooled key numbers) and its figures."""
    from sim.figures.sweep import SWEEP_KINDS, SweepResults, sweep_caption, sweep_figures

    sweep = SweepResults.read(folder)
    figs = sweep_figures(sweep, list(SWEEP_KINDS))
    figures = {name: (fig, sweep_caption(name, sweep.results)) for name, fig in figs.items()}
    design, seed = design_and_seed(folder)
    params = [c.removeprefix("param.") for c in sweep.results.columns if c.startswith("param.")]
    experiments = ", ".join(dict.fromkeys(sweep.results["experiment"].astype(str)))
    where_open_pays = where_open_pays_html(folder, dpi)  # replaces the pooled table when the sweep allows it
    key_numbers = where_open_pays or f"""<h2>Key numbers</h2>
<p>Mean and 95% confidence interval across all runs of each strategy (over the whole design).</p>
{outcomes_table(sweep.results)}"""
    differences = sweep_differences_html(sweep.results, seed, design) if "point" in sweep.results else ""
    body = f"""
<h1>Sweep {html.escape(experiments)} — LLM market simulation</h1>
<p class="meta">{len(sweep.results):,} runs · {sweep.results['point'].nunique()} design points ·
parameters: {html.escape(', '.join(params))}</p>
{differences}
{key_numbers}
<h2>Figures</h2>
{figures_html(figures, dpi)}"""
    return page(f"Sweep {experiments} — LLM market simulation report", body, noise_note(MIN_CI_REPLICATES))


# --- a sweep: where open pays (sim discover) ------------------------------------------------------------------------


def discovery_settings(folder: Path):
    """The settings of the last ``sim discover`` into ``folder/discovery`` (so the report shows the same analysis),
    else npv.meta, open against closed (or against absent when closed was not run)."""
    import json

    from sim.experiments.discovery import Settings

    stored = folder / "discovery" / "discovery.json"
    if stored.is_file():
        try:
            return Settings(**json.loads(stored.read_text(encoding="utf-8"))["settings"])
        except (OSError, ValueError, KeyError, TypeError):
            pass  # a damaged record: fall back to the defaults rather than fail the report
    strategies = set(pd.read_parquet(folder / "results.parquet", columns=["strategy"])["strategy"])
    a, b = (comparisons_in(strategies) or [COMPARISONS[-1]])[0]
    return Settings(comparison=f"{a}-{b}")


def design_and_seed(folder: Path) -> tuple[str, int]:
    """The design method and the experiment seed a sweep folder records ("unknown" and 0 for a bare results table)."""
    import json

    try:
        spec = json.loads((folder / "experiment.json").read_text(encoding="utf-8"))["experiment"]
        return str(spec["design"]["method"]), int(spec["seed"])
    except (OSError, ValueError, KeyError, TypeError):
        return "unknown", 0


def point_differences(results: pd.DataFrame, metric: str, seed: int, n_boot: int = 1000) -> pd.DataFrame:
    """Per design point and pair of strategies run (open − closed, open − absent, closed − absent): ``metric``'s
    paired mean difference with a seeded bootstrap 95% CI over replicates (the columns of
    :func:`sim.experiments.analysis.paired_deltas`, whose numbers these are for the first two pairs)."""
    from sim.experiments.analysis import BOOTSTRAP_STREAM, bootstrap_mean_ci, paired_deltas, paired_differences
    from sim.runner import derive_seed

    frames = [paired_deltas(results, [metric], seed, n_boot=n_boot)]
    present = set(results["strategy"])
    for number, (a, b) in enumerate(PAIRS):
        if (a, b) in COMPARISONS or a not in present or b not in present:
            continue
        rows = []
        for point, group in paired_differences(results, a, b, [metric]).groupby("point", sort=True):
            rng = np.random.default_rng(derive_seed(seed, BOOTSTRAP_STREAM, int(point), number))
            mean, lo, hi = bootstrap_mean_ci(group[[metric]].to_numpy(float), rng, n_boot, 0.95)
            rows.append({"point": int(point), "metric": metric, "comparison": f"{a}-{b}", "mean": mean[0],
                         "ci_lo": lo[0], "ci_hi": hi[0], "n": len(group)})
        frames.append(pd.DataFrame(rows))
    frames = [f for f in frames if not f.empty]
    columns = ["point", "metric", "comparison", "mean", "ci_lo", "ci_hi", "n"]
    return pd.concat([f[columns] for f in frames], ignore_index=True) if frames else pd.DataFrame(columns=columns)


def _difference_cell(row, money: bool) -> str:
    """A paired difference with its 95% CI when it rests on at least :data:`MIN_CI_REPLICATES` replicates."""
    ci = f' <span class="ci">[{_fmt(row["ci_lo"], money)}, {_fmt(row["ci_hi"], money)}]</span>' \
        if row["n"] >= MIN_CI_REPLICATES and row["ci_hi"] > row["ci_lo"] else ""
    return f"{_fmt(row['mean'], money)}{ci}"


def verdict_table(results: pd.DataFrame, settings) -> tuple[str, str]:
    """Per design point: the paired mean difference of every pair of strategies run (with its bootstrap 95% CI from
    :data:`MIN_CI_REPLICATES` replicates) and a verdict on the compared one (its first strategy pays, loses, or
    unclear when the CI straddles the threshold); the HTML table and a one-line count."""
    long = point_differences(results, settings.metric, settings.seed or 0)
    wide = {c: rows.set_index("point") for c, rows in long.groupby("comparison", sort=False)}
    judged = wide[settings.comparison]
    first = settings.strategies[0]
    params = [c for c in results.columns if c.startswith("param.") and results[c].nunique() > 1]
    values = results.drop_duplicates("point").set_index("point")
    money = settings.metric in MONEY or settings.metric.startswith("npv.")
    t, sign = settings.threshold, 1 if settings.where == "above" else -1
    verdicts = pd.Series(np.where(sign * (judged["ci_lo" if sign > 0 else "ci_hi"] - t) > 0, f"{first} pays",
                                  np.where(sign * (judged["ci_hi" if sign > 0 else "ci_lo"] - t) < 0,
                                           f"{first} loses", "unclear")), index=judged.index)
    unit = " ($B)" if money else ""
    head = "".join(f"<th>{html.escape(p.removeprefix('param.'))}</th>" for p in params) + "".join(
        f"<th>{html.escape(settings.metric)} {html.escape(c.replace('-', ' − '))}{unit}</th>" for c in wide)
    rows = []
    for point, verdict in verdicts.items():
        cells = "".join(f"<td>{values.at[point, p]:.3g}</td>" for p in params)
        cells += "".join(f"<td>{_difference_cell(w.loc[point], money) if point in w.index else '–'}</td>"
                         for w in wide.values())
        rows.append(f"<tr><td>{int(point)}</td>{cells}<td>{verdict}</td></tr>")
    table = (f'<table class="verdicts"><thead><tr><th>point</th>{head}<th>verdict on '
             f"{html.escape(settings.comparison.replace('-', ' − '))}</th></tr></thead>"
             f"<tbody>{''.join(rows)}</tbody></table>")
    counts = verdicts.value_counts()
    n_rep = int(judged["n"].max()) if len(judged) else 0
    line = (f"{len(judged)} design points, {n_rep} paired replicate(s) each: " +
            ", ".join(f"{counts.get(k, 0)} {k}" for k in (f"{first} pays", f"{first} loses", "unclear")) +
            (" (one replicate: no interval, the verdict is the sign of the difference)" if n_rep < 2 else
             f" (intervals shown from {MIN_CI_REPLICATES} replicates on)" if n_rep < MIN_CI_REPLICATES else ""))
    return table, line


def design_differences(results: pd.DataFrame, metric: str, seed: int, design: str,
                       n_boot: int = 2000) -> pd.DataFrame:
    """Per pair of strategies run (open − closed, open − absent, closed − absent): ``metric``'s paired mean
    difference over every design point and replicate with a seeded bootstrap 95% CI (as ``sim analyze`` prints it,
    with its default 2,000 resamples),
    the number of paired runs, at how many points the first strategy is ahead, and the share of points where it is,
    with its CI and what that share means (a probability only for a sampled design)."""
    from sim.experiments.analysis import (
        BOOTSTRAP_STREAM,
        bootstrap_mean_ci,
        paired_differences,
        threshold_probability,
    )
    from sim.runner import derive_seed

    present = set(results["strategy"])
    rows = []
    for number, (a, b) in enumerate([(a, b) for a, b in PAIRS if a in present and b in present]):
        d = paired_differences(results, a, b, [metric])
        rng = np.random.default_rng(derive_seed(seed, BOOTSTRAP_STREAM, 1 << 20, number))
        mean, lo, hi = (float(v[0]) for v in bootstrap_mean_ci(d[[metric]].to_numpy(float), rng, n_boot, 0.95))
        share = threshold_probability(results, metric, a, b, 0.0, "above", design, seed, n_boot).iloc[0]
        by_point = d.groupby("point")[metric].mean()
        rows.append({"a": a, "b": b, "mean": mean, "ci_lo": lo, "ci_hi": hi, "runs": len(d),
                     "ahead": int((by_point > 0).sum()), "points": len(by_point), "share": share["estimate"],
                     "share_lo": share["ci_lo"], "share_hi": share["ci_hi"], "meaning": share["meaning"]})
    return pd.DataFrame(rows)


def sweep_differences_html(results: pd.DataFrame, seed: int, design: str) -> str:
    """The sweep report's "Meta's value" section: each pair of strategies run, under each lens, as paired differences
    over the whole design ('' when the sweep ran a single strategy)."""
    lenses = [m for m in DIFFERENCE_COLUMNS if m in results]
    tables = {m: design_differences(results, m, seed, design) for m in lenses}
    if not lenses or tables[lenses[0]].empty:
        return ""
    head = "".join(f"<th>{html.escape(DIFFERENCE_COLUMNS[m])}: mean over the design</th>" for m in lenses)
    body = []
    for k, row in tables[lenses[0]].iterrows():
        cells = "".join(f"<td>{_difference_cell(tables[m].loc[k].rename({'runs': 'n'}), True)}</td>" for m in lenses)
        what = "" if row["meaning"] == "probability" else f" ({html.escape(row['meaning'])})"
        body.append(f"<tr><td>{html.escape(row['a'])} − {html.escape(row['b'])}</td>{cells}"
                    f"<td>{100 * row['share']:.0f}% <span class=\"ci\">[{100 * row['share_lo']:.0f}, "
                    f"{100 * row['share_hi']:.0f}]</span>{what}</td><td>{row['ahead']} of {row['points']}</td></tr>")
    return f"""<h2>Meta's value: differences between strategies</h2>
{meta_value_note()}
<p>Each difference is paired on design point and replicate (the two runs share a seed), then averaged over the whole
design, with a bootstrap 95% confidence interval in brackets. The share of points where the first strategy is ahead
is a probability under the sampled distributions only for a sampled design (LHS, Sobol').</p>
<table class="differences"><thead><tr><th>Paired difference</th>{head}
<th>{html.escape(DIFFERENCE_COLUMNS[lenses[0]].split(' (')[0])}: share of points where the first is ahead</th>
<th>points where the first is ahead</th></tr></thead><tbody>{''.join(body)}</tbody></table>"""


def boxes_html(boxes: pd.DataFrame) -> str:
    """boxes.csv as a table: a row per box and restricted parameter, with its limits and quasi-p-values."""
    if boxes.empty:
        return "<p>No box was found.</p>"

    def num(v) -> str:
        return "–" if not np.isfinite(v) else f"{v:.3g}"

    rows = "".join(
        f"<tr><td>{int(r['box'])} ({html.escape(r['method'].upper())})</td><td>{r['coverage']:.2f}</td>"
        f"<td>{r['density']:.2f}</td><td>{r['mass']:.2f}</td><td>{html.escape(r['parameter'])}</td>"
        f"<td>{num(r['lower'])}</td><td>{num(r['upper'])}</td><td>{num(r['qp_lower'])}</td><td>{num(r['qp_upper'])}</td>"
        f"<td>{num(r['reproduce_coverage'])}</td></tr>" for _, r in boxes.iterrows())
    return ('<table class="boxes"><thead><tr><th>box</th><th>coverage</th><th>density</th><th>mass</th>'
            "<th>parameter</th><th>lower</th><th>upper</th><th>q-p lower</th><th>q-p upper</th><th>stability</th>"
            f"</tr></thead><tbody>{rows}</tbody></table>")


def where_open_pays_html(folder: Path, dpi: int = 110) -> str:
    """The "Where open pays" section of a sweep report ('' when the sweep has no open runs to compare): the
    probability, the boxes, the three discovery figures and the paired verdict per design point."""
    from dataclasses import replace

    from sim.experiments.discovery import DiscoveryError, discover, summary_lines
    from sim.figures.sweep import discovery_captions, discovery_figures

    results = pd.read_parquet(folder / "results.parquet")
    settings = discovery_settings(folder)
    if not set(settings.strategies) <= set(results["strategy"]) or settings.metric not in results:
        return ""
    design, seed = design_and_seed(folder)  # is the share a probability? a bare results table is still reported
    if settings.seed is None:
        settings = replace(settings, seed=seed)
    table, count = verdict_table(results, settings)
    try:
        d = discover(results, settings, design)
    except DiscoveryError as exc:
        found = f"<p>No scenario discovery: {html.escape(str(exc))}.</p>"
    else:
        lead = "".join(f"<li>{html.escape(line)}</li>" for line in summary_lines(d))
        prob = d.probability.iloc[0]
        meaning = ("the probability under the sampled distributions" if prob["meaning"] == "probability"
                   else f"a {prob['meaning']}, not a probability")
        captions = discovery_captions(d)
        figures = {name: (fig, captions[name]) for name, fig in discovery_figures(d).items()}
        found = f"""<div class="lead"><ul>{lead}</ul></div>
<p>Share of design points where open pays: <b>{100 * prob['estimate']:.0f}%</b>
(95% CI {100 * prob['ci_lo']:.0f}–{100 * prob['ci_hi']:.0f}%, a bootstrap over points and replicates, no narrower than
Wilson's); this is {meaning}.</p>
<h3>Boxes ({html.escape(settings.method.upper())}) where open {'pays' if d.box_of else 'does not pay'}</h3>
<p>Coverage: the share of those points that the box holds; density: the share of the box that are such points;
q-p: quasi-p-value of each limit (small is significant); stability: the share of PRIM reruns on random halves
that restrict the parameter too.</p>
{boxes_html(d.boxes)}
{figures_html(figures, dpi)}"""
    return f"""<h2>Where open pays</h2>
<p>Each design point is judged by {html.escape(settings.metric)}, {html.escape(settings.comparison)}, paired on
replicates that share a seed, against {settings.threshold:g} ({html.escape(settings.where)} counts as open paying).</p>
{found}
<details><summary>Paired verdict per design point — {html.escape(count)}</summary>
{table}
</details>"""


def page(title: str, body: str, note: str = "") -> str:
    """A standalone HTML page (inline CSS, no external assets) around ``body``, with a dated footer."""
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
