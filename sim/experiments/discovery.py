"""Scenario discovery on a finished sweep: in which sampled worlds does giving Llama away pay, and how likely are they?

Each design point gets a label from its paired difference (open minus closed or absent, runs of one point and
replicate share a seed) averaged over replicates: "open pays" when the difference is beyond a threshold. The swept
parameters then explain the label:

- PRIM (peeling and pasting) gives the coverage-density trade-off of a box around the rarer class, the chosen
  box's limits, a quasi-p-value per restricted parameter and the box's stability under resampling;
- CART gives the leaves of a shallow tree as boxes;
- extra-trees feature scores rank every parameter by its influence on the metric's difference.

PRIM, CART and the feature scores are EMA Workbench's analysis module (BSD); this module is the only place that
imports it, so the rest of the code sees plain DataFrames.
"""

from __future__ import annotations

import contextlib
import logging
import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from sim.experiments.analysis import paired_differences, threshold_probability
from sim.runner import derive_seed
from sim.strategies import PAIRS, by_name

COMPARISON_NAMES = tuple(f"{a}-{b}" for a, b in PAIRS)
MIN_POINTS = 20
DISCOVERY_STREAM = 0xD15C  # keeps discovery's seeds apart from run and bootstrap seeds
LIMIT_COLUMNS = ["box", "method", "coverage", "density", "mass", "res_dim", "parameter", "lower", "upper",
                 "qp_lower", "qp_upper", "reproduce_coverage", "reproduce_density", "range_low", "range_high"]


class DiscoveryError(ValueError):
    """Input that cannot be discovered on; ``where`` names the option or file field to blame."""

    def __init__(self, where: str, message: str):
        super().__init__(message)
        self.where = where


@dataclass(frozen=True)
class Settings:
    """What to label and how (the command line's options); stored beside the outputs as discovery.json."""

    metric: str = "npv.meta"
    comparison: str = "open-closed"
    threshold: float = 0.0
    where: str = "above"
    method: str = "prim"
    per_replicate: bool = False
    resamples: int = 10
    n_boot: int = 2000
    seed: int | None = None  # None: the experiment's seed

    @property
    def strategies(self) -> tuple[str, str]:
        """The two strategies of the comparison (``open-closed`` gives ``("open", "closed")``), in the order the
        difference is taken."""
        a, b = self.comparison.split("-")
        return a, b


@dataclass
class Labels:
    """One row per design point (or per run with ``per_replicate``): parameters ``x``, difference, label."""

    x: pd.DataFrame  # columns: parameter paths (no "param." prefix)
    value: np.ndarray  # the paired difference (mean over replicates unless per replicate)
    label: np.ndarray  # bool: open pays (the difference is beyond the threshold)
    points: np.ndarray  # design point of each row


@dataclass
class Discovery:
    """Everything ``sim discover`` writes and prints."""

    settings: Settings
    labels: Labels
    box_of: bool  # which label the boxes describe: True = where open pays, False = where it does not
    probability: pd.DataFrame
    trajectory: pd.DataFrame  # PRIM's peeling/pasting trajectory: coverage, density, mass, res_dim, chosen
    boxes: pd.DataFrame  # LIMIT_COLUMNS, one row per box and parameter
    feature_scores: pd.DataFrame
    design_method: str
    chosen: int = -1
    extra: dict = field(default_factory=dict)


def _cheap_outer_frames(frame, context: int = 1) -> list[tuple]:
    """``inspect.getouterframes`` without source context: (frame, file, line, function, None, None) per frame."""
    out = []
    while frame is not None:
        out.append((frame, frame.f_code.co_filename, frame.f_lineno, frame.f_code.co_name, None, None))
        frame = frame.f_back
    return out


def _import_ema() -> None:
    """Import EMA Workbench's analysis module once, quietly and fast.

    Its package import decorates methods with a logger that calls ``inspect.getouterframes`` for the class name; with
    source context that reads every file on the import stack and costs seconds of CPU, so the stdlib function is
    swapped for one without context during this import only. Optional parallel back-ends it lacks are warned about
    at import; we use none of them.
    """
    import inspect
    import sys

    if "ema_workbench.analysis" in sys.modules:
        return
    real = inspect.getouterframes
    inspect.getouterframes = _cheap_outer_frames
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            import ema_workbench.analysis  # noqa: F401
    finally:
        inspect.getouterframes = real
    logging.getLogger("EMA").setLevel(logging.WARNING)


