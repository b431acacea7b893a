"""Figures of a ``sim sweep`` folder: response curves, break-even heatmaps and sensitivity indices.

They read two tables only. ``results.parquet``: one row per run with ``experiment``, ``point`` (int), one
``param.<dotted path>`` column per swept parameter, ``strategy``, ``replicate``, ``seed`` and the metrics of
:func:`sim.runner.outcomes` (``npv.meta``, ``llama_token_share_m24``...). ``sensitivity.csv``: ``metric, parameter,
method, S1, S1_conf, ST, ST_conf, mu_star, mu_star_conf, sigma`` (SALib's Sobol and Morris indices).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.colors import BoundaryNorm, TwoSlopeNorm
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Rectangle
from matplotlib.ticker import FuncFormatter, MaxNLocator

from sim.errors import ConfigError
from sim.figures.run import PANEL_H, PANEL_W, legend_outside, mean_ci, param_label, parameters_caption
from sim.figures.style import STRATEGY_COLORS, STRATEGY_LABELS, STRATEGY_STYLES
from sim.strategies import COMPARISONS, comparisons_in

MAX_LEVELS = 12  # a parameter with more distinct values than this is binned for its response curve
N_BINS = 8
SENSITIVITY_COLUMNS = ["metric", "parameter", "method", "S1", "S1_conf", "ST", "ST_conf", "mu_star", "mu_star_conf",
                       "sigma"]


@dataclass
class SweepResults:
    """The tables a ``sim sweep`` folder holds (sensitivity only for Sobol/Morris designs)."""

    results: pd.DataFrame
    sensitivity: pd.DataFrame | None = None
    folder: Path | None = None

    @classmethod
    def read(cls, folder: str | Path) -> SweepResults:
        """Read a sweep folder's results (and sensitivity.csv if any); a missing or damaged table is one ConfigError."""
        folder = Path(folder)
        try:
            results = pd.read_parquet(folder / "results.parquet")
        except FileNotFoundError:
            raise ConfigError(folder, "results.parquet", "not found; is this a `sim sweep` output folder?") from None
        except Exception as exc:
            raise ConfigError(folder / "results.parquet", "", f"cannot be read: {exc}") from None
        missing = {"experiment", "point", "strategy", "replicate"} - set(results.columns)
        if missing:
            raise ConfigError(folder / "results.parquet", ",".join(sorted(missing)), "missing column(s)")
        sens = None
        if (folder / "sensitivity.csv").is_file():
            try:
                sens = pd.read_csv(folder / "sensitivity.csv")
            except Exception as exc:  # an empty or damaged table
                raise ConfigError(folder / "sensitivity.csv", "", f"cannot be read: {exc}") from None
            lacking = {"metric", "parameter", "method"} - set(sens.columns)
            if lacking:
                raise ConfigError(folder / "sensitivity.csv", ",".join(sorted(lacking)), "missing column(s)")
        return cls(results, sens, folder)


def scale_of(metric: str) -> tuple[float, str]:
    """Money metrics are shown in $ billion; shares and indices as they are."""
    if metric.startswith(("npv.", "revenue_total.")):
        return 1e-9, f"{metric} ($ billion)"
    return 1.0, metric


def swept_parameters(results: pd.DataFrame) -> list[str]:
    """``param.*`` columns that take more than one value (in the order they appear)."""
    return [c for c in results.columns if c.startswith("param.") and results[c].nunique(dropna=True) > 1]


def paired_delta(results: pd.DataFrame, metric: str, a: str = "open", b: str = "closed") -> pd.DataFrame:
    """``metric`` under strategy ``a`` minus under ``b``, paired on (experiment, point, replicate): both runs share
    the seed, so the difference is the effect of the strategy, not noise. One row per pair, with the params."""
    keys = ["experiment", "point", "replicate"]
    params = [c for c in results.columns if c.startswith("param.")]
    left = results[results["strategy"] == a].set_index(keys)
    right = results[results["strategy"] == b].set_index(keys)
    common = left.index.intersection(right.index)
    out = left.loc[common, params].copy()
    out["delta"] = left.loc[common, metric] - right.loc[common, metric]
    return out.reset_index()


