"""Decision analysis: the pure-strategy game solver, the robust search, both commands end to end, resume, bad input."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.cli import main
from sim.decision import game
from sim.decision.levers import load_decision
from sim.decision.play import run_game
from sim.decision.robust import Search, run_optimize, score
from sim.errors import ConfigError
from sim.experiments.base import SerialEvaluator
from sim.experiments.schema import EXPERIMENT_DIR

ROOT = Path(__file__).resolve().parent.parent
SIM = [sys.executable, "-m", "sim"]


def write(tmp_path: Path, text: str, name: str = "decision.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


# --- the solver on payoff tables -----------------------------------------------------------------------------------


def table(cells: dict) -> np.ndarray:
    """A payoff array from ``{profile: payoffs}``."""
    n = len(next(iter(cells)))
    shape = tuple(max(p[i] for p in cells) + 1 for i in range(n))
    out = np.zeros((*shape, n))
    for p, v in cells.items():
        out[p] = v
    return out


PRISONERS = table({(0, 0): (3, 3), (0, 1): (0, 5), (1, 0): (5, 0), (1, 1): (1, 1)})  # 0 cooperate, 1 defect
COORDINATION = table({(0, 0): (2, 2), (0, 1): (0, 0), (1, 0): (0, 0), (1, 1): (1, 1)})
PENNIES = table({(0, 0): (1, -1), (0, 1): (-1, 1), (1, 0): (-1, 1), (1, 1): (1, -1)})


def test_pure_equilibria_of_classic_games():
    assert game.pure_nash(PRISONERS) == [(1, 1)]
    assert game.pure_nash(COORDINATION) == [(0, 0), (1, 1)]
    assert game.pure_nash(PENNIES) == []


def test_best_responses_and_iterated_best_responses():
    assert game.best_response_table(PRISONERS, 0) == {(-1, 0): (1,), (-1, 1): (1,)}  # defect whatever the other does
    assert game.best_response_table(COORDINATION, 1) == {(0, -1): (0,), (1, -1): (1,)}
    path, how = game.iterated_best_responses(PRISONERS, (0, 0))
    assert how == "equilibrium" and [p for _, p in path] == [(0, 0), (1, 0), (1, 1)]
    assert game.iterated_best_responses(COORDINATION, (1, 1)) == ([(-1, (1, 1))], "equilibrium")
    path, how = game.iterated_best_responses(PENNIES, (0, 0))
    assert how == "cycle" and len(path) >= 4


def test_three_player_game_dominant_defection():
    """A public-goods game: each player keeps 1 by defecting, and everyone gains 0.6 per cooperator."""
    cells = {}
    for p in game.profiles((2, 2, 2)):
        cooperators = 3 - sum(p)
        cells[p] = tuple(0.6 * cooperators + (1.0 if a == 1 else 0.0) for a in p)
    payoff = table(cells)
    assert game.pure_nash(payoff) == [(1, 1, 1)]
    path, how = game.iterated_best_responses(payoff, (0, 0, 0))
    assert how == "equilibrium" and path[-1][1] == (1, 1, 1)


def test_epsilon_equilibria_count_only_significant_gains():
    rng = np.random.default_rng(np.random.SeedSequence(7))
    reps = 40
    noise = rng.normal(0, 0.3, (2, 2, 2, reps))
    samples = PRISONERS[..., None] + noise
    assert game.epsilon_equilibria(samples) == [(1, 1)]
    # From (0, 0), player 0 gains 0.05 on average by deviating, but the paired gains swing +1 / -0.9: not significant,
    # so (0, 0) is an epsilon-equilibrium though not a Nash equilibrium of the means.
    swing = np.tile([1.0, -0.9], reps // 2)
    samples = np.zeros((2, 2, 2, reps))
    samples[0, 0] = 1.0
    samples[1, 0, 0] = 1.0 + swing
    mean = samples.mean(axis=-1)
    assert (0, 0) not in game.pure_nash(mean) and (0, 0) in game.epsilon_equilibria(samples)
    # The same average gain in every replicate (paired, no noise) is significant: (0, 0) is no longer stable.
    samples[1, 0, 0] = 1.05
    assert (0, 0) not in game.epsilon_equilibria(samples)
    (mover, to, gain), = game.significant_deviations(samples, (0, 0))
    assert mover == 0 and to == (1, 0) and np.isclose(gain.mean, 0.05)
    ci = game.paired_interval(np.array([1.9, 2.0, 2.1]))
    assert ci.low < 2.0 < ci.high and ci.significant
    assert np.isnan(game.paired_interval(np.array([5.0])).low)


# --- robustness objectives and the search --------------------------------------------------------------------------


def test_score_mean_p10_and_regret_against_the_best_policy_in_each_world():
    outcomes = np.array([[1.0, 5.0, 3.0], [2.0, 2.0, 2.0], [0.0, 6.0, 1.0]])
    got = score(outcomes, ["mean", "p10", "max_regret"])
    assert np.allclose(got[:, 0], outcomes.mean(axis=1))
    assert np.allclose(got[:, 1], np.quantile(outcomes, 0.1, axis=1))
    # best per world: 2, 6, 3 -> regrets: [1,1,0] [0,4,1] [2,0,2]
    assert np.allclose(got[:, 2], [1.0, 4.0, 2.0])


TOY = """\
kind: optimize
name: toy
description: a two-lever toy whose robust optima are known in closed form
seed: 5
scenario: baseline
population: 200
horizon_months: 6
levers:
  license.approval_probability: {low: 0.0, high: 1.0}
  community.cost_cut: {low: 0.0, high: 0.9}
