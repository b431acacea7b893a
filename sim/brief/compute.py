"""The numbers of a brief: paired runs of the scenario over seeds, a paired Latin hypercube over the documented
ranges, and what each tells about Meta's two choices (open against closed, open against no model).

Nothing here is new modelling: the seeds are ``sim run``'s (:func:`sim.runner.run_scenario`), the hypercube is a
``sim sweep`` of a generated experiment file, the probabilities are ``sim analyze``'s, the flips ``sim discover``'s
and the break-even share ``sim.breakeven``'s. The brief reads them for one question, so its numbers equal theirs on
the same seeds.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from sim import paths
from sim.breakeven import SPEND_LINES, sweep_breakeven
from sim.channels import LABELS, STRATEGIC
from sim.config import STRATEGIES, Scenario
from sim.loading import load_scenario, read_yaml_mapping
from sim.runner import run_scenario

RANGES_EXPERIMENT = "where_open_pays"  # the documented ranges (docs/model.md, docs/sources.md): one list, one place
ASKED = (("open", "closed"), ("open", "absent"))  # the question: does open pay against each alternative?
LENSES = {"npv.meta": "strategic NPV", "npv.meta_reported": "reported AI P&L"}
METRICS = ("npv.meta", "npv.meta_reported", *SPEND_LINES)
REFERENCE = "baseline"  # a swept parameter the scenario moves away from the baseline is its premise: held, not swept
MIN_SWEPT = 2  # discovery's feature scores and its figure need two parameters that vary


@dataclass(frozen=True)
class BriefSize:
    """How much a brief runs: paired seeds of the scenario itself, worlds of the hypercube, PRIM resamples."""

    population: int
    replications: int
    points: int
    resamples: int


SIZES = {"full": BriefSize(population=20_000, replications=10, points=256, resamples=10),
         "quick": BriefSize(population=5_000, replications=5, points=48, resamples=3)}


@dataclass
class Verdict:
    """One comparison in one lens: the paired difference over seeds and the probability over the ranges."""

    a: str
    b: str
    metric: str
    mean: float  # $ (paired over the scenario's seeds)
    lo: float
    hi: float
    n: int
    p: float  # P(a − b > 0) over the hypercube's worlds
    p_lo: float
    p_hi: float
    points: int
    flips: list[str] = field(default_factory=list)  # sim discover's sentences (empty when nothing flips)
    box: pd.DataFrame | None = None  # the PRIM box's limits (boxes.csv rows of box 1)
    box_of: bool | None = None  # True: the box is where a pays; False: where it does not
    influence: pd.DataFrame | None = None  # parameter, score (extra trees on the difference)

    @property
    def comparison(self) -> str:
        """``open-closed``: the difference's name in sweep and discovery outputs."""
        return f"{self.a}-{self.b}"


@dataclass
class Brief:
    """Everything the page shows, computed before anything is written."""

    scenario: Scenario
    overrides: list[str]
    size: BriefSize
    summary: pd.DataFrame  # the seeds: one row per strategy x replicate (sim run's summary.csv)
    results: pd.DataFrame  # the hypercube: one row per world x strategy (sim sweep's results.parquet)
    swept: dict[str, dict]  # path -> its range spec, as the experiment file gives it
    held: dict[str, float]  # path -> the scenario's own value (its premise)
    verdicts: list[Verdict]
    channels: pd.DataFrame  # channel, label, and the paired mean difference per comparison ($)
    breakeven: pd.DataFrame  # builder, source (seeds or worlds), median, q05, q95 of f*
    spend_share: tuple[float, float]  # the scenario's own f_R, f_K
    ref: str = ""  # the scenario as the user named it (a preset or a path), for the commands that reproduce it


def documented_ranges() -> dict[str, dict]:
    """The parameters and ranges of the shipped ``where_open_pays`` experiment: the ranges the docs source."""
    from sim.experiments.schema import resolve_experiment_path

    return dict(read_yaml_mapping(resolve_experiment_path(RANGES_EXPERIMENT))["parameters"])


