"""Scenario files: every bad input is one clean error naming the file and field; hostile files fail fast."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim.cli import main
from sim.config import Scenario
from sim.errors import ConfigError
from sim.loading import load_scenario
from tests.helpers import run_model, write

MINIMAL = "name: t\ndescription: a test\nseed: 1\n"


def cli_error(capsys, args) -> str:
    code = main(args)
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert "\n" not in err and "Traceback" not in err
    return err


@pytest.mark.parametrize(
    "body, field",
    [
        ("populaton: {n: 10}\n", "populaton"),
        ("population: {n: ten}\n", "population.n"),
        ("population: {n: -5}\n", "population.n"),
        ("start: 2023-13\n", "start"),
        ("start: January\n", "start"),
        ("adoption: {bass_p: -1}\n", "adoption.bass_p"),
        ("license: {enabled: maybe}\n", "license.enabled"),
        ("meta: {strategy: sometimes}\n", "meta.strategy"),
        ("events: [{date: 2024-01, add: {providers.openai.nonexistent: 5}}]\n", "events[0]"),
        ("events: [{date: 2024-01, set: {adoption.rechoice_rate: 7}}]\n", "events[0].rechoice_rate"),
        ("horizon_months: 100000\n", "horizon_months"),
    ],
)
def test_bad_fields_give_one_line_naming_the_field(tmp_path, capsys, body, field):
    path = write(tmp_path, "bad.yaml", MINIMAL + body)
    err = cli_error(capsys, ["validate", str(path)])
    assert err.startswith(f"{path}: {field}")


def test_missing_required_key(tmp_path, capsys):
    path = write(tmp_path, "bad.yaml", "name: t\nseed: 1\n")
    assert "description" in cli_error(capsys, ["validate", str(path)])


def test_missing_extends_target(tmp_path, capsys):
    path = write(tmp_path, "child.yaml", MINIMAL + "extends: no_such_scenario_anywhere\n")
    err = cli_error(capsys, ["validate", str(path)])
    assert err.startswith(f"{path}: extends:") and "no_such_scenario_anywhere" in err


def test_cyclic_extends(tmp_path, capsys):
    write(tmp_path, "a.yaml", MINIMAL + "extends: b.yaml\n")
    write(tmp_path, "b.yaml", MINIMAL + "extends: a.yaml\n")
    err = cli_error(capsys, ["validate", str(tmp_path / "a.yaml")])
    assert "extends" in err and "cyclic" in err


def test_extends_deep_merges_and_lists_replace(tmp_path):
    path = write(tmp_path, "child.yaml", "extends: baseline\nname: child\npopulation: {n: 1234}\n"
                                         "market: {open_gap: [{date: 2023-01, elo: 10}]}\n")
    s = load_scenario(path)
    base = load_scenario("baseline")
    assert s.population.n == 1234 and s.population.represents == base.population.represents
    assert len(s.market.open_gap) == 1 and s.description == base.description


def test_malformed_yaml_and_non_mapping(tmp_path, capsys):
    assert "line" in cli_error(capsys, ["validate", str(write(tmp_path, "m.yaml", "a: [1, 2\n"))])
    assert "mapping" in cli_error(capsys, ["validate", str(write(tmp_path, "l.yaml", "- 1\n- 2\n"))])


def test_custom_tags_are_rejected(tmp_path, capsys):
    path = write(tmp_path, "tag.yaml", MINIMAL + "x: !!python/object/apply:os.system ['echo pwned']\n")
    assert "invalid YAML" in cli_error(capsys, ["validate", str(path)])


def test_alias_bomb_is_rejected_fast(tmp_path, capsys):
    lines = ['a0: &a0 ["x", "x", "x", "x", "x", "x", "x", "x", "x", "x"]']
    for i in range(1, 10):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i-1}"] * 10) + "]")
    path = write(tmp_path, "bomb.yaml", MINIMAL + "\n".join(lines) + "\n")
    t0 = time.perf_counter()
    err = cli_error(capsys, ["validate", str(path)])
    assert "alias expansion" in err and time.perf_counter() - t0 < 5


def test_huge_file_and_huge_population_are_rejected(tmp_path, capsys):
    big = write(tmp_path, "big.yaml", MINIMAL + "description: '" + "x" * (2 << 20) + "'\n")
    assert "limit" in cli_error(capsys, ["validate", str(big)])
    path = write(tmp_path, "pop.yaml", MINIMAL + "population: {n: 10000000000}\n")
    assert "population.n" in cli_error(capsys, ["validate", str(path)])


def test_bad_set_override_and_strategy(capsys):
    assert "adoption.bass_q" in cli_error(capsys, ["run", "baseline", "--set", "adoption.bass_q=-3"])
    assert "--strategies" in cli_error(capsys, ["run", "baseline", "--strategies", "open,sideways"])


def test_module_entry_point_exits_2_without_traceback(tmp_path):
    path = write(tmp_path, "bad.yaml", MINIMAL + "population: {n: -1}\n")
    proc = subprocess.run([sys.executable, "-m", "sim", "validate", str(path)], capture_output=True, text=True,
                          stdin=subprocess.DEVNULL, timeout=120)
    assert proc.returncode == 2
    assert proc.stderr.strip().count("\n") == 0 and "population.n" in proc.stderr and "Traceback" not in proc.stderr


def test_events_are_applied_in_their_month(tmp_path):
    path = write(tmp_path, "leap.yaml", "extends: baseline\nhorizon_months: 14\npopulation: {n: 500}\n"
                                        "events: [{date: 2024-01, add: {providers.openai.quality_bonus: 300}}]\n")
    s = load_scenario(path)
    seen = []
    run_model(s, "open", each_month=lambda m: seen.append(m.labs[0].quality - m.labs[0].release_quality))
    assert max(seen[:12]) < 150 <= min(seen[12:])


# ---- fuzzing ------------------------------------------------------------------------------------------------------

scalars = st.one_of(st.none(), st.booleans(), st.integers(-10**12, 10**12), st.floats(allow_nan=True),
                    st.text(max_size=20))
keys = st.sampled_from(["name", "description", "seed", "start", "horizon_months", "population", "n", "adoption",
                        "bass_p", "bass_q", "license", "enabled", "meta", "strategy", "events", "date", "extends",
                        "choice", "brand", "openai", "set", "add", "x"]) | st.text(max_size=8)
documents = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(keys, inner, max_size=5),
                         max_leaves=25)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(doc=documents)
def test_random_documents_give_clean_error_or_valid_config(tmp_path, doc):
    if isinstance(doc, dict) and "extends" in doc:
        doc["extends"] = "baseline" if isinstance(doc["extends"], str) else doc["extends"]
    path = tmp_path / "fuzz.yaml"
    path.write_text(yaml.safe_dump(doc))
    try:
        assert isinstance(load_scenario(path), Scenario)
    except ConfigError as exc:
        assert str(exc).startswith(str(path)) and "\n" not in str(exc)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.text(max_size=200))
def test_random_text_gives_clean_error_or_valid_config(tmp_path, text):
    path = tmp_path / "fuzz.yaml"
    path.write_text(text, encoding="utf-8")
    try:
        assert isinstance(load_scenario(path), Scenario)
    except ConfigError as exc:
        assert "\n" not in str(exc)


def test_partial_section_keeps_sibling_defaults(tmp_path):
    """Deep merge reaches the schema's defaults: overriding one flywheel number keeps OpenAI's own price path."""
    path = write(tmp_path, "fw.yaml", MINIMAL + "providers: {openai: {flywheel: {strength: 0}}}\n"
                                               "choice: {brand: {google: -1}}\n")
    s, default = load_scenario(path), Scenario(name="d", description="d", seed=1)
    assert s.providers.openai.flywheel.strength == 0
    assert s.providers.openai.price == default.providers.openai.price
    assert s.providers.openai.lead == default.providers.openai.lead
    assert s.choice.brand.google == -1 and s.choice.brand.openai == default.choice.brand.openai


def test_yaml_12_floats(tmp_path):
    s = load_scenario(write(tmp_path, "f.yaml", MINIMAL + "license: {mau_threshold: 1e7}\n"))
    assert s.license.mau_threshold == 1e7


@pytest.mark.parametrize("path", ["meta.strategy", "population.n", "seed", "horizon_months"])
def test_events_cannot_change_the_set_up_of_a_run(tmp_path, capsys, path):
    body = MINIMAL + f"events: [{{date: 2024-01, set: {{{path}: 3}}}}]\n"
    err = cli_error(capsys, ["validate", str(write(tmp_path, "e.yaml", body))])
    assert err.startswith(f"{tmp_path / 'e.yaml'}: events[0]") and "cannot change" in err


def test_parameter_catalogue_documents_every_parameter(capsys):
    from sim.params import catalogue, numeric_parameter

    rows = catalogue()
    assert len(rows) > 100 and all(p.meaning for p in rows)
    thr = numeric_parameter("license.mau_threshold")
    assert thr.default == 7e8 and thr.unit == "users/month" and thr.low == 0
    assert main(["params", "baseline", "--filter", "bass_p"]) == 0
    assert "adoption.bass_p" in capsys.readouterr().out


@pytest.mark.parametrize("body, field", [
    ("population: {n: 10}\npopulation: {n: 20}\n", "line 5"),
    ("population: {represents: 2}\n", "population"),
    ("market: {open_gap: [{date: 2024-12, elo: 60}, {date: 2023-01, elo: 190}]}\n", "market.open_gap"),
])
def test_duplicate_keys_tiny_markets_and_unordered_gaps_are_errors(tmp_path, capsys, body, field):
    path = write(tmp_path, "bad.yaml", MINIMAL + body)
    assert cli_error(capsys, ["validate", str(path)]).startswith(f"{path}: {field}")


def test_scenario_names_cannot_escape_the_results_folder(tmp_path, capsys):
    path = write(tmp_path, "bad.yaml", "name: ../../escape\ndescription: d\nseed: 1\n")
    assert cli_error(capsys, ["validate", str(path)]).startswith(f"{path}: name")


def test_set_reaches_into_default_lists_and_a_folder_does_not_hide_a_preset(tmp_path, monkeypatch):
    s = load_scenario("baseline", ["population.giants.0.mau=1e9", "providers.openai.price.schedule.0.price=33"])
    assert s.population.giants[0].mau == 1e9 and s.providers.openai.price.schedule[0].price == 33
    monkeypatch.chdir(tmp_path)
    (tmp_path / "baseline").mkdir()
    assert load_scenario("baseline").name == "baseline"


@pytest.mark.parametrize("args", [
    ["run", "baseline", "--population", "abc"],
    ["run", "baseline", "--replications", "0"],
    ["plot", ".", "--dpi", "0"],
    ["analyze", ".", "--bootstrap", "50000000"],
])
def test_bad_command_line_values_are_one_line(capsys, args):
    cli_error(capsys, args)


def test_an_output_path_that_is_a_file_is_a_clean_error(tmp_path, capsys):
    blocker = write(tmp_path, "taken", "")
    err = cli_error(capsys, ["run", "baseline", "--population", "300", "--set", "horizon_months=3",
                             "--strategies", "open", "--out", str(blocker)])
    assert str(blocker) in err


def test_damaged_result_folders_are_clean_errors(tmp_path, capsys):
    bad = tmp_path / "sweep"
    bad.mkdir()
    write(bad, "experiment.json", "{bad")
    write(bad, "results.parquet", "not parquet")
    assert "cannot be read" in cli_error(capsys, ["analyze", str(bad)])
    run = tmp_path / "run"
    run.mkdir()
    assert "not found" in cli_error(capsys, ["plot", str(run)])
    assert "not found" in cli_error(capsys, ["report", str(run)])


def test_default_tree_is_the_schema_defaults_and_a_fresh_copy_each_call():
    """The defaults are built once and handed out as copies: editing one (as merging a file may) leaves the next."""
    from sim.loading import default_tree

    providers = Scenario.model_fields["providers"].get_default(call_default_factory=True)
    tree = default_tree()
    assert tree["providers"] == providers.model_dump()
    tree["providers"]["openai"]["flywheel"]["strength"] = -1.0
    tree["consumer"]["attention_at_risk"].clear()
    again = default_tree()
    assert again["providers"]["openai"]["flywheel"]["strength"] == providers.openai.flywheel.strength
    assert again["consumer"]["attention_at_risk"]


def test_a_name_too_long_for_the_file_system_is_a_config_error(tmp_path):
    """The Python API gets a ConfigError, not the file system's OSError, for an extends or a name too long."""
    from sim.api import load

    child = tmp_path / "child.yaml"
    child.write_text("extends: " + "x" * 5000 + "\nname: c\n")
    with pytest.raises(ConfigError, match="extends"):
        load(str(child))
    with pytest.raises(ConfigError) as err:
        load("y" * 5000)
    assert len(str(err.value)) < 300
    from sim.experiments import load_experiment

    with pytest.raises(ConfigError) as err:
        load_experiment("z" * 5000)
    assert len(str(err.value)) < 300
