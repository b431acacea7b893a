"""Fit outputs: the calibrated scenario YAML, the fit report tables and the target-vs-model figure (all atomic)."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.dates as mdates  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import yaml  # noqa: E402

from sim.io import save_figure, write_csv, write_text  # noqa: E402

TARGET, UNFITTED = "#D55E00", "#56B4E9"  # Okabe-Ito vermillion and sky blue


def fit_figure(report: pd.DataFrame, paths: pd.DataFrame):
    """One panel per target metric: the model's monthly path before (dashed) and after (solid) the fit, and the
    targets (a point at a date or a bar over a window, with +/- scale as the error bar / band)."""
    metrics = list(dict.fromkeys(report["metric"]))
    cols = min(3, len(metrics))
    rows = int(np.ceil(len(metrics) / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(4.6 * cols, 3.3 * rows), squeeze=False)
    for ax, metric in zip(axes.flat, metrics, strict=False):
        for label, style in (("start", dict(color="#999999", ls="--", lw=1.2)),
                             ("fitted", dict(color="#000000", ls="-", lw=1.8))):
            sub = paths[(paths["metric"] == metric) & (paths["model"] == label)]
            ax.plot(pd.to_datetime(sub["date"]), sub["value"], label=f"model ({label})", **style)
        for _, t in report[report["metric"] == metric].iterrows():
            first, _, last = str(t["date"]).partition("..")
            lo, hi = pd.Timestamp(f"{first}-01"), pd.Timestamp(f"{last or first}-01")
            color = TARGET if t["weight"] > 0 else UNFITTED
            if last:
                ax.fill_between([lo, hi], t["value"] - t["scale"], t["value"] + t["scale"], color=color,
                                alpha=0.2, lw=0)
                ax.plot([lo, hi], [t["value"]] * 2, color=color, lw=2.5)
            else:
                ax.errorbar([lo], [t["value"]], yerr=[t["scale"]], fmt="o", color=color, capsize=3)
        ax.set_title(metric if len(metric) < 48 else metric[:45] + "...", fontsize=9)
        ax.xaxis.set_major_locator(mdates.YearLocator())
        ax.xaxis.set_major_formatter(mdates.DateFormatter("%Y"))
        ax.grid(alpha=0.3)
    for ax in list(axes.flat)[len(metrics):]:
        ax.set_visible(False)
    handles, labels = axes.flat[0].get_legend_handles_labels()
    handles.append(plt.Line2D([], [], color=TARGET, marker="o", lw=2.5))
    labels.append("target (+/- scale)")
    if (report["weight"] == 0).any():
        handles.append(plt.Line2D([], [], color=UNFITTED, marker="o", lw=2.5))
        labels.append("reported, not fitted (weight 0)")
    fig.legend(handles, labels, loc="lower center", ncol=len(labels), frameon=False, bbox_to_anchor=(0.5, -0.02))
    fig.suptitle("Calibration: targets vs model (mean over the common seeds)")
    fig.tight_layout(rect=(0, 0.04, 1, 1))
    return fig


def calibrated_yaml(fitted: dict, note: str) -> str:
    """The fitted scenario as YAML, headed by a comment saying where it came from."""
    text = yaml.safe_dump(fitted, sort_keys=False, width=118)
    return f"# {note}\n{text}"


def write_outputs(out: Path, scenario_name: str, fitted_scenario: dict, note: str, report: pd.DataFrame,
                  parameters: pd.DataFrame, paths: pd.DataFrame, ranges: pd.DataFrame) -> list[Path]:
    """Write everything atomically; returns the paths written."""
    out = Path(out)
    written = [
        write_text(calibrated_yaml(fitted_scenario, note), out / f"{scenario_name}_calibrated.yaml"),
        write_csv(report, out / "fit_report.csv"),
        write_csv(parameters, out / "fit_parameters.csv"),
        write_csv(paths, out / "fit_paths.csv"),
        write_csv(ranges, out / "fit_ranges.csv"),
    ]
    fig = fit_figure(report, paths)
    written.append(save_figure(fig, out / "fit.png", dpi=130, bbox_inches="tight"))
    plt.close(fig)
    return written