def split_ranges(scenario: Scenario, ranges: dict[str, dict], overrides=()) -> tuple[dict[str, dict],
                                                                                      dict[str, float]]:
    """(swept, held): a parameter whose value in ``scenario`` differs from the baseline's, or that ``overrides``
    (``--set``) names, is the scenario's premise (``community_boom`` is a world of strong community) and stays at
    it; the others are sampled over their range."""
    from sim.loading import parse_assignment

    reference = load_scenario(REFERENCE)
    named = {parse_assignment(text)[0] for text in overrides}
    swept, held = {}, {}
    for path, spec in ranges.items():
        mine, theirs = paths.get(scenario, path, mappings=False), paths.get(reference, path, mappings=False)
        if mine != theirs or path in named:
            held[path] = mine
        else:
            swept[path] = spec
    return swept, held


def experiment_text(scenario: Scenario, swept: dict[str, dict], size: BriefSize) -> str:
    """The experiment file of the brief's hypercube (``sim sweep`` reruns it): every strategy on the same seeds,
    one replicate per world, over the scenario written beside it as ``scenario.yaml``."""
    spec = {
        "name": f"brief_{scenario.name}",
        "description": f"The brief's Latin hypercube around scenario {scenario.name}: the documented ranges of "
                       f"{RANGES_EXPERIMENT}, less the parameters the scenario sets itself.",
        "seed": int(scenario.seed),
        "scenario": "scenario.yaml",
        "strategies": list(STRATEGIES),
        "replications": 1,
        "population": int(scenario.population.n),
        "parameters": swept,
        "design": {"method": "lhs", "size": size.points},
        "outputs": {"metrics": list(METRICS)},
    }
    return yaml.safe_dump(spec, sort_keys=False)


def run_seeds(scenario: Scenario, replications: int, progress: Callable[[], object] | None = None) -> pd.DataFrame:
    """``sim run``'s summary of the scenario under every strategy on paired seeds (a metric read at a month never
    reached is NaN, as there)."""
    from sim.outcomes import without_unsimulated

    summary = run_scenario(scenario, STRATEGIES, replications, progress=progress)[1]
    return without_unsimulated(summary, scenario.horizon_months)


def paired_over_seeds(summary: pd.DataFrame, a: str, b: str, metric: str) -> tuple[float, float, float, int]:
    """Mean and Student-t 95% interval of ``metric(a) − metric(b)`` over replicates (the run report's interval)."""
    from sim.figures.run import mean_ci, paired_by_replicate

    (_, _, diff), = paired_by_replicate(summary, metric, [(a, b)])
    m, lo, hi = mean_ci(diff)
    return m, lo, hi, len(diff)


def channel_differences(summary: pd.DataFrame) -> pd.DataFrame:
    """The paired mean difference of each strategic channel's NPV for each asked comparison (they add up to the
    difference of ``npv.meta``)."""
    rows = []
    for channel in STRATEGIC:
        column = f"npv.meta.{channel}"
        row = {"channel": channel, "label": LABELS[channel]}
        for a, b in ASKED:
            row[f"{a}-{b}"] = paired_over_seeds(summary, a, b, column)[0] if column in summary else math.nan
        rows.append(row)
    return pd.DataFrame(rows)


def breakeven_table(summary: pd.DataFrame, results: pd.DataFrame, scenario: Scenario) -> pd.DataFrame:
    """f* (the AI spend share at which building breaks even with staying out) over the seeds and over the worlds:
    median and 90% range per building strategy."""
    rows = []
    worlds = sweep_breakeven(results, scenario)
    for builder in ("open", "closed"):
        seeds = summary.get(f"breakeven_spend_share.{builder}_vs_absent", pd.Series(dtype=float)).dropna()
        sampled = worlds.loc[worlds["builder"] == builder, "breakeven_spend_share"].dropna() \
            if len(worlds) else pd.Series(dtype=float)
        for source, values in (("seeds", seeds), ("worlds", sampled)):
            if len(values):
                q05, median, q95 = np.quantile(values.to_numpy(float), [0.05, 0.5, 0.95])
                rows.append({"builder": builder, "source": source, "median": median, "q05": q05, "q95": q95,
                             "n": len(values)})
    return pd.DataFrame(rows, columns=["builder", "source", "median", "q05", "q95", "n"])


