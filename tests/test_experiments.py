"""Experiments: designs, reproducible sweeps on every backend, kill-and-resume, paired deltas and SALib indices."""

from __future__ import annotations

import dataclasses
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from pydantic import TypeAdapter

from sim.cli import main
from sim.errors import ConfigError
from sim.experiments import load_experiment, run_sweep
from sim.experiments.analysis import paired_deltas, sensitivity
from sim.experiments.designs import make_design
from sim.experiments.parameters import ParamSpec
from sim.experiments.schema import EXPERIMENT_DIR
from sim.runner import derive_seed
from tests.helpers import stored_runs

ROOT = Path(__file__).resolve().parent.parent
SIM = [sys.executable, "-m", "sim"]
SPEC = TypeAdapter(ParamSpec)

TINY = """\
name: tiny
description: a tiny paired sweep for the tests
seed: 11
scenario: baseline
strategies: [open, closed, absent]
replications: 4
population: 300
horizon_months: 12
parameters:
  license.mau_threshold: [1.0e+7, 7.0e+8]
  community.strength: {low: 0, high: 60}
design: {method: grid, size: 2}
outputs:
  metrics: [npv.meta, npv.openai, llama_token_share_m24, final_adopted_frac]
"""
TINY_RUNS = 2 * 2 * 4 * 3