uncertainties:
  community.strength: {low: 0, high: 60}
worlds: 9
objectives: [mean, max_regret]
search: {population: 24, generations: 40}
"""


class ToySearch(Search):
    """Outcome in world w: -(x - theta_w)^2 - (y - 0.3)^2, theta_w = strength / 60, instead of a simulation."""

    def simulate(self, new, gen):
        theta = self.problem.worlds.values[:, 0] / 60.0
        x = np.array([p[0] for p in new])[:, None]
        y = np.array([p[1] for p in new])[:, None]
        values = -((x - theta[None, :]) ** 2) - (y - 0.3) ** 2
        return {m: values for m in self.problem.metrics}


def test_search_finds_the_known_robust_optima_of_a_two_lever_toy(tmp_path):
    problem = load_decision(write(tmp_path, TOY))
    search = ToySearch(problem, tmp_path / "out", SerialEvaluator())
    search.run()
    result = search.result()
    theta = problem.worlds.values[:, 0] / 60.0
    front = result.pareto
    x, y = front["lever.license.approval_probability"], front["lever.community.cost_cut"]
    assert (abs(y - 0.3) < 0.05).all()
    # Mean-optimal x is the mean of theta; minimax regret x is the midrange; the front spans the two.
    best_mean = front.iloc[front["mean"].argmax()]
    best_regret = front.iloc[front["max_regret"].argmin()]
    assert abs(best_mean["lever.license.approval_probability"] - theta.mean()) < 0.03
    assert abs(best_regret["lever.license.approval_probability"] - (theta.min() + theta.max()) / 2) < 0.03
    lo, hi = sorted([theta.mean(), (theta.min() + theta.max()) / 2])
    assert ((x > lo - 0.05) & (x < hi + 0.05)).all()
    conv = result.convergence
    assert len(conv) == 40 and conv["hypervolume"].is_monotonic_increasing
    assert conv["hypervolume"].iloc[-1] > conv["hypervolume"].iloc[0]


def test_regret_is_rescored_when_a_better_policy_appears(tmp_path):
    """A parent's regret is re-scored against the best evaluated so far, not the reference of its own generation."""
    problem = load_decision(write(tmp_path, TOY.replace("generations: 40", "generations: 1")))
    search = ToySearch(problem, tmp_path / "out", SerialEvaluator())
    search.evaluate([(0.0, 0.3)], 0)
    before = search.objectives([(0.0, 0.3)])[0][0, 1]
    search.evaluate([(1.0, 0.3)], 1)  # better in the worlds with theta near 1
    after = search.objectives([(0.0, 0.3)])[0][0, 1]
    assert before == 0.0 and after > 0.1


