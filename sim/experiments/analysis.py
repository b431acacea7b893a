"""Analyses of a finished sweep; they read result tables only, never the model.

- Paired deltas: open - closed and open - absent per design point. Runs of one point and replicate share a seed,
  so the difference removes the common noise; a seeded percentile bootstrap over replicates gives the 95% CI.
- Sensitivity indices (Sobol' first/total order, Morris mu*/sigma) via SALib on any table of one value per design
  point, so the same code serves the model's metrics and analytic test functions (Ishigami).
- Point statistics: the experiment's chosen summary statistics per point, strategy and metric.
- Probability that open pays: the share of design points whose paired mean difference is beyond a threshold, with a
  bootstrap CI that resamples points and, within each, replicates. Only a sampled design (LHS, Sobol') makes the
  share a probability under the parameters' distributions; for a grid it is a share of grid points.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from sim.errors import ConfigError
from sim.experiments.designs import Design
from sim.io import write_csv
from sim.runner import derive_seed
from sim.strategies import COMPARISONS, comparisons_in

SENSITIVITY_COLUMNS = ["metric", "parameter", "method", "S1", "S1_conf", "ST", "ST_conf", "mu_star", "mu_star_conf",
                       "sigma"]
PROBABILITY_COLUMNS = ["metric", "comparison", "threshold", "where", "estimate", "ci_lo", "ci_hi", "points",
                       "replicates", "design", "meaning", "unit"]
SAMPLED_DESIGNS = ("lhs", "sobol")  # designs that sample the parameters' distributions
BOOTSTRAP_STREAM = 0xB007  # keeps bootstrap seeds apart from run seeds derived from the same experiment seed
STAT_FUNCS = {"mean": "mean", "std": "std", "min": "min", "max": "max", "median": "median",
              "q05": 0.05, "q25": 0.25, "q75": 0.75, "q95": 0.95}


def param_columns(results: pd.DataFrame) -> list[str]:
    """The results' parameter columns (``param.<path>``), the inputs every analysis regresses on."""
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


def difference_cube(results: pd.DataFrame, a: str, b: str, metrics: list[str]) -> np.ndarray:
    """Paired differences ``a - b`` as an array (points x replicates x metrics); NaN where a run is missing."""
    diffs = paired_differences(results, a, b, metrics)
    points = np.unique(diffs["point"].to_numpy())
    reps = np.unique(diffs["replicate"].to_numpy())
    cube = np.full((len(points), len(reps), len(metrics)), np.nan)
    cube[np.searchsorted(points, diffs["point"]), np.searchsorted(reps, diffs["replicate"])] = \
        diffs[metrics].to_numpy(float)
    return cube


def bootstrap_share(cube: np.ndarray, threshold: float, where: str, rng: np.random.Generator, n_boot: int = 2000,
                    conf: float = 0.95, per_replicate: bool = False) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Share of points (their mean over replicates) or of runs beyond ``threshold``, per metric, with a percentile
    CI from a two-stage bootstrap: resample points, then replicates within each resampled point."""
    n, r, m = cube.shape

    def share(c: np.ndarray) -> np.ndarray:  # c: (..., points, replicates, metrics)
        with np.errstate(invalid="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            values = c if per_replicate or c.shape[-2] == 1 else np.nanmean(c, axis=-2, keepdims=True)
            beyond = (values > threshold) if where == "above" else (values < threshold)
            valid = np.isfinite(values)
            return (beyond & valid).sum(axis=(-3, -2)) / np.maximum(valid.sum(axis=(-3, -2)), 1)

    estimate = share(cube)
    chunk = max(1, 4_000_000 // max(n * r * m, 1))
    boots = []
    for start in range(0, n_boot, chunk):
        k = min(chunk, n_boot - start)
        pts = rng.integers(0, n, size=(k, n))
        if r > 1:
            boots.append(share(cube[pts[:, :, None], rng.integers(0, r, size=(k, n, r))]))
        else:  # one replicate: resampling points is all there is
            boots.append(share(cube[pts]))
    tail = 100 * (1 - conf) / 2
    lo, hi = np.percentile(np.concatenate(boots), [tail, 100 - tail], axis=0)
    w_lo, w_hi = wilson(estimate, n * r if per_replicate else n, conf)  # at small n or a share of 0 or 1 the
    return estimate, np.minimum(lo, w_lo), np.maximum(hi, w_hi)  # bootstrap collapses; Wilson does not


def wilson(share: np.ndarray, n: int, conf: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval of a share of ``n`` (honest at small n and at shares of 0 or 1)."""
    from scipy.stats import norm

    z = float(norm.ppf(0.5 + conf / 2))
    share = np.asarray(share, dtype=float)
    denom = 1 + z * z / n
    centre = (share + z * z / (2 * n)) / denom
    half = z * np.sqrt(share * (1 - share) / n + z * z / (4 * n * n)) / denom
    return np.clip(centre - half, 0.0, 1.0), np.clip(centre + half, 0.0, 1.0)


