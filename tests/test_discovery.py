"""Scenario discovery (sim discover): PRIM, CART and feature scores recover a known answer; the probability that open
pays and its bootstrap CI; bad input fails in one line with exit 2; the smoke preset runs
sweep -> discover -> report."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from sim.cli import main
from sim.experiments.analysis import bootstrap_share, threshold_probability
from sim.experiments.discovery import Settings, cart_boxes, discover, feature_scores, label_points, prim_box

N_SYNTH = 1500
PARAMS = ["x1", "x2", "inert1", "inert2", "inert3", "inert4"]


def synthetic_results(n: int = N_SYNTH, replicates: int = 2, seed: int = 5, noise: float = 0.05,
                      strategies=("open", "closed")) -> tuple[pd.DataFrame, np.ndarray]:
    """A sweep table whose paired mean npv.meta[open - closed] is positive exactly where x1 > 0.7 and x2 < 0.3, up
    to label noise: a share ``noise`` of the true cases flipped to negative and as many other points to positive
    (5% of the class of interest is wrong; flipping 5% of all points would put more noise than signal in a 9% box).
    Replicates scatter around the point's value, and seeds pair the strategies."""
    rng = np.random.default_rng(seed)
    x = rng.random((n, len(PARAMS)))
    truth = (x[:, 0] > 0.7) & (x[:, 1] < 0.3)
    label = truth.copy()
    inside, outside = np.flatnonzero(truth), np.flatnonzero(~truth)
    k = int(round(noise * len(inside)))
    label[rng.choice(inside, k, replace=False)] = False
    label[rng.choice(outside, k, replace=False)] = True
    level = np.where(label, 1.0, -1.0) * (1 + x[:, 0])  # the metric leans on x1 beyond the label, never on inert ones
    rows = []
    for p in range(n):
        for r in range(replicates):
            delta = level[p] + rng.normal(0, 0.1)
            base = rng.normal(10, 1)
            for s in strategies:
                value = base + delta if s == "open" else base
                rows.append({"experiment": "synthetic", "point": p, **{f"param.{q}": x[p, j] for j, q in
                             enumerate(PARAMS)}, "strategy": s, "replicate": r, "seed": 1000 * p + r,
                             "npv.meta": value})
    return pd.DataFrame(rows), label


@pytest.fixture(scope="module")
def synth():
    return synthetic_results()


def write_sweep(folder, results: pd.DataFrame, method: str = "lhs"):
    folder.mkdir(parents=True, exist_ok=True)
    results.to_parquet(folder / "results.parquet", index=False)
    record = {"format": 1, "hash": "synthetic", "experiment": {"name": "synthetic", "seed": 7, "design":
              {"method": method, "size": int(results["point"].nunique())}}, "metrics": ["npv.meta"],
              "parameters": PARAMS}
    (folder / "experiment.json").write_text(json.dumps(record))
    return folder


def _limits(boxes: pd.DataFrame, box: int = 1) -> dict:
    sub = boxes[boxes["box"] == box].set_index("parameter")
    return {p: (sub.at[p, "lower"], sub.at[p, "upper"]) for p in sub.index}


def test_prim_recovers_the_known_box(synth):
    results, _ = synth
    labels = label_points(results, Settings())
    traj, boxes, chosen = prim_box(labels.x, labels.label, seed=1, resamples=4)
    limits = _limits(boxes)
    assert set(limits) == {"x1", "x2"}
    assert limits["x1"][0] == pytest.approx(0.7, abs=0.05) and np.isnan(limits["x1"][1])
    assert limits["x2"][1] == pytest.approx(0.3, abs=0.05) and np.isnan(limits["x2"][0])
    row = boxes.iloc[0]
    assert row["coverage"] >= 0.8 and row["density"] >= 0.8
    assert traj["chosen"].sum() == 1 and traj["chosen"].iloc[chosen]
    assert (boxes[["qp_lower", "qp_upper"]].min(axis=1) < 0.01).all()  # both restrictions are significant
    stability = boxes["reproduce_coverage"]  # share of PRIM reruns on random halves that restrict it too
    assert stability.between(0, 1).all() and stability.mean() >= 0.5


