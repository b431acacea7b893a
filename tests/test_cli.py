"""The command line as a newcomer meets it: validation of both file kinds, which strategies run, safe output folders,
messages that blame the right input, Ctrl-C (SIGINT to a subprocess), help texts and the sweep/analyze summary."""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import pandas as pd
import pytest

from sim.cli import build_parser, main
from sim.cli.common import choose_strategies
from sim.io import folder_lock
from sim.loading import load_scenario
from tests.helpers import stored_runs
from tests.test_experiments import TINY, TINY_RUNS

ROOT = Path(__file__).resolve().parent.parent
SIM = [sys.executable, "-m", "sim"]
SMALL = ["--population", "200", "--set", "horizon_months=6"]

# The tests' tiny paired experiment, made a little longer so that Ctrl-C lands mid-sweep.
SWEEP = TINY.replace("population: 300", "population: 1500").replace("horizon_months: 12", "horizon_months: 24")
SWEEP_RUNS = TINY_RUNS


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text)
    return path


def err_line(capsys) -> str:
    """The one line a failing command printed on stderr."""
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    return err.strip()


# --- 1. validate detects the kind -----------------------------------------------------------------------------


def test_validate_checks_experiment_files_as_experiments(capsys):
    assert main(["validate", "experiments/smoke.yaml", "smoke", "scenarios/baseline.yaml"]) == 0
    out = capsys.readouterr().out
    assert "experiment smoke: 4 points x 3 replications x 3 strategies = 36 runs" in out
    assert "scenarios/baseline.yaml: ok (baseline" in out


def test_validate_reports_an_experiment_error_with_its_field(tmp_path, capsys):
    bad = write(tmp_path, "exp.yaml", SWEEP.replace("replications: 4", "replications: 0"))
    assert main(["validate", str(bad)]) == 2
    assert err_line(capsys).startswith(f"{bad}: replications:")


# --- 2. a scenario's own meta.strategy ----------------------------------------------------------------------------


@pytest.mark.parametrize(("ref", "sets", "given", "expected"), [
    ("baseline", [], None, ["open", "closed", "absent"]),
    ("no_meta_model", [], None, ["absent"]),
    ("meta_closed_api", [], None, ["closed"]),
    ("baseline", ["meta.strategy=closed"], None, ["closed"]),
    ("baseline", ["meta.strategy=open"], None, ["open"]),
    ("no_meta_model", [], "open,absent", ["open", "absent"]),
    ("baseline", ["meta.strategy=closed"], "closed", ["closed"]),
])
def test_which_strategies_run(ref, sets, given, expected):
    assert choose_strategies(load_scenario(ref, sets), given, sets) == expected


def test_strategies_contradicting_set_meta_strategy_are_refused(capsys):
    assert main(["run", "baseline", "--set", "meta.strategy=closed", "--strategies", "open", *SMALL]) == 2
    assert "--strategies" in err_line(capsys)


def test_run_no_meta_model_runs_only_absent_and_says_so(tmp_path, capsys):
    out = tmp_path / "nm"
    assert main(["run", "no_meta_model", *SMALL, "--out", str(out)]) == 0
    assert set(pd.read_csv(out / "summary.csv")["strategy"]) == {"absent"}
    captured = capsys.readouterr()
    assert "meta.strategy is absent, so only absent runs" in captured.err
    assert "open" not in captured.out.split("wrote")[0]  # no row of another strategy in the printed table


def test_set_meta_strategy_is_honoured_by_run_and_compare(tmp_path):
    out = tmp_path / "r"
    assert main(["run", "baseline", *SMALL, "--set", "meta.strategy=closed", "--out", str(out)]) == 0
    assert set(pd.read_csv(out / "summary.csv")["strategy"]) == {"closed"}
    cmp = tmp_path / "cmp"
    assert main(["compare", "baseline", "no_meta_model", *SMALL, "--replications", "1", "--out", str(cmp),
                 "--dpi", "30"]) == 0
    table = pd.read_csv(cmp / "comparison.csv")
    assert sorted(table.loc[table["scenario"] == "baseline", "strategy"]) == ["absent", "closed", "open"]
    assert list(table.loc[table["scenario"] == "no_meta_model", "strategy"]) == ["absent"]
    # Meta's value as paired differences: each strategy's row against the others of its scenario
    base = table[table["scenario"] == "baseline"].set_index("strategy")
    assert base.loc["open", "npv.meta_minus_absent"] == pytest.approx(
        base.loc["open", "npv.meta"] - base.loc["absent", "npv.meta"])
    assert table.loc[table["scenario"] == "no_meta_model", "npv.meta_minus_open"].isna().all()