@contextlib.contextmanager
def _quiet():
    """EMA Workbench, imported, with its warnings (pandas/numpy deprecations inside it) kept off our output."""
    _import_ema()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


def label_points(results: pd.DataFrame, settings: Settings) -> Labels:
    """Paired differences of ``settings.metric`` per point (mean over replicates) or per run, and their labels."""
    a, b = settings.strategies
    ran = list(dict.fromkeys(results["strategy"].astype(str)))
    for s in (a, b):
        if s not in ran:
            raise DiscoveryError("--comparison", f"strategy {s!r} was not run in this sweep (it ran "
                                                 f"{', '.join(ran)}); choose a comparison of strategies it ran")
    if settings.metric not in results.columns:
        known = [c for c in results.columns if c not in ("experiment", "point", "strategy", "replicate", "seed")
                 and not c.startswith("param.")]
        raise DiscoveryError("--metric", f"unknown metric {settings.metric!r}; the sweep has "
                                         f"{', '.join(known[:12])}{', ...' if len(known) > 12 else ''}")
    params = [c for c in results.columns if c.startswith("param.") and results[c].nunique(dropna=True) > 1]
    if not params:
        raise DiscoveryError("DIR", "no parameter takes more than one value in this sweep; nothing to explain")
    diffs = paired_differences(results, a, b, [settings.metric])
    if not settings.per_replicate:
        diffs = diffs.groupby("point", sort=True, as_index=False)[settings.metric].mean()
    points = results.drop_duplicates("point").set_index("point")[params]
    x = points.loc[diffs["point"].to_numpy()].reset_index(drop=True)
    # Plain object column labels: EMA Workbench builds many small frames from them, and pandas' default Arrow-backed
    # string labels make each of those slower.
    x.columns = pd.Index([c.removeprefix("param.") for c in params], dtype=object)
    value = diffs[settings.metric].to_numpy(float)
    keep = np.isfinite(value)
    value, x, pts = value[keep], x[keep].reset_index(drop=True), diffs["point"].to_numpy()[keep]
    label = value > settings.threshold if settings.where == "above" else value < settings.threshold
    n_points = len(np.unique(pts))
    if n_points < MIN_POINTS:
        raise DiscoveryError("DIR", f"only {n_points} design point(s) with paired {a} and {b} runs; discovery needs "
                                    f"at least {MIN_POINTS} (sweep more points)")
    if label.all() or not label.any():
        verdict = "pays" if label.all() else "does not pay"
        raise DiscoveryError("--threshold", f"in every one of the {len(label)} labelled rows {a} {verdict} "
                                            f"({settings.metric} {settings.comparison} {settings.where} "
                                            f"{settings.threshold:g}); nothing to discover: choose another "
                                            f"threshold, metric or comparison")
    return Labels(x, value, label, pts)


