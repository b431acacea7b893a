"""The notebook API (sim.load / run / read / plot) and its documentation, executed as written."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from matplotlib.figure import Figure

import sim
from sim.cli import main
from sim.errors import ConfigError

DOC = Path(__file__).resolve().parent.parent / "docs" / "python-api.md"


def test_import_sim_is_fast_and_light():
    code = "import sys, sim; print(sorted(m for m in ('numpy', 'pandas', 'matplotlib', 'mesa') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"  # the heavy libraries load on first use, not on import
    assert set(sim.__all__) == {"load", "run", "read", "plot"}


def test_load_takes_overrides_as_keywords_or_a_mapping():
    a = sim.load("baseline", **{"license.mau_threshold": 1e8}, horizon_months=12)
    b = sim.load("baseline", set={"license.mau_threshold": 1e8, "horizon_months": 12})
    assert a == b and a.license.mau_threshold == 1e8 and a.horizon_months == 12
    assert sim.load("baseline", population=700, seed=5).population.n == 700
    assert sim.load("baseline", **{"meta.strategy": "closed"}).meta.strategy == "closed"  # strings stay strings
    with pytest.raises(ConfigError):
        sim.load("baseline", horizon_months=-3)


def test_run_returns_the_tables_sim_run_writes(tmp_path):
    scenario = sim.load("baseline", horizon_months=6)
    results = sim.run(scenario, strategies="open,absent", replications=2, population=400)
    assert main(["run", "baseline", "--set", "horizon_months=6", "--population", "400", "--replications", "2",
                 "--strategies", "open,absent", "--out", str(tmp_path / "r")]) == 0
    on_disk = sim.read(tmp_path / "r")
    assert list(results.summary.columns) == list(on_disk.summary.columns)
    assert list(results.timeseries.columns) == list(on_disk.timeseries.columns)
    assert results.summary["npv.meta"].tolist() == pytest.approx(on_disk.summary["npv.meta"].tolist())
    assert set(results.summary["strategy"]) == {"open", "absent"}
    with pytest.raises(ConfigError, match="strategies"):
        sim.run(scenario, strategies=["open", "shut"], population=400)
    with pytest.raises(ConfigError, match="replications"):
        sim.run(scenario, replications=0, population=400)


def test_plot_returns_figures():
    results = sim.run(sim.load("baseline", horizon_months=4), strategies=["open"], population=300)
    assert isinstance(sim.plot(results, kind="adoption"), Figure)
    figures = sim.plot(results)
    assert list(figures) == ["adoption", "tokens", "prices", "ledger", "profits", "strategies"]
    assert all(isinstance(f, Figure) for f in figures.values())
    assert isinstance(sim.plot([results, results]), Figure)
    with pytest.raises(ValueError, match="pie"):
        sim.plot(results, kind="pie")


def test_python_api_doc_runs_as_written(tmp_path, monkeypatch):
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(), flags=re.S)
    assert len(blocks) >= 4
    monkeypatch.chdir(tmp_path)  # the example saves ledger.png in the working folder
    namespace: dict = {}
    for block in blocks:
        exec(compile(block, str(DOC), "exec"), namespace)  # noqa: S102 - our own documentation
    assert (tmp_path / "ledger.png").stat().st_size > 1000
    assert len(namespace["summary"]) == 3 * 3  # three strategies x three replicates
    assert isinstance(namespace["comparison"], Figure)
    fig = namespace["comparison"]
    labels = {text for ax in fig.axes for text in ax.get_legend_handles_labels()[1]} | {
        t.get_text() for legend in fig.legends for t in legend.get_texts()}
    assert any("license.mau_threshold=1e+07" in text for text in labels), labels  # runs named by their overrides


def test_a_comparison_tells_runs_of_one_preset_apart():
    one = sim.run(sim.load("baseline", horizon_months=3), strategies=["open"], population=300)
    named = sim.api.labelled([one, one])
    assert [r.label for r in named] == [one.display_name, f"{one.display_name} (2)"] and one.label is None


def test_readme_python_example_runs_as_written():
    readme = DOC.parent.parent / "README.md"
    (block,) = re.findall(r"```python\n(.*?)```", readme.read_text(), flags=re.S)
    namespace: dict = {}
    exec(compile(block, str(readme), "exec"), namespace)  # noqa: S102 - our own documentation
    assert len(namespace["results"].summary) == 3 * 3
