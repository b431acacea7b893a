"""Defects of issue 25 in the command line, each with the test that failed before its fix: Ctrl-C inside numba (1),
sim compare into a folder it does not own (2), two sweeps into one folder (10), the run's adoption title and its
"wrote" line (12), and the readability of sim params, the validate-model table, the dashboard's first load and
the Ctrl-C line (16)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pandas as pd
import pytest

from sim.cli import main
from sim.io import folder_lock
from tests.helpers import free_port
from tests.test_experiments import TINY, TINY_RUNS

ROOT = Path(__file__).resolve().parent.parent
SIM = [sys.executable, "-m", "sim"]
SMALL = ["--population", "2000", "--set", "horizon_months=6"]


def err_line(capsys) -> str:
    """The one line a failing command printed on stderr."""
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    return err.strip()


def numba_interrupt() -> SystemError:
    """What CPython raises when Ctrl-C lands while a numba-compiled function is called: a SystemError (here two, as
    numba's own unpickling nests them) chained by __cause__ to the KeyboardInterrupt."""
    try:
        try:
            try:
                raise KeyboardInterrupt
            except KeyboardInterrupt as exc:
                raise SystemError("<function _numba_unpickle> returned a result with an exception set") from exc
        except SystemError as exc:
            raise SystemError("CPUDispatcher(<function gather>) returned a result with an exception set") from exc
    except SystemError as exc:
        return exc


def raising(exc: BaseException):
    def fail(*args, **kwargs):
        raise exc

    return fail


# --- 1. Ctrl-C inside a numba-compiled call ---------------------------------------------------------------------


def test_is_interrupt_follows_the_chain_to_ctrl_c_only():
    from sim.cli.common import is_interrupt

    assert is_interrupt(KeyboardInterrupt()) and is_interrupt(numba_interrupt())
    assert not is_interrupt(SystemError("a real bug")) and not is_interrupt(ValueError())
    try:
        raise SystemError("unrelated") from ValueError("x")
    except SystemError as exc:
        assert not is_interrupt(exc)


def test_ctrl_c_inside_numba_during_run_is_one_line_and_130(tmp_path, monkeypatch, capsys):
    import sim.cli.scenarios

    monkeypatch.setattr(sim.cli.scenarios, "run_paired", raising(numba_interrupt()))
    assert main(["run", "baseline", *SMALL, "--out", str(tmp_path / "r")]) == 130
    assert err_line(capsys) == "interrupted"
    assert sorted(p.name for p in tmp_path.iterdir()) == []  # no folder, no temporary sibling, no lock file


def test_ctrl_c_inside_numba_anywhere_in_main_is_one_line_and_130(monkeypatch, capsys):
    import sim.cli

    monkeypatch.setattr(sim.cli, "_main", raising(numba_interrupt()))
    assert main(["list"]) == 130
    assert err_line(capsys) == "interrupted"
    monkeypatch.setattr(sim.cli, "_main", raising(SystemError("a real bug")))
    with pytest.raises(SystemError, match="a real bug"):  # a genuine SystemError is not hidden as Ctrl-C
        main(["list"])


def test_ctrl_c_inside_numba_during_sweep_says_how_to_resume(tmp_path, monkeypatch, capsys):
    import sim.experiments

    exp = tmp_path / "exp.yaml"
    exp.write_text(TINY)
    monkeypatch.setattr(sim.experiments, "run_sweep", raising(numba_interrupt()))
    assert main(["sweep", str(exp), "--out", str(tmp_path / "s"), "--workers", "1"]) == 130
    line = err_line(capsys)
    assert "interrupted" in line and "--resume" in line


# --- 2. sim compare refuses a folder it does not own --------------------------------------------------------------


COMPARE = ["compare", "baseline", *SMALL, "--replications", "1", "--strategies", "open"]


def test_compare_refuses_a_folder_with_files_it_did_not_write(tmp_path, capsys, monkeypatch):
    import sim.cli.figures

    monkeypatch.setattr(sim.cli.figures, "run_paired", raising(AssertionError("refused before running")))
    mine = tmp_path / "thesis"
    mine.mkdir()
    (mine / "comparison.csv").write_text("my own table")
    (mine / "notes.txt").write_text("precious")
    assert main([*COMPARE, "--out", str(mine)]) == 2
    assert "holds files a sim compare did not write (e.g. notes.txt)" in err_line(capsys)
    assert (mine / "comparison.csv").read_text() == "my own table"
    assert sorted(p.name for p in mine.iterdir()) == ["comparison.csv", "notes.txt"]
    (mine / "notes.txt").unlink()
    (mine / "data").mkdir()  # a folder of the user's, not a sim run folder
    (mine / "data" / "raw.csv").write_text("x")
    assert main([*COMPARE, "--out", str(mine)]) == 2
    assert "did not write (e.g. data)" in err_line(capsys)
    sweep = tmp_path / "sweep"
    sweep.mkdir()
    (sweep / "experiment.json").write_text("{}")
    assert main([*COMPARE, "--out", str(sweep)]) == 2
    assert "is a sim sweep folder (has experiment.json)" in err_line(capsys)
    with folder_lock(tmp_path / "busy"):  # as another sim compare or run writing it
        assert main([*COMPARE, "--out", str(tmp_path / "busy")]) == 2
    assert "another sim is writing this folder" in err_line(capsys)
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".lock")] == []