def prim_box(x: pd.DataFrame, y: np.ndarray, seed: int, resamples: int = 10, peel_alpha: float = 0.05,
             paste_alpha: float = 0.05, mass_min: float = 0.05) -> tuple[pd.DataFrame, pd.DataFrame, int]:
    """EMA Workbench's PRIM on ``y`` (bool): the trajectory, the chosen box's limits (LIMIT_COLUMNS) and its index.

    The chosen box maximises the harmonic mean of coverage and density (the F1 score of the box as a classifier of
    ``y``), a balance between a box that explains most cases and one that holds few others; the trade-off figure
    shows every other choice. Stability: see :func:`_stability`.
    """
    with _quiet():
        from ema_workbench.analysis import prim

        box = prim.Prim(x, y, peel_alpha=peel_alpha, paste_alpha=paste_alpha, mass_min=mass_min).find_box()
        traj = box.peeling_trajectory[["coverage", "density", "mass", "res_dim"]].astype(float).reset_index(drop=True)
        f1 = 2 * traj["coverage"] * traj["density"] / (traj["coverage"] + traj["density"]).replace(0, np.nan)
        chosen = int(f1.fillna(-1).to_numpy().argmax())
        traj["res_dim"] = traj["res_dim"].astype(int)
        traj["chosen"] = np.arange(len(traj)) == chosen
        stability = _stability(x, y, traj.iloc[chosen], seed, resamples, 2 * peel_alpha, paste_alpha, mass_min) \
            if resamples > 0 else None
    limits = box.box_lims[chosen]
    qp = box.p_values[chosen]
    init = box.box_lims[0]
    stats = traj.iloc[chosen]
    rows = []
    for name in x.columns:
        if name not in qp:
            continue
        lo_qp, hi_qp = (np.nan if v is None or v < 0 else float(v) for v in qp[name])
        lower, upper = float(limits.at[0, name]), float(limits.at[1, name])
        rows.append({"parameter": name, "lower": lower if lower > init.at[0, name] else np.nan,
                     "upper": upper if upper < init.at[1, name] else np.nan, "qp_lower": lo_qp, "qp_upper": hi_qp,
                     "reproduce_coverage": stability[0][name] if stability else np.nan,
                     "reproduce_density": stability[1][name] if stability else np.nan})
    return traj, _limit_table(1, "prim", stats, rows, x), chosen


def _stability(x: pd.DataFrame, y: np.ndarray, chosen: pd.Series, seed: int, resamples: int, peel_alpha: float,
               paste_alpha: float, mass_min: float) -> tuple[dict, dict]:
    """Resampling stability (Bryant and Lempert 2010, as EMA Workbench's ``PrimBox.resample``): PRIM is rerun on
    ``resamples`` random halves of the points (at most 2,500 each), and for each parameter we count the share of
    reruns whose box nearest in coverage (and, separately, nearest in density) to the chosen one restricts it too.

    The reruns peel twice as fast as the main run: a PRIM step costs the same ~20 ms whatever the sample size, so
    the coarser trajectory halves the time (10,000 points in <= 10 s) while still asking the same question.
    """
    from ema_workbench.analysis import prim

    rng = np.random.default_rng(seed)
    size = min(len(x) // 2, 2500)
    counts = ({c: 0.0 for c in x.columns}, {c: 0.0 for c in x.columns})
    for _ in range(resamples):
        index = np.sort(rng.choice(len(x), size=size, replace=False))
        sub_y = y[index]
        if sub_y.all() or not sub_y.any():
            continue
        rerun = prim.Prim(x.iloc[index].reset_index(drop=True), sub_y, peel_alpha=peel_alpha,
                          paste_alpha=paste_alpha, mass_min=mass_min).find_box()
        traj = rerun.peeling_trajectory
        for counter, column in zip(counts, ("coverage", "density"), strict=True):
            nearest = int((traj[column].astype(float) - float(chosen[column])).abs().to_numpy().argmin())
            for name in rerun.p_values[nearest]:
                counter[name] += 1 / resamples
    return counts


def cart_boxes(x: pd.DataFrame, y: np.ndarray, mass_min: float = 0.05) -> pd.DataFrame:
    """EMA Workbench's CART (scikit-learn tree, leaves of at least ``mass_min`` of the points); the leaves where
    ``y`` is the majority, as boxes, best coverage first."""
    with _quiet():
        from ema_workbench.analysis import cart

        tree = cart.CART(x, y, mass_min=mass_min)
        tree.build_tree()
        leaves = list(zip(tree.boxes, tree.stats, strict=True))
    init = pd.DataFrame({c: [x[c].min(), x[c].max()] for c in x.columns})
    leaves = [(lims, s) for lims, s in leaves if s["density"] > 0.5]
    leaves.sort(key=lambda item: -item[1]["coverage"])
    frames = []
    for number, (lims, s) in enumerate(leaves, start=1):
        rows = []
        for name in x.columns:
            lower, upper = float(lims.at[0, name]), float(lims.at[1, name])
            lo_r, hi_r = lower > init.at[0, name], upper < init.at[1, name]
            if lo_r or hi_r:
                rows.append({"parameter": name, "lower": lower if lo_r else np.nan, "upper": upper if hi_r else np.nan,
                             "qp_lower": np.nan, "qp_upper": np.nan, "reproduce_coverage": np.nan,
                             "reproduce_density": np.nan})
        stats = pd.Series({"coverage": s["coverage"], "density": s["density"], "mass": s["mass"],
                           "res_dim": s["res dim"]})
        frames.append(_limit_table(number, "cart", stats, rows, x))
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=LIMIT_COLUMNS)