def test_cart_recovers_the_known_box(synth):
    results, _ = synth
    labels = label_points(results, Settings())
    boxes = cart_boxes(labels.x, labels.label)
    limits = _limits(boxes)
    assert set(limits) == {"x1", "x2"}
    assert limits["x1"][0] == pytest.approx(0.7, abs=0.05) and limits["x2"][1] == pytest.approx(0.3, abs=0.05)
    assert boxes.iloc[0]["coverage"] >= 0.8 and boxes.iloc[0]["density"] >= 0.8


def test_inert_parameters_rank_last_in_feature_scores(synth):
    results, _ = synth
    labels = label_points(results, Settings())
    scores = feature_scores(labels.x, labels.value, labels.label, seed=3)
    assert set(scores["parameter"][:2]) == {"x1", "x2"}
    assert set(scores["parameter"][2:]) == {"inert1", "inert2", "inert3", "inert4"}
    assert scores.sort_values("score_label", ascending=False)["parameter"].iloc[:2].tolist() in (["x1", "x2"],
                                                                                                ["x2", "x1"])


def test_one_swept_parameter_gets_its_feature_score(synth):
    """EMA's default draws round(n / 3) features per split, none for one parameter; discovery asks for at least one."""
    results, _ = synth
    labels = label_points(results, Settings())
    scores = feature_scores(labels.x[["x1"]], labels.value, labels.label, seed=3)
    assert list(scores["parameter"]) == ["x1"] and scores["score"].iloc[0] == pytest.approx(1.0)


def test_probability_equals_the_known_fraction_within_its_ci(synth):
    results, label = synth
    prob = threshold_probability(results, "npv.meta", "open", "closed", seed=2, n_boot=1000)
    row = prob.iloc[0]
    assert row["meaning"] == "probability" and row["points"] == N_SYNTH and row["replicates"] == 2
    assert row["estimate"] == pytest.approx(label.mean(), abs=1e-12)  # replicate noise never flips a point
    true_fraction = 0.09  # x1 > 0.7 and x2 < 0.3 under uniform sampling; noise moves cases, not their number
    assert row["ci_lo"] <= true_fraction <= row["ci_hi"]
    assert row["ci_hi"] - row["ci_lo"] < 0.05
    grid = threshold_probability(results, "npv.meta", "open", "closed", design="grid", n_boot=200)
    assert grid["meaning"].iloc[0] == "share of grid points"


def test_bootstrap_resamples_replicates_within_points():
    # Each point's replicates straddle the threshold: resampling replicates moves the share, resampling points
    # alone (every point alike) would give a CI of zero width.
    cube = np.tile(np.array([[-1.0], [3.0]]), (50, 1, 1))  # 50 points x 2 replicates x 1 metric, mean +1
    est, lo, hi = bootstrap_share(cube, 0.0, "above", np.random.default_rng(0), n_boot=500)
    assert est[0] == 1.0 and hi[0] - lo[0] > 0.1  # a quarter of resampled points draw -1 twice
    assert lo[0] < 0.75 < hi[0] and hi[0] == 1.0  # the bootstrap's low end; Wilson's high end at a share of 1
    per_run = bootstrap_share(cube, 0.0, "above", np.random.default_rng(0), n_boot=500, per_replicate=True)
    assert per_run[0][0] == 0.5


def test_per_replicate_labels_single_runs(synth):
    results, _ = synth
    per_point = label_points(results, Settings())
    per_run = label_points(results, Settings(per_replicate=True))
    assert len(per_point.label) == N_SYNTH and len(per_run.label) == 2 * N_SYNTH
    assert (np.repeat(per_point.value, 2) != per_run.value).all()  # replicates scatter around the point's mean
    assert np.allclose(per_run.value.reshape(-1, 2).mean(axis=1), per_point.value)


def test_a_grid_share_is_not_called_a_probability(synth):
    results, _ = synth
    d = discover(results, Settings(resamples=0, n_boot=200), design_method="grid")
    from sim.experiments.discovery import summary_lines

    assert "a grid design, so this is a share of its design points, not a probability" in summary_lines(d)[0]