def test_compare_rewrites_its_own_folder(tmp_path, capsys):
    out = tmp_path / "cmp"
    assert main([*COMPARE, "--out", str(out)]) == 0
    assert main([*COMPARE, "--out", str(out)]) == 0  # its own comparison files and run folder: replaced
    assert sorted(p.name for p in out.iterdir()) == ["baseline", "comparison.csv", "comparison.png", "comparison.svg"]
    assert list(pd.read_csv(out / "comparison.csv")["strategy"]) == ["open"]
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


# --- 10. one sweep per folder -------------------------------------------------------------------------------------


def test_a_second_sweep_on_a_folder_being_written_is_refused(tmp_path, capsys):
    exp = tmp_path / "exp.yaml"
    exp.write_text(TINY)
    out = tmp_path / "s"
    with folder_lock(out):  # as a first sim sweep holds it while it runs
        assert main(["sweep", str(exp), "--out", str(out), "--workers", "1", "--resume"]) == 2
        assert "another sim is writing this folder (lock .s.lock)" in err_line(capsys)
        assert not (out / "parts").exists()  # nothing ran, nothing was written
    assert main(["sweep", str(exp), "--out", str(out), "--workers", "1"]) == 0  # released: it runs
    assert len(pd.read_parquet(out / "results.parquet")) == TINY_RUNS
    assert not (tmp_path / ".s.lock").exists()  # and its own lock is gone once it finished


def test_the_sweep_store_holds_the_lock_while_open(tmp_path):
    from sim.errors import ConfigError
    from sim.experiments import load_experiment
    from sim.experiments.storage import SweepStore

    exp_file = tmp_path / "exp.yaml"
    exp_file.write_text(TINY)
    exp = load_experiment(exp_file)
    out = tmp_path / "s"
    store = SweepStore(out, exp.record(), exp.base, exp.design, list(exp.runs()), resume=False)
    try:
        with pytest.raises(ConfigError, match="another sim is writing this folder"):
            SweepStore(out, exp.record(), exp.base, exp.design, list(exp.runs()), resume=True)
    finally:
        store.close()
    SweepStore(out, exp.record(), exp.base, exp.design, list(exp.runs()), resume=True).close()
    assert not (tmp_path / ".s.lock").exists()


def _holds_inode(inode: int, answer) -> None:
    """In a child: whether any open descriptor refers to ``inode``."""
    found = False
    for fd in os.listdir("/proc/self/fd"):
        try:
            found |= os.stat(int(fd)).st_ino == inode
        except OSError:
            pass
    answer.put(found)


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="needs /proc")
def test_forked_workers_do_not_inherit_the_lock(tmp_path):
    """A sweep's workers are forked while the coordinator holds the folder's lock; were they to keep a copy of its
    descriptor, a worker outliving a killed coordinator would hold the lock and refuse every --resume."""
    import multiprocessing

    from sim.experiments.local import forking_quietly

    fork = multiprocessing.get_context("fork")
    answer = fork.Queue()
    with folder_lock(tmp_path / "s"):
        inode = (tmp_path / ".s.lock").stat().st_ino
        child = fork.Process(target=_holds_inode, args=(inode, answer))
        with forking_quietly():
            child.start()
        held = answer.get(timeout=30)
        child.join(timeout=30)
        assert child.exitcode == 0
    assert held is False


# --- 12. the run's adoption figure is titled as sim plot titles it ----------------------------------------------


def test_run_titles_adoption_with_its_overrides_and_lists_overrides_yaml(tmp_path, capsys, monkeypatch):
    import sim.io
    from sim.figures.run import RUN_FIGURES
    from sim.results import RunResults

    titles = {}
    save = sim.io.save_figure

    def recording(fig, target, **kwargs):
        titles[Path(target).parent.name + "/" + Path(target).name] = fig.get_suptitle()
        return save(fig, target, **kwargs)

    monkeypatch.setattr(sim.io, "save_figure", recording)
    out = tmp_path / "strict"
    assert main(["run", "baseline", *SMALL, "--strategies", "open", "--set", "license.mau_threshold=1e8",
                 "--out", str(out)]) == 0
    wrote = capsys.readouterr().out.strip().splitlines()[-1]
    assert wrote == (f"wrote {out}/timeseries.parquet, summary.csv, scenario.yaml, overrides.yaml, adoption.png, "
                     "adoption.svg")
    run_title = next(t for k, t in titles.items() if k.endswith("adoption.png"))
    assert "license.mau_threshold=1e8" in run_title and "horizon_months=6" in run_title
    assert RUN_FIGURES["adoption"](RunResults.read(out)).get_suptitle() == run_title  # as sim plot titles it


# --- 16. readable output ------------------------------------------------------------------------------------------