# --- 5-7. output folders --------------------------------------------------------------------------------------


def old_run_folder(out: Path) -> None:
    (out / "figures").mkdir(parents=True)
    (out / "figures" / "ledger.png").write_text("old figure")
    for name in ("timeseries.parquet", "summary.csv", "scenario.yaml", "adoption.png"):
        (out / name).write_text("old")


def test_run_replaces_the_whole_folder(tmp_path):
    out = tmp_path / "r"
    old_run_folder(out)
    assert main(["run", "baseline", *SMALL, "--strategies", "open", "--out", str(out)]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["adoption.png", "adoption.svg", "overrides.yaml", "scenario.yaml",
                                                     "summary.csv", "timeseries.parquet"]  # SMALL has --set
    assert len(pd.read_parquet(out / "timeseries.parquet")) == 6
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".") and not p.name.endswith(".lock")] == []


def test_ctrl_c_while_writing_leaves_the_old_folder_untouched(tmp_path, monkeypatch, capsys):
    import sim.figures.run

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    out = tmp_path / "r"
    old_run_folder(out)
    monkeypatch.setattr(sim.figures.run, "adoption_figure", interrupted)  # after the parquet and CSV files are written
    assert main(["run", "baseline", *SMALL, "--strategies", "open", "--out", str(out)]) == 130
    assert (out / "summary.csv").read_text() == "old" and (out / "figures" / "ledger.png").is_file()
    assert not (out / "adoption.svg").exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []


def test_a_second_writer_of_the_same_folder_is_refused(tmp_path, capsys):
    out = tmp_path / "r"
    with folder_lock(out):  # as another sim run holds it
        assert main(["run", "baseline", *SMALL, "--out", str(out)]) == 2
    assert "another sim is writing this folder" in err_line(capsys)
    assert not out.exists()
    assert main(["run", "baseline", *SMALL, "--strategies", "open", "--out", str(out)]) == 0  # released


def lock_held(lock: Path) -> bool:
    import fcntl

    if not lock.exists():
        return False
    with open(lock) as f:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(f, fcntl.LOCK_UN)
        return False