def _levels(values: pd.Series) -> pd.Series:
    """The x of each run: the parameter value itself, or the mean of its quantile bin when it takes many values."""
    if values.nunique() <= MAX_LEVELS:
        return values
    bins = pd.qcut(values, N_BINS, duplicates="drop")
    return values.groupby(bins, observed=True).transform("mean")


def response_figure(results: pd.DataFrame, metric: str = "npv.meta", params: list[str] | None = None) -> Figure:
    """One panel per swept parameter: ``metric`` against the parameter, one line per Meta strategy, mean and 95% CI
    across replicates (and across the other parameters' values when several are swept)."""
    params = params or swept_parameters(results)
    if not params:
        raise ValueError("no swept parameter (no param.* column takes more than one value)")
    if metric not in results:
        raise KeyError(metric)
    scale, ylabel = scale_of(metric)
    n = len(params)
    cols = min(n, 3)
    rows = -(-n // cols)
    fig = Figure(figsize=(PANEL_W * cols + 0.8, PANEL_H * rows + 1.2), layout="constrained")
    fig.get_layout_engine().set(wspace=0.06)  # room between panels: one's last tick never meets the next one's first
    axes = fig.subplots(rows, cols, squeeze=False, sharey=True)
    for ax, param in zip(np.ravel(axes), params, strict=False):
        x = _levels(results[param])
        for strategy in dict.fromkeys(results["strategy"]):
            mask = results["strategy"] == strategy
            table = pd.DataFrame({"x": x[mask], "y": results.loc[mask, metric] * scale})
            rows_ = [(xv, *mean_ci(g["y"])) for xv, g in table.groupby("x", sort=True)]
            xs, m, lo, hi = (np.array(v, dtype=float) for v in zip(*rows_, strict=True))
            ax.plot(xs, m, marker="o", ms=3.5, color=STRATEGY_COLORS.get(strategy, "0.5"),
                    ls=STRATEGY_STYLES.get(strategy, "-"), label=STRATEGY_LABELS.get(strategy, strategy))
            ax.fill_between(xs, lo, hi, color=STRATEGY_COLORS.get(strategy, "0.5"), alpha=0.18, lw=0)
        ax.set_xlabel(param_label(param))
        ax.xaxis.set_major_locator(MaxNLocator(5))
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: tick_text(v)))  # 700M, not an offset "1e9"
        ax.grid(alpha=0.3)
    for ax in np.ravel(axes)[n:]:
        ax.set_visible(False)
    for row in axes:
        row[0].set_ylabel(ylabel)
    legend_outside(fig, axes, "Meta's strategy", below=True)
    fig.suptitle(f"Response of {metric} — experiment {results['experiment'].iloc[0]}; mean and 95% CI")
    return fig


def tick_text(value: float) -> str:
    """A design value as a short tick label: 700000000 -> 700M, 0.25 -> 0.25."""
    v = float(value)
    for size, suffix in ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e4, "k")):
        if abs(v) >= size:
            return f"{v / size:.3g}{suffix}" if suffix != "k" else f"{v / 1e3:.3g}k"
    return f"{v:.3g}"