# --- the commands on the simulator -----------------------------------------------------------------------------------

TINY_OPT = """\
kind: optimize
name: tiny_opt
description: a tiny robust search for the tests
seed: 21
scenario: baseline
population: 300
horizon_months: 12
levers:
  strategy: [open, closed]
  license.mau_threshold: {low: 1.0e+7, high: 1.0e+10, log: true}
  meta.cadence_after: {low: 6, high: 18}
  license.enabled: [true, false]
uncertainties:
  community.strength: {dist: triangular, low: 5, mode: 25, high: 60}
worlds: 3
investor: {metric: npv.meta_reported, floor: -1.0e+12}
search: {population: 4, generations: 3}
"""


@pytest.fixture(scope="module")
def tiny_opt(tmp_path_factory):
    root = tmp_path_factory.mktemp("opt")
    path = write(root, TINY_OPT)
    out = root / "out"
    assert main(["optimize", str(path), "--out", str(out), "--workers", "1"]) == 0
    return path, out


def test_optimize_writes_pareto_set_outcomes_convergence_and_figures(tiny_opt, capsys):
    path, out = tiny_opt
    for name in ("policies.csv", "all_policies.csv", "pareto_outcomes.parquet", "convergence.csv", "pareto.png",
                 "pareto.svg", "convergence.png", "convergence.svg", "report.md"):
        assert (out / name).is_file(), name
    policies = pd.read_csv(out / "policies.csv")
    assert {"lever.strategy", "lever.license.mau_threshold", "lever.meta.cadence_after", "lever.license.enabled",
            "mean", "p10", "max_regret"} <= set(policies.columns)
    everything = pd.read_csv(out / "all_policies.csv")
    outcomes = pd.read_parquet(out / "pareto_outcomes.parquet")
    assert set(outcomes["policy"]) == set(policies["policy"]) and set(outcomes["world"]) == {0, 1, 2}
    # Common random numbers: every policy meets each world with the same seed and the same uncertain values.
    per_world = outcomes.groupby("world")[["seed", "uncertainty.community.strength"]].nunique()
    assert (per_world == 1).all().all()
    # The objectives are what the per-world outcomes say, regret against the best evaluated policy in each world.
    first = policies.iloc[0]
    mine = outcomes[outcomes["policy"] == first["policy"]]["npv.meta"].to_numpy()
    assert np.isclose(first["mean"], mine.mean()) and np.isclose(first["p10"], np.quantile(mine, 0.1))
    assert everything["max_regret"].min() >= 0 and (everything["pareto"] == everything["policy"].isin(
        policies["policy"])).all()
    assert (everything["lever.meta.cadence_after"] % 1 == 0).all()


def test_optimize_skips_a_missing_investor_column_and_replays_from_the_store(tiny_opt, capsys):
    path, out = tiny_opt
    before = pd.read_csv(out / "all_policies.csv")
    assert main(["optimize", str(path), "--out", str(out), "--workers", "1", "--resume"]) == 0
    printed = capsys.readouterr().out
    assert "(0 ran now" in printed and "most robust by mean NPV" in printed
    if "npv.meta_reported" not in pd.read_parquet(out / "pareto_outcomes.parquet").columns:
        assert "investor constraint skipped" in printed
    pd.testing.assert_frame_equal(pd.read_csv(out / "all_policies.csv"), before)


