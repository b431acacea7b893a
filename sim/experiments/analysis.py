"""Analyses of a finished sweep; they read result tables only, never the model.

- Paired deltas: open - closed and open - absent per design point. Runs of one point and replicate share a seed,
  so the difference removes the common noise; a seeded percentile bootstrap over replicates gives the 95% CI.
- Sensitivity indices (Sobol' first/total order, Morris mu*/sigma) via SALib on any table of one value per design
  point, so the same code serves the model's metrics and analytic test functions (Ishigami).
- Point statistics: the experiment's chosen summary statistics per point, strategy and metric.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from sim.experiments.designs import Design
from sim.io import write_csv
from sim.loading import ConfigError
from sim.runner import derive_seed

COMPARISONS = (("open", "closed"), ("open", "absent"))
SENSITIVITY_COLUMNS = ["metric", "parameter", "method", "S1", "S1_conf", "ST", "ST_conf", "mu_star", "mu_star_conf",
                       "sigma"]
BOOTSTRAP_STREAM = 0xB007  # keeps bootstrap seeds apart from run seeds derived from the same experiment seed
STAT_FUNCS = {"mean": "mean", "std": "std", "min": "min", "max": "max", "median": "median",
              "q05": 0.05, "q25": 0.25, "q75": 0.75, "q95": 0.95}


def param_columns(results: pd.DataFrame) -> list[str]:
    return [c for c in results.columns if c.startswith("param.")]


def paired_differences(results: pd.DataFrame, a: str, b: str, metrics: list[str]) -> pd.DataFrame:
    """``a - b`` per point and replicate, from runs that share the seed (rows present for both strategies)."""
    keys = ["point", "replicate"]
    left = results[results["strategy"] == a].set_index(keys)
    right = results[results["strategy"] == b].set_index(keys)
    common = left.index.intersection(right.index).sort_values()
    left, right = left.loc[common], right.loc[common]
    if not (left["seed"].to_numpy() == right["seed"].to_numpy()).all():
        raise ValueError(f"{a} and {b} runs of the same point and replicate have different seeds; not paired")
    diff = left[metrics].to_numpy(float) - right[metrics].to_numpy(float)
    return pd.DataFrame(diff, index=common, columns=metrics).reset_index()


def bootstrap_mean_ci(d: np.ndarray, rng: np.random.Generator, n_boot: int, conf: float) -> tuple:
    """Mean and percentile CI of the mean of rows of ``d`` (replicates x metrics), resampling replicates."""
    n = len(d)
    mean = d.mean(axis=0)
    if n < 2:
        return mean, mean.copy(), mean.copy()
    idx = rng.integers(0, n, size=(n_boot, n))
    boot = d[idx].mean(axis=1)
    tail = 100 * (1 - conf) / 2
    lo, hi = np.percentile(boot, [tail, 100 - tail], axis=0)
    return mean, lo, hi


def paired_deltas(results: pd.DataFrame, metrics: list[str], seed: int, n_boot: int = 2000,
                  conf: float = 0.95) -> pd.DataFrame:
    """Columns ``point, param.<...>, metric, comparison, mean, ci_lo, ci_hi, n``; one row per point x metric x
    comparison whose two strategies were run. Each point's bootstrap has its own seed (order-free)."""
    params = param_columns(results)
    points = results.drop_duplicates("point").set_index("point")[params]
    strategies = set(results["strategy"])
    frames = []
    for number, (a, b) in enumerate(COMPARISONS):
        if a not in strategies or b not in strategies:
            continue
        diffs = paired_differences(results, a, b, metrics)
        for point, group in diffs.groupby("point", sort=True):
            d = group[metrics].to_numpy(float)
            rng = np.random.default_rng(derive_seed(seed, BOOTSTRAP_STREAM, int(point), number))
            mean, lo, hi = bootstrap_mean_ci(d, rng, n_boot, conf)
            frame = pd.DataFrame({"point": int(point), "metric": metrics, "comparison": f"{a}-{b}",
                                  "mean": mean, "ci_lo": lo, "ci_hi": hi, "n": len(d)})
            for p in params:
                frame[p] = points.at[point, p]
            frames.append(frame)
    columns = ["point", *params, "metric", "comparison", "mean", "ci_lo", "ci_hi", "n"]
    if not frames:
        return pd.DataFrame(columns=columns)
    out = pd.concat(frames, ignore_index=True)[columns]
    order = {f"{a}-{b}": i for i, (a, b) in enumerate(COMPARISONS)}
    return (out.assign(_c=out["comparison"].map(order)).sort_values(["point", "_c"], kind="stable")
            .drop(columns="_c").reset_index(drop=True))


