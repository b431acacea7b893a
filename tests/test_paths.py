"""sim.paths: the one dotted-path walk, over live scenarios, plain data and the schema classes."""

from __future__ import annotations

import pickle

import pytest

from sim import paths
from sim.config import Scenario


def scenario() -> Scenario:
    return Scenario(name="t", description="paths", seed=0)


def test_get_and_parent_walk_models_lists_and_mappings():
    s = scenario()
    assert paths.get(s, "providers.openai.flywheel.strength") == s.providers.openai.flywheel.strength
    assert paths.get(s, "market.open_gap.0.elo") == s.market.open_gap[0].elo
    data = s.model_dump(mode="json")
    assert paths.get(data, "market.open_gap.0.elo") == s.market.open_gap[0].elo
    node, key = paths.parent(s, "license.mau_threshold")
    assert node is s.license and key == "mau_threshold"


def test_a_missing_path_says_where_it_stops_and_survives_pickling():
    with pytest.raises(paths.NoSuchPath) as caught:
        paths.get(scenario(), "providers.openai.nonsense.x")
    exc = caught.value
    assert isinstance(exc, KeyError) and exc.args[0] == "providers.openai.nonsense.x" and exc.at == 2
    again = pickle.loads(pickle.dumps(exc))
    assert (again.dotted, again.at) == (exc.dotted, exc.at)
    with pytest.raises(paths.NoSuchPath):
        paths.get({"a": {"b": 1}}, "a.b", mappings=False)


def test_put_validates_and_set_in_data_creates_sections():
    s = scenario()
    paths.put(s, "license.mau_threshold", 5.0e8)
    assert s.license.mau_threshold == 5.0e8
    with pytest.raises(KeyError):
        paths.put(s, "market.open_gap.0", 1)
    data: dict = {"a": [{"x": 1}], "v": 2}
    paths.set_in_data(data, "a.0.x", 3)
    paths.set_in_data(data, "new.deep", 4)
    assert data == {"a": [{"x": 3}], "v": 2, "new": {"deep": 4}}
    for dotted, prefix, message in (("v.w", "v", "is a value, not a section"), ("a.5.x", "a.5", "no such list item"),
                                    ("a.x", "a.x", "no such list item")):
        with pytest.raises(paths.PathError) as caught:
            paths.set_in_data(data, dotted, 0)
        assert (caught.value.path, caught.value.message) == (prefix, message)


def test_field_at_reads_the_schema_class():
    info, annotation = paths.field_at(Scenario, "providers.openai.flywheel.strength".split("."))
    assert annotation is float and paths.bounds(info) == (0, 1000)
    assert paths.unit_and_meaning(info.description)[0] == "Elo"
    assert paths.field_at(Scenario, ["market", "open_gap", "0"])[0] is None
    with pytest.raises(KeyError):
        paths.field_at(Scenario, ["meta", "switch", "date"])  # a union: the strict walk does not enter it
    assert "date" in paths.model_fields_at(Scenario, ("events", 0, "bogus"))  # a validation error's location
    assert paths.model_fields_at(Scenario, ("nonsense", "x")) == []
    assert paths.leaves({"a": {"b": 1, "c": [2]}}) == {"a.b": 1, "a.c": [2]}