def _limit_table(number: int, method: str, stats: pd.Series, rows: list[dict], x: pd.DataFrame) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["parameter", "lower", "upper", "qp_lower", "qp_upper", "reproduce_coverage",
                                        "reproduce_density"])
    frame.insert(0, "box", number)
    frame.insert(1, "method", method)
    for k in ("coverage", "density", "mass"):
        frame[k] = float(stats[k])
    frame["res_dim"] = int(stats["res_dim"])
    frame["range_low"] = [float(x[p].min()) for p in frame["parameter"]]
    frame["range_high"] = [float(x[p].max()) for p in frame["parameter"]]
    return frame[LIMIT_COLUMNS]


def feature_scores(x: pd.DataFrame, value: np.ndarray, label: np.ndarray, seed: int) -> pd.DataFrame:
    """Extra-trees feature scores (EMA Workbench): ``score`` for the metric's difference (regression), the rank by
    it, and ``score_label`` for the label (classification). Scores of one column sum to 1."""
    with _quiet():
        from ema_workbench.analysis import feature_scoring
        from ema_workbench.analysis.scenario_discovery_util import RuleInductionType

        state = int(derive_seed(seed, DISCOVERY_STREAM, 1) % 2**32)
        features = max(1, round(x.shape[1] / 3))  # EMA's own default, which is 0 for a single parameter
        reg, _ = feature_scoring.get_ex_feature_scores(x, value, mode=RuleInductionType.REGRESSION,
                                                       random_state=state, max_features=features)
        cls, _ = feature_scoring.get_ex_feature_scores(x, label.astype(int), mode=RuleInductionType.CLASSIFICATION,
                                                       random_state=state, max_features=features)
    table = pd.DataFrame({"parameter": list(x.columns)})
    table["score"] = reg.iloc[:, 0].reindex(table["parameter"]).to_numpy(float)
    table["score_label"] = cls.iloc[:, 0].reindex(table["parameter"]).to_numpy(float)
    table = table.sort_values(["score", "score_label"], ascending=False, kind="stable").reset_index(drop=True)
    table.insert(1, "rank", np.arange(1, len(table) + 1))
    return table


def discover(results: pd.DataFrame, settings: Settings, design_method: str = "lhs") -> Discovery:
    """Label, box, score and count: the whole of ``sim discover`` on a results table, without writing anything."""
    labels = label_points(results, settings)
    box_of = bool(labels.label.mean() <= 0.5)  # describe the rarer class: where open pays, or where it fails
    y = labels.label if box_of else ~labels.label
    base = settings.seed or 0
    seed = derive_seed(base, DISCOVERY_STREAM)
    traj, boxes, chosen = prim_box(labels.x, y, seed, settings.resamples)
    if settings.method == "cart":
        boxes = cart_boxes(labels.x, y)
    scores = feature_scores(labels.x, labels.value, labels.label, seed)
    a, b = settings.strategies
    prob = threshold_probability(results, settings.metric, a, b, settings.threshold, settings.where, design_method,
                                 base, settings.n_boot, settings.per_replicate)
    return Discovery(settings, labels, box_of, prob, traj, boxes, scores, design_method, chosen)


# --- words --------------------------------------------------------------------------------------------------------


def readable_name(path: str) -> str:
    """A parameter's short name in words, as the figures label it (``community.strength`` -> "Open-community
    strength"; :func:`sim.figures.run.short_label`, without the unit); a path outside the scenario schema in its
    own words (``x1``)."""
    from sim.figures.run import schema_field, short_label

    try:
        schema_field(path)
    except KeyError:
        return " ".join(part for part in path.split(".") if not part.isdigit()).replace("_", " ")
    return in_sentence(short_label(path, unit=False))


