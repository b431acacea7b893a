"""The backtest (sim/calibration/backtest.py, scripts/backtest.py) runs end to end on a small population: it fits on
targets observed by the cut-off only and forecasts every later one beside persistence and trend."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from sim.calibration import read_targets
from sim.calibration.backtest import backtest, naive, split
from sim.loading import load_scenario

ROOT = Path(__file__).resolve().parents[1]
TARGETS = ROOT / "calibration" / "targets_2023_2024.yaml"


def test_the_split_keeps_every_fitted_target_at_or_before_the_cutoff():
    spec = read_targets(TARGETS)
    before, after = split(spec, "2023-01", "2023-12")
    assert before and after and len(before) + len(after) == len(spec.targets)
    assert all(t.months("2023-01")[1] <= 11 for t in before) and all(t.months("2023-01")[1] > 11 for t in after)


def test_naive_forecasts_carry_the_last_value_and_the_last_slope():
    spec = read_targets(TARGETS)
    by_name = {t.name: t for t in spec.targets}
    aug = by_name["chatgpt_users_aug2024"]
    persist, trend = naive(by_name["chatgpt_users_dec2024"], [by_name["chatgpt_users_nov2023"], aug], "2023-01")
    assert persist == aug.value
    assert trend == pytest.approx(2e8 + (2e8 - 1e8) / 9 * 4)  # +100M over Nov 2023 -> Aug 2024, 4 months on


def test_the_backtest_forecasts_every_later_target(tmp_path):
    table, summary = backtest(load_scenario("baseline"), read_targets(TARGETS), "2023-12", population=600, seeds=1,
                              lhs_points=1, max_evaluations=3)
    assert summary["forecast_targets"] == len(table) > 5 and summary["parameters"] > 5
    assert np.isfinite(table["forecast"]).all() and set(table["date"]).isdisjoint({"2023-11"})


def test_the_backtest_command_runs():
    out = subprocess.run([sys.executable, str(ROOT / "scripts" / "backtest.py"), "--population", "500", "--seeds",
                          "1", "--lhs-points", "1", "--max-evaluations", "2"], capture_output=True, text=True,
                         timeout=600)
    assert out.returncode == 0, out.stderr
    assert "| target |" in out.stdout and "persistence" in out.stdout