def _design_ticks(axis, values: np.ndarray, max_ticks: int = 8) -> None:
    """Ticks at the design values of a grid drawn in cell-index space (every k-th when there are many)."""
    every = max(1, -(-len(values) // max_ticks))
    idx = np.arange(0, len(values), every)
    axis.set_ticks(idx, [tick_text(values[i]) for i in idx])


def diverging_norm(values: np.ndarray) -> TwoSlopeNorm:
    """A colour scale centred on zero with symmetric limits, so white means break-even and equal distances from
    zero get equally strong colours whichever side wins (never centred on the data's middle)."""
    finite = np.abs(values[np.isfinite(values)])
    vmax = float(finite.max()) if finite.size and finite.max() > 0 else 1.0
    return TwoSlopeNorm(0.0, -vmax, vmax)


def breakeven_figure(results: pd.DataFrame, x: str, y: str, metric: str = "npv.meta", a: str = "open",
                     b: str = "closed") -> Figure:
    """Heatmap over two swept parameters of the mean paired difference ``metric``(a) − ``metric``(b), with the
    break-even contour where it is zero (where giving the weights away stops, or starts, paying).

    A full grid is drawn cell by cell with ticks at the design values (no axis running past the design); the
    colour scale is centred on zero; the contour and its legend appear only where the sign changes."""
    delta = paired_delta(results, metric, a, b)
    if delta.empty:
        raise ValueError(f"no paired runs of strategies {a!r} and {b!r}")
    scale, _ = scale_of(metric)
    cell = delta.groupby([y, x], sort=True)["delta"].mean() * scale
    grid = cell.unstack(x)
    fig = Figure(figsize=(PANEL_W + 2.6, PANEL_H + 1.2), layout="constrained")
    ax = fig.subplots()
    values = grid.to_numpy(dtype=float)
    norm = diverging_norm(values)
    finite = values[np.isfinite(values)]
    changes_sign = finite.size > 0 and finite.min() < 0 < finite.max()
    contour = None
    if np.isfinite(values).all():
        xi, yi = np.arange(values.shape[1]), np.arange(values.shape[0])
        mesh = ax.pcolormesh(xi, yi, values, cmap="PuOr", norm=norm, shading="nearest")
        _design_ticks(ax.xaxis, grid.columns.to_numpy(float))
        _design_ticks(ax.yaxis, grid.index.to_numpy(float))
        ax.set_xlim(-0.5, values.shape[1] - 0.5)
        ax.set_ylim(-0.5, values.shape[0] - 0.5)
        if changes_sign and min(values.shape) >= 2:
            contour = ax.contour(xi, yi, values, levels=[0.0], colors="black", linewidths=1.8)
            ax.clabel(contour, fmt={0.0: "break-even"}, fontsize=8)
    else:  # a scattered design (LHS, Sobol): triangulate the points
        pts = cell.reset_index()
        levels = np.linspace(norm.vmin, norm.vmax, 13)
        mesh = ax.tricontourf(pts[x], pts[y], pts["delta"], levels=levels, cmap="PuOr", norm=norm)
        if changes_sign:
            contour = ax.tricontour(pts[x], pts[y], pts["delta"], levels=[0.0], colors="black", linewidths=1.8)
        ax.plot(pts[x], pts[y], "k.", ms=2, alpha=0.4)
        ax.set_xlim(pts[x].min(), pts[x].max())
        ax.set_ylim(pts[y].min(), pts[y].max())
    fig.colorbar(mesh, ax=ax, label=f"{metric}: {a} − {b}" + (" ($ billion)" if scale != 1 else "")
                 + "\n(white: break-even)")
    ax.set_xlabel(param_label(x))
    ax.set_ylabel(param_label(y))
    if contour is not None and any(len(seg) for seg in contour.allsegs[0]):
        key = Line2D([], [], color="black", lw=1.8, label="break-even (difference = 0)")
        ax.legend(handles=[key], loc="upper left", bbox_to_anchor=(0, -0.18), frameon=False)
    n = delta["replicate"].nunique()
    side = "" if changes_sign or not finite.size else \
        f"; no break-even: {a if finite.min() >= 0 else b} ahead everywhere"
    fig.suptitle(f"Meta's choice: {metric}, {STRATEGY_LABELS.get(a, a)} − {STRATEGY_LABELS.get(b, b)}\n"
                 f"experiment {results['experiment'].iloc[0]}; mean of {n} paired replicate(s) per point{side}")
    return fig


def spend_share_figure(shares: pd.DataFrame, swept: tuple[float, float] | None = None) -> Figure:
    """The break-even spend share f* over the design points, one histogram per building strategy against staying
    out: where a point's f* is above the AI share of R&D and capex it assumed, building pays there. The swept range of
    that share is shaded."""
    fig = Figure(figsize=(PANEL_W * 1.6, PANEL_H), layout="constrained")
    ax = fig.add_subplot()
    values = shares["breakeven_spend_share"].to_numpy(float)
    finite = values[np.isfinite(values)]
    lo, hi = (float(np.quantile(finite, 0.01)), float(np.quantile(finite, 0.99))) if finite.size else (0.0, 1.0)
    if swept is not None:
        ax.axvspan(*swept, color="0.9", zorder=0, label="swept AI share of R&D and capex")
        lo, hi = min(lo, swept[0]), max(hi, swept[1])
    bins = np.linspace(lo, hi if hi > lo else lo + 1e-3, 40)
    for builder, rows in shares.groupby("builder", sort=False):
        f = rows["breakeven_spend_share"].to_numpy(float)
        f = f[np.isfinite(f)]
        beyond = int(((f < bins[0]) | (f > bins[-1])).sum())  # a few extreme worlds would squeeze the rest
        note = f" ({beyond} beyond the axis)" if beyond else ""
        ax.hist(np.clip(f, bins[0], bins[-1]), bins=bins, alpha=0.6, color=STRATEGY_COLORS.get(builder),
                label=f"{STRATEGY_LABELS.get(builder, builder)} vs staying out{note}")
    ax.axvline(0.0, color="0.3", lw=0.8)
    ax.set_xlabel("break-even AI share of R&D and capex, f*")
    ax.set_ylabel("design points")
    legend_outside(fig, [ax])
    return fig


def sensitivity_figure(sens: pd.DataFrame, method: str) -> Figure:
    """Bar charts of sensitivity indices, one panel per metric: Sobol first-order S1 and total ST with confidence
    intervals, or Morris mu* (with its interval) and sigma."""
    sub = sens[sens["method"].str.lower() == method.lower()]
    if sub.empty:
        raise ValueError(f"no {method} indices")
    metrics = list(dict.fromkeys(sub["metric"]))
    bars = (("S1", "S1_conf", "first order S1", "#0072B2"), ("ST", "ST_conf", "total ST", "#E69F00")) \
        if method.lower() == "sobol" else \
        (("mu_star", "mu_star_conf", "mu* (mean |effect|)", "#0072B2"), ("sigma", None, "sigma (interactions)",
                                                                          "#999999"))
    n_par = sub["parameter"].nunique()
    fig = Figure(figsize=(PANEL_W * len(metrics) + 3.0, max(PANEL_H, 0.45 * n_par + 1.6)), layout="constrained")
    axes = fig.subplots(1, len(metrics), squeeze=False, sharey=True)
    params = list(dict.fromkeys(sub["parameter"]))
    ypos = np.arange(len(params))
    for ax, metric in zip(axes[0], metrics, strict=True):
        table = sub[sub["metric"] == metric].set_index("parameter").reindex(params)
        for k, (col, conf, label, color) in enumerate(bars):
            if col not in table:
                continue
            err = table[conf].to_numpy(float) if conf and conf in table else None
            ax.barh(ypos + (k - 0.5) * 0.38, table[col].to_numpy(float), height=0.36, color=color, label=label,
                    xerr=err, error_kw={"ecolor": "0.25", "capsize": 2, "lw": 0.8})
        ax.set_title(metric)
        ax.axvline(0, color="0.3", lw=0.8)
        ax.grid(alpha=0.3, axis="x")
        ax.set_xlabel("Sobol index (share of variance)" if method.lower() == "sobol" else
                      "Morris elementary effect (metric units)")
    axes[0][0].set_yticks(ypos, [param_label(p) for p in params])
    axes[0][0].invert_yaxis()
    legend_outside(fig, axes, "Index (95% CI)")
    fig.suptitle(f"{method.capitalize()} sensitivity indices by parameter")
    return fig


def breakeven_name(a: str, b: str) -> str:
    """The name of the break-even figure of ``a`` − ``b``: ``breakeven`` for open − closed (the first comparison),
    ``breakeven_open_absent`` for the others."""
    return "breakeven" if (a, b) == COMPARISONS[0] else f"breakeven_{a}_{b}"


def sweep_figures(sweep: SweepResults, kinds: list[str], metric: str = "npv.meta") -> dict[str, Figure]:
    """The figures of ``kinds`` for each experiment in the folder, named ``kind`` (or ``kind-experiment`` when
    the folder holds several experiments, ``sensitivity-<method>`` for indices)."""
    out: dict[str, Figure] = {}
    experiments = list(dict.fromkeys(sweep.results["experiment"]))
    for exp in experiments:
        df = sweep.results[sweep.results["experiment"] == exp]
        suffix = f"-{exp}" if len(experiments) > 1 else ""
        params = swept_parameters(df)
        if "response" in kinds and params and metric in df:
            out[f"response{suffix}"] = response_figure(df, metric, params)
        if "breakeven" in kinds and len(params) == 2 and metric in df:
            for a, b in comparisons_in(set(df["strategy"])):  # open − closed, and open − absent where run
                out[f"{breakeven_name(a, b)}{suffix}"] = breakeven_figure(df, params[0], params[1], metric, a, b)
    if "spendshare" in kinds and sweep.folder is not None and (sweep.folder / "scenario.yaml").is_file():
        from sim.breakeven import sweep_breakeven
        from sim.loading import load_scenario

        shares = sweep_breakeven(sweep.results, load_scenario(sweep.folder / "scenario.yaml"))
        if not shares.empty:
            swept = [c for c in ("param.meta.spend.rd_share", "param.meta.spend.capex_share") if c in sweep.results]
            span = (float(sweep.results[swept].min().min()), float(sweep.results[swept].max().max())) if swept else None
            out["spendshare"] = spend_share_figure(shares, span)
    if "sensitivity" in kinds and sweep.sensitivity is not None and not sweep.sensitivity.empty:
        for method in dict.fromkeys(sweep.sensitivity["method"].str.lower()):
            out[f"sensitivity-{method}"] = sensitivity_figure(sweep.sensitivity, method)
    return out


# --- scenario discovery (sim discover) -------------------------------------------------------------------------------
# They draw the tables of :mod:`sim.experiments.discovery`: the PRIM trajectory (coverage, density, res_dim, chosen),
# boxes.csv's limits (box, parameter, lower, upper, qp_lower, qp_upper, range_low, range_high) and the labelled points.


def _label_colors(box_of: bool, other: str) -> tuple[str, str, str, str]:
    """Colours and names of the two labels: open's colour where open pays, the rival strategy's where it does not."""
    pays, fails = STRATEGY_COLORS["open"], STRATEGY_COLORS.get(other, "0.5")
    return pays, fails, "open pays", f"{other} does better"


def tradeoff_figure(trajectory: pd.DataFrame, box_of: bool = False, method: str = "prim") -> Figure:
    """PRIM's peeling and pasting trajectory: coverage against density of every candidate box, coloured by how many
    parameters it restricts; the chosen box is ringed."""
    fig = Figure(figsize=(PANEL_W + 2.4, PANEL_H + 0.8), layout="constrained")
    ax = fig.subplots()
    res = trajectory["res_dim"].to_numpy(int)
    levels = np.arange(res.min(), res.max() + 2) - 0.5
    points = ax.scatter(trajectory["coverage"], trajectory["density"], c=res, cmap="viridis", s=22, zorder=3,
                        norm=BoundaryNorm(levels, 256))
    ax.plot(trajectory["coverage"], trajectory["density"], color="0.7", lw=0.8, zorder=2)
    chosen = trajectory[trajectory["chosen"]]
    ax.scatter(chosen["coverage"], chosen["density"], s=160, facecolors="none", edgecolors="black", lw=1.8,
               zorder=4, label=f"chosen box (coverage {chosen['coverage'].iloc[0]:.2f}, density "
                               f"{chosen['density'].iloc[0]:.2f})")
    fig.colorbar(points, ax=ax, label="restricted parameters", ticks=np.arange(res.min(), res.max() + 1))
    ax.set_xlabel("coverage (share of the cases that the box holds)")
    ax.set_ylabel("density (share of the box that are cases)")
    ax.set_xlim(0, 1.03)
    ax.set_ylim(0, 1.03)
    ax.grid(alpha=0.3)
    ax.legend(loc="upper left", bbox_to_anchor=(0, -0.16), frameon=False)
    what = "open pays" if box_of else "open does not pay"
    fig.suptitle(f"Where {what}: {method.upper()} coverage–density trade-off")
    return fig


def box_figure(boxes: pd.DataFrame, box: int = 1, box_of: bool = False, other: str = "closed") -> Figure:
    """The limits of one box on each restricted parameter, scaled to the parameter's sampled range (0 = its
    smallest, 1 = its largest value), with the numbers and quasi-p-values written beside them."""
    sub = boxes[boxes["box"] == box].reset_index(drop=True)
    if sub.empty:
        raise ValueError(f"no box {box}")
    n = len(sub)
    fig = Figure(figsize=(PANEL_W + 3.6, max(PANEL_H * 0.7, 0.55 * n + 1.6)), layout="constrained")
    ax = fig.subplots()
    pays, fails, _, _ = _label_colors(box_of, other)
    color = pays if box_of else fails  # the colour of the label the box describes, as in the pairs figure
    for i, r in sub.iterrows():
        span = (r["range_high"] - r["range_low"]) or 1.0
        lo = 0.0 if not np.isfinite(r["lower"]) else (r["lower"] - r["range_low"]) / span
        hi = 1.0 if not np.isfinite(r["upper"]) else (r["upper"] - r["range_low"]) / span
        ax.plot([0, 1], [i, i], color="0.8", lw=6, solid_capstyle="butt")
        ax.plot([lo, hi], [i, i], color=color, lw=6, solid_capstyle="butt")
        qps = [f"{q:.2g}" for q in (r["qp_lower"], r["qp_upper"]) if np.isfinite(q)]
        lo_ok, hi_ok = np.isfinite(r["lower"]), np.isfinite(r["upper"])
        lim = f"{r['lower']:.3g} to {r['upper']:.3g}" if lo_ok and hi_ok else \
            (f"> {r['lower']:.3g}" if lo_ok else f"< {r['upper']:.3g}")
        ax.text(1.03, i, f"{lim}" + (f"  (qp {', '.join(qps)})" if qps else ""), va="center", fontsize=8)
    ax.set_yticks(range(n), [param_label(p) for p in sub["parameter"]])
    ax.set_ylim(n - 0.5, -0.5)
    ax.set_xlim(0, 1.6)
    ax.set_xticks([0, 0.25, 0.5, 0.75, 1.0])
    ax.set_xlabel("limit, scaled to the sampled range (grey: the whole range)")
    ax.grid(alpha=0.3, axis="x")
    first = sub.iloc[0]
    what = "open pays" if box_of else "open does not pay"
    fig.suptitle(f"Box {box} ({first['method'].upper()}) where {what}: coverage {first['coverage']:.2f}, "
                 f"density {first['density']:.2f}, mass {first['mass']:.2f}")
    return fig


def pairs_figure(x: pd.DataFrame, label: np.ndarray, boxes: pd.DataFrame, params: list[str], box_of: bool = False,
                 other: str = "closed", box: int = 1) -> Figure:
    """The design points over the two given parameters, coloured by label, with the box's limits drawn (a side
    the box leaves open runs to the edge of the sampled range)."""
    if len(params) < 2:
        raise ValueError("the pairs figure needs two parameters")
    px, py = params[:2]
    pays, fails, pays_name, fails_name = _label_colors(box_of, other)
    fig = Figure(figsize=(PANEL_W + 2.6, PANEL_H + 1.0), layout="constrained")
    ax = fig.subplots()
    label = np.asarray(label, bool)
    size = 10 if len(label) > 2000 else 18
    ax.scatter(x.loc[~label, px], x.loc[~label, py], s=size, color=fails, marker="x", lw=0.8, label=fails_name,
               alpha=0.7)
    ax.scatter(x.loc[label, px], x.loc[label, py], s=size, color=pays, marker="o", label=pays_name, alpha=0.7)
    sub = boxes[boxes["box"] == box].set_index("parameter")
    if not sub.empty:
        lims = []
        for p in (px, py):
            lo, hi = float(x[p].min()), float(x[p].max())
            if p in sub.index:
                lo = sub.at[p, "lower"] if np.isfinite(sub.at[p, "lower"]) else lo
                hi = sub.at[p, "upper"] if np.isfinite(sub.at[p, "upper"]) else hi
            lims.append((lo, hi))
        (x0, x1), (y0, y1) = lims
        ax.add_patch(Rectangle((x0, y0), x1 - x0, y1 - y0, fill=False, ec="black", lw=1.8,
                               label=f"box {box} ({sub['method'].iloc[0].upper()})"))
    ax.set_xlabel(param_label(px))
    ax.set_ylabel(param_label(py))
    ax.grid(alpha=0.3)
    ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1), frameon=False, title="design point")
    fig.suptitle("The two most influential parameters, points coloured by the paired verdict")
    return fig