def write(tmp_path: Path, text: str, name: str = "exp.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """The tiny experiment run once in this process (serial backend): the reference the other backends must match."""
    root = tmp_path_factory.mktemp("tiny")
    path = write(root, TINY)
    out = root / "serial"
    result = run_sweep(load_experiment(path), out, workers=1)
    return path, out, result.results


# --- designs --------------------------------------------------------------------------------------------------------


def specs(**kw):
    return {k.replace("__", "."): SPEC.validate_python(v) for k, v in kw.items()}


def test_grid_has_every_combination_inside_bounds():
    s = specs(a=[1, 2, 3], b={"low": 0, "high": 10, "levels": 5}, c={"low": 1, "high": 1000, "log": True})
    d = make_design(s, "grid", size=4, seed=1)
    assert d.values.shape == (3 * 5 * 4, 3)
    assert len({tuple(r) for r in d.values}) == 60
    assert set(d.values[:, 0]) == {1, 2, 3}
    assert np.allclose(sorted(set(d.values[:, 1])), [0, 2.5, 5, 7.5, 10])
    assert np.allclose(sorted(set(d.values[:, 2])), [1, 10, 100, 1000])


def test_lhs_points_are_stratified_inside_bounds():
    s = specs(a={"low": -2, "high": 3}, b={"dist": "normal", "mean": 5, "sd": 1}, c=[0.1, 0.2])
    d = make_design(s, "lhs", size=50, seed=3)
    assert d.values.shape == (50, 3)
    assert ((d.values[:, 0] >= -2) & (d.values[:, 0] <= 3)).all()
    # Latin hypercube: each of the 50 equal slices of every axis holds exactly one point.
    for j in range(3):
        assert sorted(np.floor(d.unit[:, j] * 50).astype(int)) == list(range(50))
    assert set(d.values[:, 2]) == {0.1, 0.2}
    assert np.isfinite(d.values).all()
    again = make_design(s, "lhs", size=50, seed=3)
    assert np.array_equal(d.values, again.values)


def test_sobol_and_morris_sizes_and_bounds():
    s = specs(a={"low": 0, "high": 1}, b={"dist": "loguniform", "low": 1e6, "high": 1e9},
              c={"dist": "triangular", "low": 0, "mode": 1, "high": 3})
    d = make_design(s, "sobol", size=16, seed=5)
    assert d.values.shape == (16 * (3 + 2), 3)
    assert ((d.values[:, 1] >= 1e6) & (d.values[:, 1] <= 1e9)).all()
    assert ((d.values[:, 2] >= 0) & (d.values[:, 2] <= 3)).all()
    m = make_design(s, "morris", size=6, seed=5, morris_levels=4)
    assert m.values.shape == (6 * (3 + 1), 3)
    assert set(np.round(m.unit.ravel(), 6)) <= {0, round(1 / 3, 6), round(2 / 3, 6), 1}


# --- sweeps: reproducible whatever the backend ------------------------------------------------------------------------


def test_results_layout_order_and_paired_seeds(tiny):
    path, out, results = tiny
    exp = load_experiment(path)
    assert list(results.columns) == ["experiment", "point", "param.license.mau_threshold", "param.community.strength",
                                     "strategy", "replicate", "seed", "npv.openai", "npv.meta",
                                     "llama_token_share_m24", "final_adopted_frac"]
    assert len(results) == TINY_RUNS == exp.n_runs
    assert not results.duplicated(["point", "replicate", "strategy"]).any()
    assert results["strategy"].tolist()[:3] == ["open", "closed", "absent"]
    assert results["point"].is_monotonic_increasing
    for (point, rep), group in results.groupby(["point", "replicate"]):
        assert group["seed"].nunique() == 1  # open, closed and absent of a point and replicate are paired
        assert group["seed"].iloc[0] == derive_seed(11, point, rep)
    assert sorted(set(results["param.community.strength"])) == [0.0, 60.0]
    assert sorted(stored_runs(out)) == sorted(set(stored_runs(out))) and len(stored_runs(out)) == TINY_RUNS
    # Seeds differ across replicates, and strategies differ in outcome (the runs really are different).
    assert results["seed"].nunique() == TINY_RUNS // 3
    assert results.groupby("strategy")["npv.meta"].mean().nunique() == 3


def test_two_workers_give_identical_results(tiny, tmp_path):
    path, out, reference = tiny
    result = run_sweep(load_experiment(path), tmp_path / "two", workers=2)
    assert result.backend == "processes" and result.workers == 2
    pd.testing.assert_frame_equal(result.results, reference, check_exact=True)
    assert (tmp_path / "two" / "results.parquet").read_bytes() == (out / "results.parquet").read_bytes()


def test_a_bundle_of_runs_is_stored_as_one_part(tiny, tmp_path):
    """Worker processes return bundles: each is one Parquet part (one file a run cost the coordinator a thirtieth
    of a small run), named by its first run, and every run is stored once."""
    from sim.experiments.local import ProcessPoolEvaluator

    path, _, reference = tiny
    out = tmp_path / "bundled"
    result = run_sweep(load_experiment(path), out, evaluator=ProcessPoolEvaluator(2, bundle=4))
    pd.testing.assert_frame_equal(result.results, reference, check_exact=True)
    parts = sorted((out / "parts").glob("*.parquet"))
    assert len(parts) == -(-TINY_RUNS // 4)
    keys = stored_runs(out)
    assert sorted(keys) == sorted(set(keys)) and len(keys) == TINY_RUNS
    assert {p.stem for p in parts} <= set(keys)


@pytest.mark.parametrize("start", ["fork", "spawn"])
def test_forked_and_spawned_workers_give_identical_results(tiny, tmp_path, start):
    from sim.experiments.local import ProcessPoolEvaluator

    path, _, reference = tiny
    result = run_sweep(load_experiment(path), tmp_path / start, evaluator=ProcessPoolEvaluator(2, start=start))
    pd.testing.assert_frame_equal(result.results, reference, check_exact=True)


def test_a_worker_hides_what_it_was_started_with_from_the_collector(tiny):
    """Full collections in a worker would walk every module and kernel it holds, once per few dozen small runs."""
    import gc
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    from sim.experiments import local

    path, _, _ = tiny
    context = load_experiment(path).context()
    with local.forking_quietly(), ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("fork"),
                                                      initializer=local._init_worker, initargs=(context,)) as pool:
        assert pool.submit(gc.get_freeze_count).result() > 10_000


def test_workers_are_forked_only_from_a_single_threaded_linux_process(monkeypatch):
    import threading

    from sim.experiments import local

    release = threading.Event()
    other = threading.Thread(target=release.wait)
    other.start()
    try:
        assert local.start_method() == "spawn"  # a lock held by the other thread would stay locked in a fork
    finally:
        release.set()
        other.join()
    monkeypatch.setattr(local.threading, "active_count", lambda: 1)
    monkeypatch.setattr(local.sys, "platform", "linux")
    assert local.start_method() == "fork"
    monkeypatch.setattr(local.sys, "platform", "darwin")
    assert local.start_method() == "spawn"


def test_the_progress_bar_starts_no_thread():
    import threading

    from sim.cli.common import progress_bar

    with progress_bar(10, "bar", unit="run") as bar:
        bar.update(3)
        # tqdm's monitor thread would keep sweeps from forking their workers
        assert not any(type(thread).__name__ == "TMonitor" for thread in threading.enumerate())


def test_dask_local_cluster_gives_identical_results(tiny, tmp_path):
    from distributed import LocalCluster

    path, _, reference = tiny
    with LocalCluster(n_workers=1, threads_per_worker=2, processes=False, dashboard_address=None) as cluster:
        result = run_sweep(load_experiment(path), tmp_path / "dask", scheduler=cluster.scheduler_address)
    assert result.backend == "dask"
    pd.testing.assert_frame_equal(result.results, reference, check_exact=True)


def test_sigkill_then_resume_loses_nothing_and_duplicates_nothing(tiny, tmp_path):
    path, _, reference = tiny
    out = tmp_path / "killed"
    proc = subprocess.Popen([*SIM, "sweep", str(path), "--out", str(out), "--workers", "1"], cwd=ROOT,
                            start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    try:
        while len(stored_runs(out)) < 3:
            assert proc.poll() is None, proc.stderr.read().decode()
            assert time.monotonic() < deadline, "sweep made no progress"
            time.sleep(0.005)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    done_at_kill = len(stored_runs(out))
    assert 3 <= done_at_kill < TINY_RUNS
    assert not (out / "results.parquet").exists()
    # Debris a kill can leave: a half-written part under its temporary name, and a manifest that says "finished"
    # for a run whose part is gone. Neither may survive the resume.
    (out / "parts" / ".p0000001-r00000-open.parquet.abc.tmp").write_bytes(b"partial")
    with sqlite3.connect(out / "manifest.sqlite") as db:
        db.execute("UPDATE runs SET status = 'finished' WHERE key = 'p0000003-r00003-absent'")

    with pytest.raises(ConfigError, match="--resume"):
        run_sweep(load_experiment(path), out)
    resumed = subprocess.run([*SIM, "sweep", str(path), "--out", str(out), "--workers", "2", "--resume"], cwd=ROOT,
                             capture_output=True, text=True, timeout=120)
    assert resumed.returncode == 0, resumed.stderr
    assert f"resuming: {done_at_kill} of {TINY_RUNS}" in resumed.stderr
    results = pd.read_parquet(out / "results.parquet")
    pd.testing.assert_frame_equal(results, reference, check_exact=True)
    assert sorted(stored_runs(out)) == sorted(  # each run stored once, and no debris left
        results.apply(lambda r: f"p{r.point:07d}-r{r.replicate:05d}-{r.strategy}", axis=1))
    assert all(p.suffix == ".parquet" for p in (out / "parts").iterdir())
    with sqlite3.connect(out / "manifest.sqlite") as db:
        assert db.execute("SELECT status, COUNT(*) FROM runs GROUP BY status").fetchall() == [("finished", TINY_RUNS)]


def test_a_dead_worker_stops_the_sweep_cleanly_and_resume_completes_it(tiny, tmp_path):
    import multiprocessing

    from sim.experiments.base import WorkerLost

    path, _, reference = tiny
    out = tmp_path / "lost"

    def kill_a_worker(n):
        victims = [p for p in multiprocessing.active_children() if p.name.startswith(("SpawnProcess", "ForkProcess"))]
        if victims and kill_a_worker.armed:
            kill_a_worker.armed = False
            os.kill(victims[0].pid, signal.SIGKILL)

    kill_a_worker.armed = True
    with pytest.raises(WorkerLost):
        run_sweep(load_experiment(path), out, workers=2, on_progress=kill_a_worker)
    stored = len(stored_runs(out))
    assert 1 <= stored < TINY_RUNS
    result = run_sweep(load_experiment(path), out, workers=1, resume=True)
    assert result.skipped == stored and result.ran == TINY_RUNS - stored
    pd.testing.assert_frame_equal(result.results, reference, check_exact=True)


def test_refuses_a_folder_of_another_experiment(tiny, tmp_path):
    path, out, _ = tiny
    other = write(tmp_path, TINY.replace("seed: 11", "seed: 12"))
    with pytest.raises(ConfigError, match="different experiment"):
        run_sweep(load_experiment(other), out, resume=True)
    (tmp_path / "foreign").mkdir()
    (tmp_path / "foreign" / "notes.txt").write_text("mine")
    with pytest.raises(ConfigError, match="not empty"):
        run_sweep(load_experiment(path), tmp_path / "foreign")


# --- analysis ---------------------------------------------------------------------------------------------------------


def test_paired_deltas_are_per_point_replicate_differences_with_bootstrap_ci(tiny):
    path, out, results = tiny
    assert main(["analyze", str(out), "--bootstrap", "500"]) == 0
    deltas = pd.read_csv(out / "paired_deltas.csv")
    assert list(deltas.columns) == ["point", "param.license.mau_threshold", "param.community.strength", "metric",
                                    "comparison", "mean", "ci_lo", "ci_hi", "n"]
    assert len(deltas) == 4 * 4 * 2 and set(deltas["comparison"]) == {"open-closed", "open-absent"}
    assert (deltas["n"] == 4).all()
    defined = deltas.dropna(subset=["mean"])  # llama_token_share_m24 is NaN in runs shorter than 25 months
    assert ((defined["ci_lo"] <= defined["mean"] + 1e-6) & (defined["mean"] <= defined["ci_hi"] + 1e-6)).all()
    point = results[results["point"] == 2]
    expected = (point[point["strategy"] == "open"]["npv.meta"].to_numpy()
                - point[point["strategy"] == "absent"]["npv.meta"].to_numpy()).mean()
    row = deltas[(deltas["point"] == 2) & (deltas["metric"] == "npv.meta") & (deltas["comparison"] == "open-absent")]
    assert row["mean"].iloc[0] == pytest.approx(expected, rel=1e-12)
    # The bootstrap is seeded: the same input gives the same intervals.
    again = paired_deltas(results, ["npv.meta"], seed=11, n_boot=500)
    assert again.equals(paired_deltas(results, ["npv.meta"], seed=11, n_boot=500))
    assert (again["ci_hi"] > again["ci_lo"]).all()
    stats = pd.read_csv(out / "point_stats.csv")
    assert {"mean", "std", "q05", "q95", "n"} <= set(stats.columns)
    assert not (out / "sensitivity.csv").exists()  # a grid design has no sensitivity indices


def ishigami(x, a=7.0, b=0.1):
    return np.sin(x[:, 0]) + a * np.sin(x[:, 1]) ** 2 + b * x[:, 2] ** 4 * np.sin(x[:, 0])


def test_sobol_indices_of_ishigami_match_the_analytic_values():
    s = specs(x1={"low": -np.pi, "high": np.pi}, x2={"dist": "uniform", "low": -np.pi, "high": np.pi},
              x3={"low": -np.pi, "high": np.pi})
    design = make_design(s, "sobol", size=2048, seed=7)
    table = pd.DataFrame({"point": np.arange(design.size), "y": ishigami(design.values)})
    out = sensitivity(design, table, ["y"], seed=7).set_index("parameter")
    assert np.allclose(out["S1"], [0.3139, 0.4424, 0.0], atol=0.05)
    assert np.allclose(out["ST"], [0.5576, 0.4424, 0.2437], atol=0.05)
    assert out["mu_star"].isna().all()


def test_morris_elementary_effects_of_a_linear_function():
    s = specs(a={"low": 0, "high": 1}, b={"low": 0, "high": 1})
    design = make_design(s, "morris", size=10, seed=2)
    table = pd.DataFrame({"point": np.arange(design.size), "y": 3 * design.values[:, 0]})
    out = sensitivity(design, table, ["y"], seed=2).set_index("parameter")
    assert out.loc["a", "mu_star"] == pytest.approx(3.0) and out.loc["a", "sigma"] == pytest.approx(0.0, abs=1e-9)
    assert out.loc["b", "mu_star"] == pytest.approx(0.0)
    assert out["S1"].isna().all()


def test_sobol_sweep_writes_sensitivity_indices(tmp_path):
    text = TINY.replace("replications: 4", "replications: 1").replace("strategies: [open, closed, absent]",
                                                                      "strategies: [open, closed]")
    text = text.replace("design: {method: grid, size: 2}", "design: {method: sobol, size: 4}")
    text = text.replace("license.mau_threshold: [1.0e+7, 7.0e+8]",
                        "license.mau_threshold: {dist: loguniform, low: 1.0e+7, high: 1.0e+9}")
    path = write(tmp_path, text)
    run_sweep(load_experiment(path), tmp_path / "out", workers=1)
    assert main(["analyze", str(tmp_path / "out")]) == 0
    sens = pd.read_csv(tmp_path / "out" / "sensitivity.csv")
    assert list(sens.columns) == ["metric", "parameter", "method", "S1", "S1_conf", "ST", "ST_conf", "mu_star",
                                  "mu_star_conf", "sigma"]
    assert set(sens["method"]) == {"sobol"}
    assert "npv.meta[open-closed]" in set(sens["metric"]) and "npv.meta[open]" in set(sens["metric"])
    assert sens["ST"].notna().any()


# --- experiment files -------------------------------------------------------------------------------------------------


def test_presets_load_and_smoke_is_small():
    names = sorted(p.stem for p in EXPERIMENT_DIR.glob("*.yaml") if "\nkind:" not in "\n" + p.read_text())
    assert {"smoke", "license_threshold", "quality_gap", "flywheel_vs_community", "sobol_meta_value"} <= set(names)
    for name in names:
        load_experiment(name)
    smoke = load_experiment("smoke")
    assert smoke.n_runs <= 40 and smoke.base["population"]["n"] <= 1000 and smoke.base["horizon_months"] <= 24


def test_integer_fields_are_rounded_and_default_lists_can_be_swept(tmp_path):
    text = TINY.replace("""  license.mau_threshold: [1.0e+7, 7.0e+8]
  community.strength: {low: 0, high: 60}
design: {method: grid, size: 2}""", """  meta.cadence_after: {low: 3, high: 12}
  market.open_gap.1.elo: {low: 50, high: 150}
design: {method: lhs, size: 9}""")
    exp = load_experiment(write(tmp_path, text))
    cadence = exp.design.values[:, 0]
    assert exp.integer == (True, False) and np.array_equal(cadence, np.round(cadence)) and len(set(cadence)) > 3
    scenario = exp.context().scenario_at(tuple(exp.design.values[0]))
    assert scenario.meta.cadence_after == int(cadence[0])
    assert scenario.market.open_gap[1].elo == exp.design.values[0, 1]


@pytest.mark.parametrize("edit, field", [
    (("seed: 11", "seed: 11\nfoo: 1"), "foo"),
    (("community.strength:", "community.strenght:"), "parameters.community.strenght"),
    (("community.strength: {low: 0, high: 60}", "community.strength: [0, 5000]"), "parameters.community.strength"),
    (("community.strength: {low: 0, high: 60}", "community: [0, 1]"), "parameters.community"),
    (("community.strength: {low: 0, high: 60}", "license.enabled: [0, 1]"), "parameters.license.enabled"),
    (("community.strength: {low: 0, high: 60}", "community.strength: {low: 60, high: 0}"),
     "parameters.community.strength"),
    (("community.strength: {low: 0, high: 60}", "community.strength: {dist: cauchy, low: 0}"),
     "parameters.community.strength"),
    (("design: {method: grid, size: 2}", "design: {method: lhs, size: 900000}"), "design.size"),
    (("design: {method: grid, size: 2}", "design: {method: sobol, size: 100}"), "design"),
    (("metrics: [npv.meta,", "metrics: [npv.nobody,"), "outputs.metrics[0]"),
    (("strategies: [open, closed, absent]", "strategies: [open, shut]"), "strategies[1]"),
    (("scenario: baseline", "scenario: nowhere"), "scenario"),
    (("population: 300", "population: 0"), "population"),
])
def test_bad_experiment_files_exit_2_with_one_line_naming_the_field(tmp_path, capsys, edit, field):
    old, new = edit
    assert old in TINY
    path = write(tmp_path, TINY.replace(old, new))
    assert main(["sweep", str(path), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith(f"{path}: {field}: "), err
    assert not (tmp_path / "out").exists()


def test_cli_sweep_smoke_preset_then_analyze(tmp_path):
    out = tmp_path / "smoke"
    done = subprocess.run([*SIM, "sweep", "experiments/smoke.yaml", "--out", str(out), "--workers", "2"], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "36 runs" in done.stdout
    results = pd.read_parquet(out / "results.parquet")
    assert len(results) == 36 and results["experiment"].eq("smoke").all()
    assert main(["analyze", str(out)]) == 0
    assert len(pd.read_csv(out / "paired_deltas.csv")) == 4 * 9 * 2  # points x metrics x comparisons
    bad = subprocess.run([*SIM, "sweep", "experiments/smoke.yaml", "--out", str(out)], cwd=ROOT,
                         capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2 and "Traceback" not in bad.stderr and "--resume" in bad.stderr


def test_runs_skip_the_surplus_sample_unless_a_metric_needs_it(tiny, monkeypatch):
    """The developer surplus is computed only when a sweep asks for it; skipping it changes no other output."""
    from sim.experiments import runs
    from sim.experiments.runs import SURPLUS_METRICS, execute
    from sim.runner import simulate
    from tests.helpers import small

    SURPLUS_METRIC = "mean_dev_surplus"
    assert SURPLUS_METRICS == {SURPLUS_METRIC}  # the one outcome that reads the sample's column
    s = small(n=300, horizon=12)
    with_sample = simulate(s, "open", 5)
    s.outputs.surplus_sample = 0
    without = simulate(s, "open", 5)
    assert with_sample["dev_surplus"].notna().all() and without["dev_surplus"].isna().all()
    pd.testing.assert_frame_equal(with_sample.drop(columns="dev_surplus"), without.drop(columns="dev_surplus"))

    experiment = load_experiment(tiny[0])
    spec = next(iter(experiment.runs()))
    context = experiment.context()
    assert SURPLUS_METRIC not in context.metrics
    asked = dataclasses.replace(context, metrics=(*context.metrics, SURPLUS_METRIC))
    assert np.isfinite(execute(asked, spec)[SURPLUS_METRIC])
    samples, real_run_outcomes = [], runs.run_outcomes

    def spy(scenario, *args):
        samples.append(scenario.outputs.surplus_sample)
        return real_run_outcomes(scenario, *args)
    monkeypatch.setattr(runs, "run_outcomes", spy)
    execute(context, spec)
    assert samples == [0]