def test_optimize_resume_after_sigkill_gives_identical_results(tiny_opt, tmp_path):
    path, reference = tiny_opt
    out = tmp_path / "killed"
    proc = subprocess.Popen([*SIM, "optimize", str(path), "--out", str(out), "--workers", "1"], cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    deadline = time.monotonic() + 300
    try:
        while len(list(out.glob("generations/*/parts/*.parquet"))) < 5:
            assert proc.poll() is None, proc.stderr.read().decode()
            assert time.monotonic() < deadline, "search made no progress"
            time.sleep(0.005)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    stored = len(list(out.glob("generations/*/parts/*.parquet")))
    assert not (out / "policies.csv").exists()
    with pytest.raises(ConfigError, match="--resume"):
        run_optimize(load_decision(path), out, SerialEvaluator())
    resumed = subprocess.run([*SIM, "optimize", str(path), "--out", str(out), "--workers", "1", "--resume"],
                             cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stderr
    total = len(pd.read_csv(reference / "all_policies.csv")) * 3
    assert f"({total - stored} ran now" in resumed.stdout
    for name in ("all_policies.csv", "policies.csv", "convergence.csv"):
        pd.testing.assert_frame_equal(pd.read_csv(out / name), pd.read_csv(reference / name), check_exact=True)
    pd.testing.assert_frame_equal(pd.read_parquet(out / "pareto_outcomes.parquet"),
                                  pd.read_parquet(reference / "pareto_outcomes.parquet"), check_exact=True)


TINY_SCENARIO = """\
name: tiny_game_market
description: baseline where OpenAI trains for free, so its API earns a positive profit whenever it is on
extends: baseline
providers: {openai: {training_cost: 0}}
"""

TINY_GAME = """\
kind: game
name: tiny_game
description: Meta open or closed; OpenAI keeps its API on (positive profit) or switches it off (exactly 0)
seed: 8
scenario: market.yaml
population: 300
horizon_months: 12
replications: 3
players:
  meta:
    menu:
      open: {strategy: open}
      closed: {strategy: closed}
  openai:
    menu:
      api_off: {providers.openai.enabled: false}
      api_on: {}
"""


def test_game_on_a_tiny_market_finds_the_dominant_action(tmp_path, capsys):
    write(tmp_path, TINY_SCENARIO, "market.yaml")
    path = write(tmp_path, TINY_GAME)
    out = tmp_path / "game"
    assert main(["game", str(path), "--out", str(out), "--workers", "1"]) == 0
    printed = capsys.readouterr().out
    payoffs = pd.read_parquet(out / "payoffs.parquet")
    assert len(payoffs) == 4 * 3
    off, on = payoffs[payoffs["openai"] == "api_off"], payoffs[payoffs["openai"] == "api_on"]
    assert (off["payoff.openai"] == 0).all() and (on["payoff.openai"] > 0).all()
    # Paired seeds: replicate r has one seed in every profile.
    assert (payoffs.groupby("replicate")["seed"].nunique() == 1).all()
    eq = pd.read_csv(out / "equilibria.csv")
    nash = eq[eq["nash"]]
    mean = payoffs[payoffs["openai"] == "api_on"].groupby("meta")["payoff.meta"].mean()
    assert list(zip(nash["meta"], nash["openai"], strict=True)) == [(mean.idxmax(), "api_on")]
    assert set(eq[eq["epsilon"]]["openai"]) == {"api_on"}
    best = pd.read_csv(out / "best_responses.csv")
    assert set(best[best["player"] == "openai"]["best"]) == {"api_on"}
    path_rows = pd.read_csv(out / "best_response_path.csv")
    assert path_rows["openai"].iloc[0] == "api_off" and path_rows["openai"].iloc[-1] == "api_on"
    headline = (out / "headline.txt").read_text()
    assert "Meta's items earn" in headline and "open − closed" in headline
    assert "best strategy is" not in headline or f"Meta's best strategy is {mean.idxmax()}" in headline
    assert headline.strip() in (out / "report.md").read_text()  # one headline: printed, headline.txt, report
    assert headline.strip() in printed
    for name in ("game_path.png", "game_path.svg", "game_meta.png", "game_meta.svg", "report.md"):
        assert (out / name).is_file()
    # The same seeds give the same table when the analysis is run again from the stored runs.
    again = run_game(load_decision(path), out, SerialEvaluator(), resume=True)
    assert again.ran == 0
    pd.testing.assert_frame_equal(again.payoffs, payoffs)


# --- files and bad input ---------------------------------------------------------------------------------------------


def test_presets_load_and_smoke_variants_are_small():
    names = sorted(p.stem for p in EXPERIMENT_DIR.glob("*.yaml") if "\nkind:" in "\n" + p.read_text())
    assert {"meta_policy", "meta_policy_smoke", "llm_market_game", "llm_market_game_smoke"} <= set(names)
    for name in names:
        load_decision(name)
    opt = load_decision("meta_policy_smoke")
    assert opt.base["population"]["n"] <= 2000 and opt.spec.worlds * opt.spec.search.population <= 40
    g = load_decision("llm_market_game_smoke")
    assert len(g.profiles()) * g.spec.replications <= 40 and g.players == ("meta", "openai", "anthropic", "google")
    full = load_decision("llm_market_game")
    assert full.shape == (4, 4, 4, 4)


def test_sweep_refuses_a_decision_file(capsys):
    assert main(["sweep", "meta_policy_smoke", "--out", "/nonexistent/x"]) == 2
    assert "run it with sim optimize" in capsys.readouterr().err


@pytest.mark.parametrize("command, edit, field", [
    ("optimize", ("kind: optimize", "kind: tune"), "kind"),
    ("optimize", ("seed: 21", "seed: 21\nfoo: 1"), "foo"),
    ("optimize", ("license.enabled: [true, false]", "license.enabeld: [true, false]"), "levers.license.enabeld"),
    ("optimize", ("strategy: [open, closed]", "strategy: [open, shut]"), "levers.strategy"),
    ("optimize", ("{low: 6, high: 18}", "{low: 6, high: 500}"), "levers.meta.cadence_after"),
    ("optimize", ("{low: 6, high: 18}", "{low: 18, high: 6}"), "levers.meta.cadence_after"),
    ("optimize", ("dist: triangular, low: 5", "dist: triangle, low: 5"), "uncertainties.community.strength"),
    ("optimize", ("community.strength:", "license.mau_threshold:"), "uncertainties.license.mau_threshold"),
    ("optimize", ("floor: -1.0e+12", "floor: lots"), "investor.floor"),
    ("optimize", ("worlds: 3", "worlds: 0"), "worlds"),
    ("game", ("api_on: {}", "api_on: {strategy: shut}"), "players.openai.menu.api_on.strategy"),
    ("game", ("api_on: {}", "api_on: {providers.openai.enabled: 3}"), "players.openai.menu.api_on"),
    ("game", ("api_on: {}", "api_on: {license.enabled: false}"), "players.openai.menu.api_on.license.enabled"),
    ("game", ("replications: 3", "replications: 3\nstatus_quo: {meta: shut}"), "status_quo.meta"),
    ("game", ("  openai:\n    menu:", "  openai:\n    payoff: npv.nobody\n    menu:"), "players.openai.payoff"),
    ("optimize", ("kind: optimize", "kind: game"), "kind"),
])
def test_bad_input_is_one_line_naming_the_field_and_exit_2(tmp_path, capsys, command, edit, field):
    write(tmp_path, TINY_SCENARIO, "market.yaml")
    base = TINY_OPT if command == "optimize" else TINY_GAME.replace(
        "      open: {strategy: open}", "      open: {strategy: open, license.enabled: true}")
    assert edit[0] in base, edit
    path = write(tmp_path, base.replace(edit[0], edit[1], 1))
    assert main([command, str(path), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith(f"{path}: {field}"), err
    assert not (tmp_path / "out").exists()


def test_refuses_a_folder_of_another_problem_or_a_foreign_one(tiny_opt, tmp_path, capsys):
    path, out = tiny_opt
    other = write(tmp_path, TINY_OPT.replace("seed: 21", "seed: 22"))
    assert main(["optimize", str(other), "--out", str(out), "--resume"]) == 2
    assert "different problem" in capsys.readouterr().err
    (tmp_path / "foreign").mkdir()
    (tmp_path / "foreign" / "notes.txt").write_text("mine")
    assert main(["optimize", str(path), "--out", str(tmp_path / "foreign")]) == 2
    assert "not an empty folder" in capsys.readouterr().err


def test_game_reports_metas_breakeven_spend_share_against_staying_out(tmp_path):
    """f* of each building item at the labs' response, from the paired before-spend payoffs (sim.breakeven)."""
    from sim.breakeven import SPEND_LINES, spend_per_share
    from sim.config import Scenario

    write(tmp_path, TINY_SCENARIO, "market.yaml")
    text = TINY_GAME.replace("      closed: {strategy: closed}\n",
                             "      closed: {strategy: closed}\n      absent: {strategy: absent}\n")
    path = write(tmp_path, text)
    out = tmp_path / "game"
    assert main(["game", str(path), "--out", str(out), "--workers", "1"]) == 0
    payoffs = pd.read_parquet(out / "payoffs.parquet")
    leader = pd.read_csv(out / "meta_vs_response.csv")
    before = payoffs.assign(before=payoffs["payoff.meta"] - payoffs[list(SPEND_LINES)].sum(axis=1))
    absent = leader[leader["strategy"] == "absent"].iloc[0]
    per_share = spend_per_share(Scenario.model_validate(load_decision(path).base))
    staying_out = before[(before["meta"] == "absent") & (before["openai"] == absent["openai"])].set_index(
        "replicate")["before"]
    for _, row in leader.iterrows():
        if row["strategy"] == "absent":
            assert np.isnan(row["breakeven_spend_share"])
            continue
        mine = before[(before["meta"] == row["item"]) & (before["openai"] == row["openai"])].set_index(
            "replicate")["before"]
        assert row["breakeven_spend_share"] == pytest.approx((mine - staying_out).mean() / per_share)
    assert "Building breaks even with staying out" in (out / "headline.txt").read_text()


def test_optimize_reports_each_building_policys_breakeven_spend_share(tmp_path):
    """Mean over the worlds of f* against the best staying-out policy of each world, from the stored runs."""
    from sim.breakeven import SPEND_LINES, spend_per_share
    from sim.config import Scenario

    text = TINY_OPT.replace("strategy: [open, closed]", "strategy: [open, closed, absent]").replace(
        "search: {population: 4, generations: 3}", "search: {population: 6, generations: 1}")
    problem = load_decision(write(tmp_path, text))
    search = Search(problem, tmp_path / "out", SerialEvaluator())
    search.run()
    table = search.result().policies
    runs = pd.concat(search.frames, ignore_index=True)
    runs["before"] = runs["npv.meta"] - runs[list(SPEND_LINES)].sum(axis=1)
    strategy = table.set_index("policy")["lever.strategy"]
    runs["strategy"] = runs["policy"].map(strategy)
    assert {"absent", "open"} <= set(runs["strategy"]) or {"absent", "closed"} <= set(runs["strategy"])
    staying_out = runs[runs["strategy"] == "absent"].groupby("replicate")["before"].max()
    per_share = spend_per_share(Scenario.model_validate(problem.base))
    for _, row in table.iterrows():
        if row["lever.strategy"] == "absent":
            assert np.isnan(row["breakeven_spend_share"])
            continue
        mine = runs[runs["policy"] == row["policy"]].set_index("replicate")["before"]
        assert row["breakeven_spend_share"] == pytest.approx((mine - staying_out).mean() / per_share)


def test_breakeven_words_and_files_that_move_the_spend():
    """A negative f* means building loses with no spend at all; a file that moves what the spend per share reads
    gets no f* rather than a wrong one."""
    from sim.breakeven import describe_breakeven, moves_spend

    assert describe_breakeven({"open": 0.004, "closed": -0.016}) == \
        "0.4% (open), none: building loses even with no spend (closed)"
    assert moves_spend(["meta.spend.rd_share"]) and moves_spend(["market.discount_rate"])
    assert not moves_spend(["license.mau_threshold", "community.strength"])
