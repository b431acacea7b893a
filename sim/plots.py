"""Figures as functions of the result tables (they never run the model)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.dates as mdates  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

from sim.options import OPTIONS  # noqa: E402
from sim.style import OPTION_COLORS, OPTION_LABELS, STRATEGY_LABELS  # noqa: E402

BAND = (0.05, 0.95)


def band_stats(df: pd.DataFrame, by: list[str], column: str) -> pd.DataFrame:
    """Mean and the 90% band across replicates of ``column`` at each ``by`` key."""
    g = df.groupby(by, sort=True)[column]
    return pd.DataFrame({"mean": g.mean(), "lo": g.quantile(BAND[0]), "hi": g.quantile(BAND[1])}).reset_index()


def adoption_figure(ts: pd.DataFrame):
    """Share of all developers on each option over time, one panel per Meta strategy (mean, 90% band if R > 1)."""
    strategies = list(dict.fromkeys(ts["strategy"]))
    fig, axes = plt.subplots(1, len(strategies), figsize=(5.2 * len(strategies) + 2.2, 4.2), sharey=True,
                             squeeze=False)
    n_dev = ts[[c for c in ts.columns if c.startswith("users.")]].iloc[0].sum()
    replicated = ts["replicate"].nunique() > 1
    for ax, strategy in zip(axes[0], strategies, strict=True):
        sub = ts[ts["strategy"] == strategy]
        for option in OPTIONS:
            col = f"users.{option}"
            if sub[col].max() == 0:
                continue
            sub = sub.assign(_frac=sub[col] / n_dev)
            stats = band_stats(sub, ["date"], "_frac")
            ax.plot(stats["date"], stats["mean"], color=OPTION_COLORS[option], label=OPTION_LABELS[option], lw=1.8)
            if replicated:
                ax.fill_between(stats["date"], stats["lo"], stats["hi"], color=OPTION_COLORS[option], alpha=0.2,
                                lw=0)
        ax.set_title(STRATEGY_LABELS.get(strategy, strategy))
        ax.set_xlabel("Date")
        ax.xaxis.set_major_locator(mdates.YearLocator())
        ax.xaxis.set_major_formatter(mdates.DateFormatter("%Y"))
        ax.grid(alpha=0.3)
    axes[0][0].set_ylabel("Share of all developers (fraction)")
    handles, labels = {}, {}
    for ax in axes[0]:
        for h, lab in zip(*ax.get_legend_handles_labels(), strict=True):
            handles.setdefault(lab, h)
    labels = list(handles)
    fig.legend([handles[k] for k in labels], labels, loc="center left", bbox_to_anchor=(1.0, 0.5), frameon=False)
    scenario = ts["scenario"].iloc[0]
    suffix = f", mean and 90% band of {ts['replicate'].nunique()} replicates" if replicated else ""
    fig.suptitle(f"Adoption by option — {scenario}{suffix}")
    fig.tight_layout()
    return fig