def threshold_probability(results: pd.DataFrame, metric: str | list[str], a: str, b: str, threshold: float = 0.0,
                          where: str = "above", design: str = "lhs", seed: int = 0, n_boot: int = 2000,
                          per_replicate: bool = False, conf: float = 0.95) -> pd.DataFrame:
    """P(metric(a) - metric(b) beyond ``threshold``): one row per metric (PROBABILITY_COLUMNS), seeded by ``seed``.

    ``meaning`` is "probability" for sampled designs and "share of grid points" (or "share of design points") for
    the others, whose points are chosen, not drawn, so their share weighs every point alike by construction."""
    metrics = [metric] if isinstance(metric, str) else list(metric)
    cube = difference_cube(results, a, b, metrics)
    number = [f"{x}-{y}" for x, y in COMPARISONS].index(f"{a}-{b}") if (a, b) in COMPARISONS else 99
    rng = np.random.default_rng(derive_seed(seed, BOOTSTRAP_STREAM, 0xB0B, number))
    estimate, lo, hi = bootstrap_share(cube, threshold, where, rng, n_boot, conf, per_replicate)
    meaning = "probability" if design in SAMPLED_DESIGNS else \
        ("share of grid points" if design == "grid" else "share of design points")
    return pd.DataFrame({"metric": metrics, "comparison": f"{a}-{b}", "threshold": float(threshold), "where": where,
                         "estimate": estimate, "ci_lo": lo, "ci_hi": hi, "points": cube.shape[0],
                         "replicates": cube.shape[1], "design": design, "meaning": meaning,
                         "unit": "run" if per_replicate else "point"})[PROBABILITY_COLUMNS]


def probability_table(results: pd.DataFrame, metrics: list[str], design: str, seed: int,
                      n_boot: int = 2000) -> pd.DataFrame:
    """:func:`threshold_probability` at threshold 0 (open beats the other) for every metric and comparison run."""
    frames = [threshold_probability(results, metrics, a, b, 0.0, "above", design, seed, n_boot)
              for a, b in comparisons_in(results["strategy"])]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=PROBABILITY_COLUMNS)


def probability_lines(table: pd.DataFrame, metric: str = "npv.meta") -> list[str]:
    """One printed line per comparison for ``metric`` (the first metric when it is absent)."""
    if table.empty:
        return []
    if metric not in set(table["metric"]):
        metric = table["metric"].iloc[0]
    out = []
    for _, row in table[table["metric"] == metric].iterrows():
        what = "probability" if row["meaning"] == "probability" else f"{row['meaning']} (not a probability)"
        out.append(f"P({metric} {row['comparison']} > 0): {what} {100 * row['estimate']:.0f}% "
                   f"(95% CI {100 * row['ci_lo']:.0f}–{100 * row['ci_hi']:.0f}%) over {row['points']} points x "
                   f"{row['replicates']} replicates")
    return out


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
    """The design a finished sweep ran, rebuilt from its design.parquet and manifest record (sensitivity indices
    need its unit samples)."""
    frame = pd.read_parquet(out / "design.parquet")
    names = tuple(record["parameters"])
    values = frame[[f"param.{n}" for n in names]].to_numpy(float).reshape(len(frame), len(names))
    unit = frame[[f"unit.{n}" for n in names]].to_numpy(float).reshape(len(frame), len(names))
    spec = record["experiment"]["design"]
    return Design(spec["method"], names, values, unit, spec.get("levels", 4))


def analyze_dir(out: str | Path, n_boot: int = 2000, num_resamples: int = 100) -> dict[str, Path]:
    """Write ``paired_deltas.csv``, ``point_stats.csv``, ``probability.csv`` and (Sobol'/Morris designs)
    ``sensitivity.csv`` in ``out``."""
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
    written["probability"] = write_csv(probability_table(results, metrics, design.method, seed, n_boot),
                                       out / "probability.csv")
    if design.method in ("sobol", "morris"):
        table, labels = sensitivity_table(results, metrics)
        written["sensitivity"] = write_csv(sensitivity(design, table, labels, seed, num_resamples),
                                           out / "sensitivity.csv")
    return written