def test_discover_describes_the_rarer_class_and_says_so(synth):
    results, _ = synth
    d = discover(results, Settings(resamples=0, n_boot=200))
    assert d.box_of  # open pays in ~9% of the points: the box describes where it pays
    flipped = discover(results, Settings(resamples=0, n_boot=200, threshold=0.0, where="below"))
    assert not flipped.box_of and _limits(flipped.boxes).keys() == {"x1", "x2"}
    from sim.experiments.discovery import summary_lines

    lines = summary_lines(d)
    assert lines[0].startswith("Open beats closed on npv.meta in 9% of the sampled worlds (95% CI")
    assert "It pays mainly when" in lines[1] and "x1 > 0.7" in lines[1] and "x2 < 0.3" in lines[1]


def test_sim_discover_writes_every_output(tmp_path, synth, capsys):
    results, _ = synth
    folder = write_sweep(tmp_path / "sweep", results)
    assert main(["discover", str(folder), "--resamples", "2", "--bootstrap", "200"]) == 0
    out = capsys.readouterr().out
    assert "of the sampled worlds" in out and "mainly when" in out
    files = {p.name for p in (folder / "discovery").iterdir()}
    assert {"boxes.csv", "feature_scores.csv", "probability.csv", "trajectory.csv", "labels.csv",
            "discovery.json"} <= files
    assert {f"{n}.{e}" for n in ("tradeoff", "box", "pairs") for e in ("png", "svg")} <= files
    assert not [f for f in files if f.endswith(".tmp")]
    boxes = pd.read_csv(folder / "discovery" / "boxes.csv")
    assert {"box", "coverage", "density", "mass", "parameter", "lower", "upper", "qp_lower", "qp_upper"} <= set(
        boxes.columns)
    assert main(["discover", str(folder), "--method", "cart", "--resamples", "0", "--bootstrap", "200", "--out",
                 str(tmp_path / "cart")]) == 0
    assert set(pd.read_csv(tmp_path / "cart" / "boxes.csv")["method"]) == {"cart"}


def _bad(tmp_path, synth, kind):
    results, _ = synth
    if kind == "not a sweep":
        (tmp_path / "empty").mkdir()
        return [str(tmp_path / "empty")], "not a finished sim sweep folder"
    if kind == "unknown metric":
        return [str(write_sweep(tmp_path / "s", results)), "--metric", "npv.nobody"], "unknown metric"
    if kind == "strategies not run":
        return [str(write_sweep(tmp_path / "s", results)), "--comparison", "open-absent"], "'absent' was not run"
    if kind == "one class":
        return [str(write_sweep(tmp_path / "s", results)), "--threshold", "1e9"], "nothing to discover"
    small = results[results["point"] < 19]
    return [str(write_sweep(tmp_path / "s", small))], "at least 20"