def sensitivity(design: Design, table: pd.DataFrame, metrics: list[str], seed: int, num_resamples: int = 100,
                conf: float = 0.95) -> pd.DataFrame:
    """SALib indices for each metric column of ``table`` (one row per design point, column ``point``).

    Sobol' designs give S1/ST with confidence half-widths, Morris designs mu*/sigma; other columns are NaN.
    A metric that does not vary gets NaN indices (nothing to attribute).
    """
    from SALib.analyze import morris, sobol

    if design.method not in ("sobol", "morris"):
        raise ValueError(f"sensitivity indices need a sobol or morris design, not {design.method}")
    table = table.set_index("point").reindex(np.arange(design.size))
    problem = design.salib_problem()
    rows = []
    for metric in metrics:
        y = table[metric].to_numpy(float)
        base = {"metric": metric, "method": design.method}
        stats = dict.fromkeys(SENSITIVITY_COLUMNS[3:], np.full(len(design.names), np.nan))
        if np.isfinite(y).all() and np.ptp(y) > 0:
            with warnings.catch_warnings(), np.errstate(all="ignore"):
                warnings.simplefilter("ignore")
                if design.method == "sobol":
                    si = sobol.analyze(problem, y, calc_second_order=False, num_resamples=num_resamples,
                                       conf_level=conf, seed=seed)
                    stats.update({k: np.asarray(si[k], float) for k in ("S1", "S1_conf", "ST", "ST_conf")})
                else:
                    si = morris.analyze(problem, design.unit, y, num_resamples=num_resamples, conf_level=conf,
                                        num_levels=design.morris_levels, seed=seed)
                    stats.update({k: np.asarray(si[k], float) for k in ("mu_star", "mu_star_conf", "sigma")})
        for j, name in enumerate(design.names):
            rows.append({**base, "parameter": name, **{k: float(v[j]) for k, v in stats.items()}})
    return pd.DataFrame(rows, columns=SENSITIVITY_COLUMNS)


def sensitivity_table(results: pd.DataFrame, metrics: list[str]) -> tuple[pd.DataFrame, list[str]]:
    """Per point: each strategy's mean over replicates (``metric[open]``) and each paired difference
    (``metric[open-closed]``), as one wide table for :func:`sensitivity`."""
    pieces = []
    for strategy, group in results.groupby("strategy", sort=False):
        means = group.groupby("point")[metrics].mean()
        pieces.append(means.rename(columns=lambda m, s=strategy: f"{m}[{s}]"))
    strategies = set(results["strategy"])
    for a, b in COMPARISONS:
        if a in strategies and b in strategies:
            diffs = paired_differences(results, a, b, metrics).groupby("point")[metrics].mean()
            pieces.append(diffs.rename(columns=lambda m, c=f"{a}-{b}": f"{m}[{c}]"))
    table = pd.concat(pieces, axis=1)
    labels = list(table.columns)
    return table.reset_index(), labels


def point_statistics(results: pd.DataFrame, metrics: list[str], statistics: list[str]) -> pd.DataFrame:
    """The experiment's chosen statistics of each metric over replicates, per point and strategy (long format)."""
    params = param_columns(results)
    grouped = results.groupby(["point", "strategy"], sort=False)[metrics]
    columns = {}
    for stat in statistics:
        how = STAT_FUNCS[stat]
        wide = grouped.quantile(how) if isinstance(how, float) else grouped.agg(how)
        columns[stat] = wide.stack()
    long = pd.DataFrame(columns)
    long.index = long.index.set_names(["point", "strategy", "metric"])
    long["n"] = grouped.size().reindex(long.index.droplevel("metric")).to_numpy()
    long = long.reset_index()
    points = results.drop_duplicates("point").set_index("point")[params]
    long = long.join(points, on="point")
    order = {s: i for i, s in enumerate(dict.fromkeys(results["strategy"]))}
    long = (long.assign(_s=long["strategy"].map(order)).sort_values(["point", "_s"], kind="stable")
            .drop(columns="_s").reset_index(drop=True))
    return long[["point", *params, "strategy", "metric", *statistics, "n"]]


def load_design(out: Path, record: dict) -> Design:
    frame = pd.read_parquet(out / "design.parquet")
    names = tuple(record["parameters"])
    values = frame[[f"param.{n}" for n in names]].to_numpy(float).reshape(len(frame), len(names))
    unit = frame[[f"unit.{n}" for n in names]].to_numpy(float).reshape(len(frame), len(names))
    spec = record["experiment"]["design"]
    return Design(spec["method"], names, values, unit, spec.get("levels", 4))


def analyze_dir(out: str | Path, n_boot: int = 2000, num_resamples: int = 100) -> dict[str, Path]:
    """Write ``paired_deltas.csv``, ``point_stats.csv`` and (Sobol'/Morris designs) ``sensitivity.csv`` in ``out``."""
    out = Path(out)
    try:  # a damaged folder (edited JSON, a truncated Parquet file) must not end in a traceback
        record = json.loads((out / "experiment.json").read_text(encoding="utf-8"))
        results = pd.read_parquet(out / "results.parquet")
        metrics = list(record["metrics"])
        seed = int(record["experiment"]["seed"])
        statistics = record["experiment"]["outputs"]["statistics"]
        design = load_design(out, record)
    except (OSError, ValueError, KeyError, TypeError, IndexError) as exc:  # pyarrow's errors are ValueErrors
        raise ConfigError(out, "experiment.json/results.parquet/design.parquet",
                          f"cannot be read ({type(exc).__name__}: {exc}); run sim sweep again") from None
    missing = {"point", "strategy", "replicate", *metrics} - set(results.columns)
    if missing:
        raise ConfigError(out / "results.parquet", ",".join(sorted(missing)), "missing column(s)")
    written = {"paired_deltas": write_csv(paired_deltas(results, metrics, seed, n_boot), out / "paired_deltas.csv")}
    written["point_stats"] = write_csv(point_statistics(results, metrics, statistics), out / "point_stats.csv")
    if design.method in ("sobol", "morris"):
        table, labels = sensitivity_table(results, metrics)
        written["sensitivity"] = write_csv(sensitivity(design, table, labels, seed, num_resamples),
                                           out / "sensitivity.csv")
    return written