def test_a_concurrent_run_is_refused_and_ctrl_c_leaves_nothing(tmp_path, capsys):
    out = tmp_path / "r"
    first = subprocess.Popen([*SIM, "run", "baseline", "--population", "200000", "--out", str(out)], cwd=ROOT,
                             start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    try:
        while not lock_held(tmp_path / ".r.lock"):  # the first run holds the lock while it simulates
            assert first.poll() is None, first.stderr.read()
            assert time.monotonic() < deadline, "the first run never took the lock"
            time.sleep(0.01)
        assert main(["run", "baseline", *SMALL, "--out", str(out)]) == 2
        assert "another sim is writing this folder" in err_line(capsys)
        os.killpg(first.pid, signal.SIGINT)
        _, err = first.communicate(timeout=60)
    finally:
        if first.poll() is None:
            os.killpg(first.pid, signal.SIGKILL)
    assert first.returncode == 130 and err.strip() == "interrupted", err
    assert sorted(p.name for p in tmp_path.iterdir()) == []  # no folder, no temporary sibling, no lock file


def test_a_run_refuses_a_sweep_folder_and_files_it_did_not_write(tmp_path, capsys):
    sweep = tmp_path / "sweep"
    sweep.mkdir()
    (sweep / "experiment.json").write_text("{}")
    assert main(["run", "baseline", *SMALL, "--out", str(sweep)]) == 2
    assert "is a sim sweep folder (has experiment.json)" in err_line(capsys)
    assert sorted(p.name for p in sweep.iterdir()) == ["experiment.json"]
    home = tmp_path / "home"
    home.mkdir()
    (home / "thesis.tex").write_text("precious")
    assert main(["run", "baseline", *SMALL, "--out", str(home)]) == 2
    assert "did not write (e.g. thesis.tex)" in err_line(capsys)
    assert (home / "thesis.tex").read_text() == "precious"


def test_a_sweep_refuses_a_run_folder(tmp_path, capsys):
    out = tmp_path / "r"
    assert main(["run", "baseline", *SMALL, "--strategies", "open", "--out", str(out)]) == 0
    capsys.readouterr()
    assert main(["sweep", "smoke", "--out", str(out), "--workers", "1"]) == 2
    assert "is a sim run folder" in err_line(capsys)


# --- 8, 9, 18. messages -----------------------------------------------------------------------------------------


def test_a_set_typo_blames_the_command_line_and_suggests_the_key(capsys):
    assert main(["show", "baseline", "--set", "license.mau_treshold=1e8"]) == 2
    assert err_line(capsys) == ("--set license.mau_treshold: unknown key; did you mean license.mau_threshold?")


def test_a_file_typo_names_the_nearest_sibling_key(tmp_path, capsys):
    bad = write(tmp_path, "s.yaml", "extends: baseline\nname: x\nlicense:\n  mau_treshold: 1\n")
    assert main(["validate", str(bad)]) == 2
    assert err_line(capsys) == f"{bad}: license.mau_treshold: unknown key; did you mean license.mau_threshold?"
    bad = write(tmp_path, "e.yaml", "extends: baseline\nname: x\nevents:\n  - date: 2024-06\n"
                                    "    set: {license.mau_treshold: 1}\n")
    assert main(["validate", str(bad)]) == 2
    assert err_line(capsys).endswith("did you mean license.mau_threshold?")


def test_an_experiment_typo_names_the_nearest_key(tmp_path, capsys):
    bad = write(tmp_path, "exp.yaml", SWEEP.replace("replications: 4", "replicatons: 4"))
    assert main(["validate", str(bad)]) == 2
    assert err_line(capsys) == f"{bad}: replicatons: unknown key; did you mean replications?"


@pytest.mark.parametrize(("date", "where"), [("2035-06", "after the horizon"), ("2020-01", "before the start")])
def test_events_outside_the_run_are_refused(tmp_path, capsys, date, where):
    bad = write(tmp_path, "s.yaml", f"extends: baseline\nname: x\nevents:\n  - date: {date}\n"
                                    "    set: {license.mau_threshold: 1}\n")
    assert main(["validate", str(bad)]) == 2
    line = err_line(capsys)
    assert line.startswith(f"{bad}: events[0].date: {date} is {where}") and "2023-01 to 2027-12" in line


def test_shortening_the_horizon_past_an_event_blames_the_option(capsys):
    assert main(["show", "gpt5_leap", "--set", "horizon_months=12"]) == 2
    assert err_line(capsys).startswith("--set horizon_months: events[0].date: 2025-08 is after the horizon")


def test_a_full_date_asks_for_the_year_month_form(tmp_path, capsys):
    bad = write(tmp_path, "s.yaml", "extends: baseline\nname: x\nevents:\n  - date: 2025-06-01\n"
                                    "    set: {license.mau_threshold: 1}\n")
    assert main(["validate", str(bad)]) == 2
    assert "date must be YYYY-MM, got '2025-06-01'" in err_line(capsys)


def test_a_metric_past_the_horizon_is_not_reported(tmp_path, capsys):
    out = tmp_path / "r"
    assert main(["run", "baseline", "--population", "200", "--set", "horizon_months=1", "--out", str(out)]) == 0
    assert "Llama tokens m24" not in capsys.readouterr().out
    assert pd.read_csv(out / "summary.csv")["llama_token_share_m24"].isna().all()


@pytest.mark.parametrize("argv", [
    ["validate", "{file}"],
    ["show", "baseline", "--set", "meta.strategy=" + "x" * 10_000],
    ["show", "baseline", "--set", "x" * 10_000 + "=1"],
    ["run", "baseline", "--population", "9" * 10_000],
    ["show", "y" * 10_000],
])
def test_a_hostile_value_is_never_echoed_whole(tmp_path, capsys, argv):
    hostile = write(tmp_path, "s.yaml", "extends: " + "a" * 10_000 + "\n")
    assert main([a.replace("{file}", str(hostile)) for a in argv]) == 2
    assert len(err_line(capsys)) < 300


# --- 3, 4, 10. Ctrl-C and the dashboard's port ------------------------------------------------------------------




def test_ctrl_c_on_sweep_is_one_line_and_resumable(tmp_path):
    path = write(tmp_path, "exp.yaml", SWEEP)
    out = tmp_path / "sweep"
    cmd = [*SIM, "sweep", str(path), "--out", str(out), "--workers", "2"]
    proc = subprocess.Popen(cmd, cwd=ROOT, start_new_session=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    deadline = time.monotonic() + 120
    try:
        while not list((out / "parts").glob("*.parquet")):
            assert proc.poll() is None, proc.stderr.read()
            assert time.monotonic() < deadline, "sweep made no progress"
            time.sleep(0.01)
        os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C on a terminal does: the whole process group
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert proc.returncode == 130, err
    assert err.count("\n") == 1 and "interrupted" in err and "--resume" in err, err
    done = len(stored_runs(out))
    assert 1 <= done < SWEEP_RUNS and not (out / "results.parquet").exists()
    resumed = subprocess.run([*cmd, "--resume"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stderr
    assert f"resuming: {done} of {SWEEP_RUNS}" in resumed.stderr
    assert len(pd.read_parquet(out / "results.parquet")) == SWEEP_RUNS


@pytest.mark.parametrize("start", ["fork", "spawn"])
def test_workers_ignore_sigint_so_only_the_coordinator_handles_it(tmp_path, capfd, start):
    """Deterministic half of the test above: SIGINT sent to every worker, busy or idle, forked or spawned, changes
    nothing."""
    import multiprocessing

    from sim.experiments import load_experiment, run_sweep
    from sim.experiments.local import ProcessPoolEvaluator

    path = write(tmp_path, "exp.yaml", TINY)
    sent = []

    def interrupt_workers(n):
        for p in multiprocessing.active_children():
            if p.name.startswith(f"{start.capitalize()}Process"):
                os.kill(p.pid, signal.SIGINT)
                sent.append(p.pid)

    result = run_sweep(load_experiment(path), tmp_path / "out", evaluator=ProcessPoolEvaluator(2, start=start),
                       on_progress=interrupt_workers)
    assert sent and len(result.results) == SWEEP_RUNS
    assert "Traceback" not in capfd.readouterr().err


def test_dashboard_on_a_port_in_use_is_refused_before_starting(capsys):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert main(["dashboard", "--port", str(port)]) == 2
    assert err_line(capsys) == (f"sim: --port: {port} is already in use on 127.0.0.1; choose another --port "
                                "(or set PORT)")


# --- 15, 16. help, version, listing, analyze ------------------------------------------------------------------


def all_actions(parser: argparse.ArgumentParser, prefix: str = "sim"):
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from all_actions(sub, f"{prefix} {name}")
        elif not isinstance(action, argparse._HelpAction):
            yield prefix, action


def test_every_argument_has_help():
    missing = [f"{cmd} {a.dest}" for cmd, a in all_actions(build_parser()) if not a.help]
    assert missing == []
    helps = {(cmd, a.dest): a.help for cmd, a in all_actions(build_parser())}
    for cmd, default in (("sim run", "1"), ("sim compare", "3")):
        assert f"(default {default})" in helps[(cmd, "replications")]


def test_version_comes_from_the_package_metadata(capsys):
    from importlib.metadata import version

    assert main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"sim {version('llm-market-sim')}"


def test_list_wraps_descriptions_instead_of_cutting_them(capsys):
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    assert "…" not in out and max(len(line) for line in out.splitlines()) <= 120
    assert "enter with their Chatbot Arena score at release (OpenAI" in " ".join(out.split())  # the sentence, whole


def test_analyze_prints_the_paired_summary(tmp_path, capsys):
    out = tmp_path / "smoke"
    assert main(["sweep", "smoke", "--out", str(out), "--workers", "1"]) == 0
    assert not (out / "paired_deltas.csv").exists()  # the sweep writes results.parquet only
    capsys.readouterr()
    assert main(["analyze", str(out)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("npv.meta, open - closed: mean ") and "[95% CI " in lines[0]
    assert "open ahead at " in lines[0] and " of 4 points" in lines[0]
    assert lines[1].startswith("npv.meta, open - absent: mean ")


def test_the_licence_is_an_spdx_string():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert project["project"]["license"] == "MIT"  # a TOML table is deprecated by setuptools >= 77
    assert any(r.startswith("setuptools>=77") for r in project["build-system"]["requires"])


def test_run_records_its_set_overrides_for_the_report_titles(tmp_path):
    import yaml

    from sim.results import RunResults

    out = tmp_path / "r"
    assert main(["run", "baseline", "--population", "300", "--strategies", "open", "--set", "horizon_months=6",
                 "--set", "license.mau_threshold=1e8", "--out", str(out)]) == 0
    assert yaml.safe_load((out / "overrides.yaml").read_text()) == ["horizon_months=6", "license.mau_threshold=1e8"]
    assert RunResults.read(out).overrides == ["horizon_months=6", "license.mau_threshold=1e8"]


# --- names that miss: one line with the closest name; decision files validated by their own kind ----------------


@pytest.mark.parametrize("argv, expected", [
    (["run", "baselin", "--out", "x"], "did you mean baseline?"),
    (["sweep", "smok", "--out", "x"], "did you mean smoke?"),
    (["game", "smoke", "--out", "x"], "is a sweep file, not game: run it with sim sweep (game files: llm_market_game"),
    (["optimize", "llm_market_game_smoke", "--out", "x"], "is a game file, not optimize: run it with sim game"),
])
def test_a_name_that_misses_gets_one_line_that_helps(tmp_path, capsys, argv, expected):
    argv = [*argv[:-1], str(tmp_path / argv[-1])]
    assert main(argv) == 2
    assert expected in err_line(capsys)


def test_validate_reads_game_and_policy_files_by_their_kind(capsys):
    assert main(["validate", "experiments/llm_market_game.yaml", "experiments/meta_policy_smoke.yaml"]) == 0
    out = capsys.readouterr().out
    assert "ok (game llm_market_game)" in out and "ok (optimize meta_policy_smoke)" in out


def test_no_lock_file_stays_behind_even_after_a_refused_command(tmp_path, capsys):
    """The lock's holder removes ``.NAME.lock`` before releasing it, on success and on refusal alike."""
    mine = tmp_path / "my_scenario.yaml"
    mine.write_text("name: mine\n")
    assert main(["run", "baseline", *SMALL, "--out", str(mine)]) == 2
    err_line(capsys)
    assert main(["run", "baseline", *SMALL, "--out", str(tmp_path / "r")]) == 0
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".lock")] == []


def test_run_prints_metas_value_as_paired_differences(tmp_path, capsys):
    out = tmp_path / "r"
    assert main(["run", "baseline", *SMALL, "--replications", "3", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "npv.meta sums only the AI-related lines of Meta's ledger" in printed
    summary = pd.read_csv(out / "summary.csv")
    wide = summary.pivot_table(index="replicate", columns="strategy", values="npv.meta") / 1e9
    line = next(x for x in printed.splitlines() if x.strip().startswith("open − absent"))
    assert f"strategic {(wide['open'] - wide['absent']).mean():+,.2f} [" in line and "reported AI P&L" in line
    assert not any(x.strip().startswith("absent − open") for x in printed.splitlines())