def test_params_has_a_header_and_compact_numbers(capsys):
    assert main(["params", "--filter", "license."]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["parameter", "default", "range", "unit", "meaning"]
    row = next(line for line in lines if line.startswith("license.mau_threshold "))
    assert row.split()[1:4] == ["7e8", "[0,", "1e12]"] and "1000000000000.0" not in row
    assert main(["params", "--filter", "seed"]) == 0
    assert "[0, 2^63-1]" in capsys.readouterr().out


def test_compact_numbers():
    from sim.params import compact, text_table

    assert [compact(v) for v in (1e12, 0.05, 3e6, 50000, 1.0, 1e-6, 1285.0, 33.2, 2**63 - 1, None, True, "x")] == \
        ["1e12", "0.05", "3e6", "50000", "1", "1e-6", "1285", "33.2", "2^63-1", "", "True", "x"]
    from sim.params import catalogue

    rows = [p for p in catalogue() if p.path.startswith("license.")]
    assert max(len(line) for line in text_table(rows, 100).splitlines()) <= 100  # wrapped to a terminal's width


def test_validate_model_table_fits_120_columns():
    from sim.cli.validation import format_table

    long = ("accounting: users (incl. none) sum to the rows' weights / to represents=3,000,000 firms, every month "
            "(5,000 rows), 3 strategies, max rel. error")
    table = pd.DataFrame([
        {"check": long, "expected": "0", "got": "0.0e+00 / 1.7e-08", "tolerance": "1e-09 / 1e-06 (float32 weights)",
         "passed": True},
        {"check": "bass: mean adoption path vs F+(p+qF)(1-F), p/12, q/12 (40 runs x 5,000)",
         "expected": "max_t |mean - F| <= tol and <= 4 SE_t", "got": "0.0028 (1.8 SE)",
         "tolerance": "0.0085 (SE <= 0.0021)", "passed": True},
        {"check": "pricing: closed price falls as the open gap shrinks (100 > 60 > 30 > 0 Elo)",
         "expected": "decreasing", "got": "6.075 > 5.187 > 4.690 > 4.320", "tolerance": "-", "passed": False},
        *({"check": f"logit (b): share option {k}, engine utilities", "expected": 0.5 + k / 100, "got": 0.5,
           "tolerance": "3 SE = 0.0020", "passed": True} for k in range(10)),
    ])
    text = format_table(table)
    lines = text.splitlines()
    assert max(len(line) for line in lines) <= 120
    assert lines[0].split() == ["check", "expected", "got", "tolerance", "pass"]
    words = " ".join(text.split())
    for word in long.split() + ["decreasing", "FAIL", "(float32", "weights)"]:
        assert word in words.split()  # every word kept whole, only wrapped
    assert sum(line.rstrip().endswith(("PASS", "FAIL")) for line in lines) == len(table)


def test_solara_cookie_warning_is_silenced_and_nothing_else(recwarn):
    import warnings

    from sim.dashboard import quiet_solara_warnings

    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        quiet_solara_warnings()
        warnings.warn_explicit("Cookies with samesite=none require https, but according to the asgi framework, "
                               "the scheme is 'http'", UserWarning, "starlette.py", 621,
                               module="solara.server.starlette")
        warnings.warn_explicit("something else", UserWarning, "starlette.py", 700, module="solara.server.starlette")
    assert [str(w.message) for w in seen] == ["something else"]




def test_dashboard_first_load_prints_no_warning_and_ctrl_c_is_one_line_exit_130():
    port = free_port()
    proc = subprocess.Popen([*SIM, "dashboard", "--port", str(port)], cwd=ROOT, start_new_session=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    try:
        while True:  # until the page is served: its first load is what warned
            assert proc.poll() is None, proc.stderr.read()
            assert time.monotonic() < deadline, "dashboard did not start"
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as page:
                    assert page.status == 200
                break
            except OSError:
                time.sleep(0.2)
        os.killpg(proc.pid, signal.SIGINT)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert proc.returncode == 130, err
    assert err.strip() == "sim dashboard: stopped", err  # no samesite cookie warning


def test_slider_values_have_room_above_their_slider():
    from sim.dashboard.app import SLIDER_VALUES_CSS

    assert "display:block" in SLIDER_VALUES_CSS and ".v-input__slider{padding-top:" in SLIDER_VALUES_CSS


def test_ctrl_c_on_a_run_says_the_old_folder_was_kept(tmp_path, monkeypatch, capsys):
    import sim.cli.scenarios

    out = tmp_path / "r"
    assert main(["run", "baseline", *SMALL, "--strategies", "open", "--out", str(out)]) == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    capsys.readouterr()
    monkeypatch.setattr(sim.cli.scenarios, "run_paired", raising(KeyboardInterrupt()))
    assert main(["run", "baseline", *SMALL, "--strategies", "open", "--out", str(out)]) == 130
    assert err_line(capsys) == f"interrupted; {out} was left as it was"
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    monkeypatch.setattr(sim.cli.scenarios, "run_paired", raising(numba_interrupt()))
    assert main(["run", "baseline", *SMALL, "--strategies", "open", "--out", str(out)]) == 130
    assert err_line(capsys) == f"interrupted; {out} was left as it was"