PROPER = {"Meta", "Llama", "OpenAI", "Anthropic", "Google", "Qwen", "DeepSeek", "Mistral", "API", "Arena"}


def in_sentence(label: str) -> str:
    """A label as it reads inside a sentence: "How much AI is the product" -> "how much AI is the product", while a
    name or an acronym keeps its capital ("Meta AI use per user", "AI share of R&D")."""
    first = label.split(" ", 1)[0].split(",")[0]
    if first in PROPER or first.rstrip("'s") in PROPER or (len(first) > 1 and first[1].isupper()):
        return label
    return label[:1].lower() + label[1:]


def _number(v: float) -> str:
    """Two significant figures: a sentence gives the gist, boxes.csv the exact limits."""
    return f"{v:.2g}".replace("e+0", "e").replace("e+", "e").replace("e-0", "e-")


def shown_restrictions(boxes: pd.DataFrame, box: int = 1, alpha: float = 0.05) -> pd.DataFrame:
    """The rows of one box that its sentence names: the restrictions whose quasi-p-value is at most ``alpha``, most
    significant first (the two best when none is; CART boxes, which have none, in full)."""
    sub = boxes[boxes["box"] == box].copy()
    sub["_q"] = sub[["qp_lower", "qp_upper"]].min(axis=1)
    if not sub["_q"].notna().any():
        return sub
    sub = sub.sort_values("_q", kind="stable")
    strong = sub[sub["_q"] <= alpha]
    return strong if len(strong) else sub.head(2)


WEAK_STABILITY = 0.5  # a restriction that fewer than half of the resampled boxes repeat is a hint, not a finding


def box_stability(boxes: pd.DataFrame, box: int = 1) -> float:
    """How stable the box's sentence is under resampling: over the restrictions it names, the smallest share of
    resampled PRIM boxes that restrict the same parameter (each restriction's share is the mean of the reruns'
    boxes nearest in coverage and nearest in density to the chosen one; :func:`_stability`). NaN when not measured
    (CART, or ``--resamples 0``)."""
    shown = shown_restrictions(boxes, box)
    share = shown[["reproduce_coverage", "reproduce_density"]].mean(axis=1, skipna=False)
    return float(share.min()) if len(share) and share.notna().all() else float("nan")


def stability_words(boxes: pd.DataFrame, resamples: int, box: int = 1, alpha: float = 0.05) -> str:
    """How far to trust a box's sentence: ``; stable: found in 90% of 10 resamples``, or ``; weak: ...`` with the
    reasons (the restrictions it names are found in under half of the resampled boxes, or none of them has a
    quasi-p-value at most ``alpha``: PRIM always finds some box, even in noise), ``so treat it as a hint``. Empty
    when there is nothing to say (CART boxes, ``--resamples 0``)."""
    shown = shown_restrictions(boxes, box, alpha)
    share = box_stability(boxes, box) if resamples > 0 else float("nan")
    q = shown[["qp_lower", "qp_upper"]].min(axis=1)
    reasons = []
    if np.isfinite(share) and share < WEAK_STABILITY:
        reasons.append(f"this box is found in only {100 * share:.0f}% of {resamples} resamples")
    if len(q) and q.notna().any() and not (q <= alpha).any():
        reasons.append(f"no restriction has a quasi-p-value below {alpha:g}")
    if reasons:
        return f"; weak: {' and '.join(reasons)}, so treat it as a hint, not a finding"
    return f"; stable: found in {100 * share:.0f}% of {resamples} resamples" if np.isfinite(share) else ""


def conditions(boxes: pd.DataFrame, box: int = 1, alpha: float = 0.05) -> tuple[str, int]:
    """``v > 0.6 and attention at risk < 0.03`` for one box: the restrictions whose quasi-p-value is at most
    ``alpha``, most significant first (the two best when none is; CART boxes, which have none, in full), and how many
    weaker ones were left out: a small sample lets PRIM restrict parameters by chance; they stay in boxes.csv."""
    sub = boxes[boxes["box"] == box]
    shown = shown_restrictions(boxes, box, alpha)
    parts = []
    for _, r in shown.iterrows():
        name = readable_name(r["parameter"])
        lo, hi = r["lower"], r["upper"]
        if np.isfinite(lo) and np.isfinite(hi):
            parts.append(f"{_number(lo)} < {name} < {_number(hi)}")
        elif np.isfinite(lo):
            parts.append(f"{name} > {_number(lo)}")
        elif np.isfinite(hi):
            parts.append(f"{name} < {_number(hi)}")
    return " and ".join(parts), len(sub) - len(shown)