def discovery_figures(d) -> dict[str, Figure]:
    """``tradeoff``, ``box`` and ``pairs`` of a :class:`sim.experiments.discovery.Discovery` (box figures only
    when a box was found)."""
    other = d.settings.strategies[1]
    out = {"tradeoff": tradeoff_figure(d.trajectory, d.box_of)}
    if not d.boxes.empty:
        out["box"] = box_figure(d.boxes, 1, d.box_of, other)
    top = list(d.feature_scores["parameter"][:2])
    if len(top) == 2:
        out["pairs"] = pairs_figure(d.labels.x, d.labels.label, d.boxes, top, d.box_of, other)
    return out


DISCOVERY_CAPTIONS = {
    "tradeoff": "Coverage against density of each box PRIM peeled and pasted; the ringed box is the chosen one "
                "(best balance of the two).",
    "box": "The chosen box's limits on each restricted parameter, scaled to the sampled range, with quasi-p-values.",
    "pairs": "Design points over the two most influential parameters, coloured by the paired verdict, with the box.",
}


def discovery_captions(d) -> dict[str, str]:
    """The captions of :func:`discovery_figures`, each naming the parameters its figure shows (short label, path and
    the schema's description: the axes carry only the short labels)."""
    shown = {"tradeoff": [], "box": list(d.boxes.loc[d.boxes["box"] == 1, "parameter"]) if not d.boxes.empty else [],
             "pairs": list(d.feature_scores["parameter"][:2])}
    return {k: " ".join(filter(None, (text, parameters_caption(shown[k])))) for k, text in DISCOVERY_CAPTIONS.items()}