def flips(results: pd.DataFrame, verdict: Verdict, seed: int, resamples: int) -> None:
    """``sim discover`` on the hypercube for one verdict: its sentences, the PRIM box and the feature scores.

    When no sampled world reverses the verdict there is no box to find; the parameters that move the difference most
    are still scored (against a split at the median, which the regression scores do not read)."""
    from dataclasses import replace

    from sim.experiments.discovery import (
        DISCOVERY_STREAM,
        DiscoveryError,
        Settings,
        discover,
        feature_scores,
        label_points,
    )
    from sim.runner import derive_seed

    settings = Settings(metric=verdict.metric, comparison=verdict.comparison, resamples=resamples,
                        seed=seed)
    try:
        d = discover(results, settings, "lhs")
    except DiscoveryError as exc:
        if exc.where != "--threshold":  # not "every world says the same": a real failure, reported as one
            raise
        try:
            labels = label_points(results, replace(settings, threshold=float(np.median(
                world_differences(results, verdict)))))
        except DiscoveryError:  # every world gives the same difference: nothing moves it
            return
        scores = feature_scores(labels.x, labels.value, labels.label, derive_seed(seed, DISCOVERY_STREAM))
        verdict.influence = scores[["parameter", "score"]]
        return
    from sim.experiments.discovery import summary_lines

    verdict.flips = summary_lines(d)[1:2]  # the box sentence; the probability is shown beside it already
    verdict.box = d.boxes[d.boxes["box"] == 1]
    verdict.box_of = d.box_of
    verdict.influence = d.feature_scores[["parameter", "score"]]


def world_differences(results: pd.DataFrame, verdict: Verdict) -> pd.Series:
    """The verdict's paired difference in each sampled world (mean over its replicates), indexed by point."""
    from sim.experiments.analysis import paired_differences

    diffs = paired_differences(results, verdict.a, verdict.b, [verdict.metric])
    return diffs.groupby("point")[verdict.metric].mean()


def verdicts(summary: pd.DataFrame, results: pd.DataFrame, seed: int, resamples: int) -> list[Verdict]:
    """Each asked comparison in each lens: paired over seeds, probable over worlds, and where it flips."""
    from sim.experiments.analysis import threshold_probability

    out = []
    for a, b in ASKED:
        for metric in LENSES:
            m, lo, hi, n = paired_over_seeds(summary, a, b, metric)
            prob = threshold_probability(results, metric, a, b, 0.0, "above", "lhs", seed).iloc[0]
            v = Verdict(a, b, metric, m, lo, hi, n, float(prob["estimate"]), float(prob["ci_lo"]),
                        float(prob["ci_hi"]), int(prob["points"]))
            flips(results, v, seed, resamples)
            out.append(v)
    return out


def build(scenario: Scenario, overrides: list[str], size: BriefSize, folder: Path, workers: int | None = None,
          progress: Callable[[int], object] | None = None, on_start: Callable[[int], object] | None = None,
          split: tuple[dict, dict] | None = None, ref: str | None = None) -> Brief:
    """Run the brief into ``folder`` (a fresh one): ``scenario.yaml``, ``experiment.yaml``, ``summary.csv`` and the
    hypercube's sweep in ``sweep/``; returns the :class:`Brief` the page is drawn from.

    ``on_start(total)`` and ``progress(n)`` feed a progress bar counted in runs (seeds first, then worlds);
    ``split`` is :func:`split_ranges`'s answer when the caller has it; ``ref`` how the user named the scenario."""
    from sim.experiments import load_experiment, run_sweep
    from sim.io import write_csv, write_text

    swept, held = split or split_ranges(scenario, documented_ranges(), overrides)
    write_text(yaml.safe_dump(scenario.model_dump(mode="json"), sort_keys=False), folder / "scenario.yaml")
    write_text(experiment_text(scenario, swept, size), folder / "experiment.yaml")
    experiment = load_experiment(folder / "experiment.yaml")
    seeds_runs = size.replications * len(STRATEGIES)
    if on_start:
        on_start(seeds_runs + experiment.n_runs)
    months = [0]

    def month() -> None:  # the seeds report months; the bar counts runs
        months[0] += 1
        if progress and months[0] % scenario.horizon_months == 0:
            progress(1)

    summary = run_seeds(scenario, size.replications, month)
    write_csv(summary, folder / "summary.csv")
    results = run_sweep(experiment, folder / "sweep", workers=workers, on_progress=progress).results
    return Brief(scenario, list(overrides), size, summary, results, swept, held,
                 verdicts(summary, results, int(scenario.seed), size.resamples), channel_differences(summary),
                 breakeven_table(summary, results, scenario),
                 (scenario.meta.spend.rd_share, scenario.meta.spend.capex_share), ref or scenario.name)