def summary_lines(d: Discovery) -> list[str]:
    """The plain-words verdict: how often open wins (a probability or a share of grid points) and where it fails."""
    s = d.settings
    a, b = s.strategies
    row = d.probability.iloc[0]
    if s.where == "above" and s.threshold == 0:
        subject = f"{by_name(a).rival_phrase.capitalize()} beats {by_name(b).rival_phrase} on {s.metric}"
    else:
        subject = f"{s.metric} ({a} − {b}) is {s.where} {_number(s.threshold)}"
    ci = f" (95% CI {100 * row['ci_lo']:.0f}–{100 * row['ci_hi']:.0f}%)"
    unit = "runs" if s.per_replicate else "design points"
    if row["meaning"] == "probability":
        first = f"{subject} in {100 * row['estimate']:.0f}% of the sampled worlds{ci}."
    else:
        first = (f"{subject} in {100 * row['estimate']:.0f}% of the {unit}{ci}; a {d.design_method} design, so this "
                 f"is a share of its {unit}, not a probability.")
    lines = [first]
    top = d.boxes[d.boxes["box"] == 1]
    verb = "pays" if d.box_of else "fails"
    if top.empty:
        lines.append(f"{s.method.upper()} found no box that describes where it {verb}.")
    else:
        text, weak = conditions(d.boxes, 1)
        more = f"; {weak} weaker restriction{'s' * (weak > 1)}, quasi-p above 0.05, in boxes.csv" if weak else ""
        lines.append(f"It {verb} mainly when {text} (coverage {top['coverage'].iloc[0]:.2f}, "
                     f"density {top['density'].iloc[0]:.2f}, {s.method.upper()}{more}"
                     f"{stability_words(d.boxes, s.resamples)}).")
    ranked = d.feature_scores.head(3)
    lines.append("Most influential on the difference: " + ", ".join(
        f"{readable_name(p)} ({v:.2f})" for p, v in zip(ranked["parameter"], ranked["score"], strict=True)) + ".")
    return lines


# --- a sweep folder ------------------------------------------------------------------------------------------------


def read_sweep(folder) -> tuple[pd.DataFrame, dict]:
    """``results.parquet`` and ``experiment.json`` of a finished ``sim sweep`` folder; ConfigError otherwise."""
    import json
    from pathlib import Path

    from sim.errors import ConfigError

    folder = Path(folder)
    for name in ("experiment.json", "results.parquet"):
        if not (folder / name).is_file():
            raise ConfigError(folder, "", f"has no {name}: not a finished sim sweep folder (run sim sweep to the end "
                                          f"first)")
    try:
        record = json.loads((folder / "experiment.json").read_text(encoding="utf-8"))
        results = pd.read_parquet(folder / "results.parquet")
        record["experiment"]["design"]["method"], int(record["experiment"]["seed"])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ConfigError(folder, "experiment.json/results.parquet", f"cannot be read ({type(exc).__name__}: "
                                                                     f"{exc}); run sim sweep again") from None
    missing = {"point", "strategy", "replicate", "seed"} - set(results.columns)
    if missing:
        raise ConfigError(folder / "results.parquet", ",".join(sorted(missing)), "missing column(s)")
    return results, record


def discover_folder(folder, settings: Settings) -> Discovery:
    """:func:`discover` on a sweep folder, seeded by the experiment's seed unless ``settings.seed`` is set."""
    from dataclasses import replace

    results, record = read_sweep(folder)
    if settings.seed is None:
        settings = replace(settings, seed=int(record["experiment"]["seed"]))
    return discover(results, settings, record["experiment"]["design"]["method"])