@pytest.mark.parametrize("kind", ["not a sweep", "unknown metric", "strategies not run", "one class", "few points"])
def test_bad_input_exits_2_with_one_line(tmp_path, synth, capsys, kind):
    argv, message = _bad(tmp_path, synth, kind)
    assert main(["discover", *argv, "--resamples", "0"]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and message in err and "Traceback" not in err


def test_smoke_preset_runs_sweep_discover_report(tmp_path, capsys):
    import yaml

    from sim.experiments.schema import EXPERIMENT_DIR

    spec = yaml.safe_load((EXPERIMENT_DIR / "where_open_pays_smoke.yaml").read_text())
    spec["scenario"] = str(EXPERIMENT_DIR.parent / "scenarios" / "baseline.yaml")
    assert spec["design"]["method"] == "lhs" and {"open", "closed", "absent"} <= set(spec["strategies"])
    spec.update(population=600, horizon_months=24)  # thinner than the preset, same design: keeps the test quick
    path = tmp_path / "smoke.yaml"
    path.write_text(yaml.safe_dump(spec))
    out = tmp_path / "sweep"
    assert main(["sweep", str(path), "--out", str(out), "--workers", "1"]) == 0
    assert main(["analyze", str(out), "--bootstrap", "200"]) == 0
    assert "P(npv.meta open-closed > 0): probability" in capsys.readouterr().out
    prob = pd.read_csv(out / "probability.csv")
    assert set(prob["comparison"]) == {"open-closed", "open-absent"} and set(prob["meaning"]) == {"probability"}
    assert main(["discover", str(out), "--resamples", "2", "--bootstrap", "200"]) == 0
    printed = capsys.readouterr().out
    assert "of the sampled worlds (95% CI" in printed and "mainly when" in printed
    assert main(["report", str(out), "--dpi", "40"]) == 0
    text = (out / "report.html").read_text()
    assert "<h2>Where open pays</h2>" in text and 'class="boxes"' in text and 'class="verdicts"' in text
    assert all(f'id="fig-{name}"' in text for name in ("tradeoff", "box", "pairs"))


def test_discover_asks_whether_building_a_closed_model_pays(tmp_path, capsys):
    """closed-absent labels each point by closed − absent (here the synthetic 'open' column renamed closed, the
    'closed' one absent): the same boxes, and a verdict that names the pair."""
    results, _ = synthetic_results(strategies=("open", "closed"))
    results["strategy"] = results["strategy"].map({"open": "closed", "closed": "absent"})
    folder = write_sweep(tmp_path / "sweep", results)
    assert main(["discover", str(folder), "--comparison", "closed-absent", "--resamples", "0",
                 "--bootstrap", "200"]) == 0
    assert "Closed beats staying out on npv.meta" in capsys.readouterr().out


def test_a_share_of_none_of_a_few_points_gets_an_honest_interval():
    """0 of 4 points: the percentile bootstrap alone says 0–0%; the interval is no narrower than Wilson's."""
    from sim.experiments.analysis import bootstrap_share, wilson

    cube = -np.ones((4, 2, 1))
    estimate, lo, hi = bootstrap_share(cube, 0.0, "above", np.random.default_rng(1), 200)
    assert estimate[0] == 0 and lo[0] == 0 and hi[0] == pytest.approx(float(wilson(0.0, 4)[1])) and hi[0] > 0.4


def test_a_box_found_in_noise_is_called_weak():
    """Labels that no parameter explains: PRIM still finds a box, but no restriction of it is significant and the
    resampled boxes seldom restrict the same parameters; the sentence says so instead of stating the box as a
    finding (issue 25, defect 8)."""
    from sim.experiments.discovery import box_stability, summary_lines

    results, _ = synthetic_results(n=400, replicates=1, seed=5)
    rng = np.random.default_rng(5)
    pays = np.where(rng.random(400) < 0.2, 1.0, -1.0)  # open pays at random points: no box explains it
    is_open = results["strategy"] == "open"
    results.loc[is_open, "npv.meta"] = (results.loc[~is_open, "npv.meta"].to_numpy()
                                        + pays[results.loc[is_open, "point"].to_numpy()])
    d = discover(results, Settings(resamples=10, n_boot=200))
    line = summary_lines(d)[1]
    assert box_stability(d.boxes) < 0.5
    assert line.startswith("It pays mainly when") and "; weak: this box is found in only" in line
    assert "of 10 resamples and no restriction has a quasi-p-value below 0.05, so treat it as a hint" in line


def test_a_box_that_resampling_repeats_is_called_stable_and_one_it_does_not_weak(synth):
    from sim.experiments.discovery import summary_lines

    results, _ = synth
    d = discover(results, Settings(resamples=10, n_boot=200))
    assert "stable: found in 100% of 10 resamples" in summary_lines(d)[1]
    unmeasured = discover(results, Settings(resamples=0, n_boot=200))  # --resamples 0: no claim either way
    assert "stable" not in summary_lines(unmeasured)[1] and "weak" not in summary_lines(unmeasured)[1]
    boxes = d.boxes
    d.boxes = boxes.assign(reproduce_coverage=0.0, reproduce_density=0.2)  # the case: stability 0
    line = summary_lines(d)[1]
    assert "x1 > 0.7" in line and "weak: this box is found in only 10% of 10 resamples, so treat it as a hint" in line
    d.boxes = boxes.assign(qp_lower=0.3, qp_upper=0.4)  # stable, but no restriction significant
    assert "weak: no restriction has a quasi-p-value below 0.05" in summary_lines(d)[1]


def test_parameter_names_read_well_inside_a_sentence():
    from sim.experiments.discovery import readable_name

    assert readable_name("market.ai_is_the_product") == "how much AI is the product"
    assert readable_name("community.strength") == "open-community strength"
    assert readable_name("meta.spend.capex_share") == "AI share of capex"  # an acronym keeps its capitals
    assert readable_name("consumer.meta_ai.use_per_user").startswith("Meta AI")  # so does a name