SWEEP_KINDS = ("response", "breakeven", "spendshare", "sensitivity")
SWEEP_CAPTIONS = {
    "response": "Response curves: the metric against each swept parameter, per Meta strategy (mean and 95% CI).",
    "breakeven": "Paired difference {a} − {b} over two parameters; the black contour is break-even.",
    "spendshare": "Break-even AI share of R&D and capex f* at each design point, building against staying out: "
                  "building pays at a point when its f* is above the share it assumed (swept range shaded).",
    "sensitivity": "Sensitivity indices of each parameter (SALib), with 95% confidence intervals.",
}


def sweep_caption(name: str, results: pd.DataFrame) -> str:
    """The caption of the sweep figure ``name`` (``breakeven_open_absent-exp``...): what it shows, and what each
    parameter on its axes is (short label, path and the schema's description)."""
    kind, _, experiment = name.partition("-")
    if experiment in set(results["experiment"].astype(str)):
        results = results[results["experiment"].astype(str) == experiment]
    base = kind.split("_")[0]
    a, b = kind.split("_")[1:3] if kind.count("_") == 2 else COMPARISONS[0]
    text = SWEEP_CAPTIONS[base].format(a=a, b=b)
    if base in ("response", "breakeven", "sensitivity"):
        text = " ".join(filter(None, (text, parameters_caption(swept_parameters(results)))))
    return text
