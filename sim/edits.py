"""Edits to a live scenario during a run: dated events and the copy a run mutates.

The engine needs these and nothing else of the YAML loader (:mod:`sim.loading`), which checks the same edits at load
time by dry-running them; keeping them here means a run never imports the loader.
"""

from __future__ import annotations

from sim import paths
from sim.config import Event, Scenario

# What a dated event may change: the market and its players, not the run's set-up or Meta's strategy (which
# defines the counterfactual being compared).
EVENT_ROOTS = ("adoption", "choice", "market", "providers", "meta", "community", "license", "regulation")
FIXED_FOR_A_RUN = ("meta.strategy", "meta.releases", "adoption.initial_adopted")  # read once, at the start
FIXED_LEAVES = ("first_release", "releases")


def check_event_path(dotted: str) -> None:
    """TypeError for a path an event may not edit: outside EVENT_ROOTS, or read only at the start of a run."""
    fixed = dotted.startswith(FIXED_FOR_A_RUN) or any(part in FIXED_LEAVES for part in dotted.split("."))
    if dotted.split(".")[0] not in EVENT_ROOTS or fixed:
        raise TypeError(f"{dotted!r} cannot change during a run; events may edit {', '.join(EVENT_ROOTS)} "
                        f"(except {', '.join(FIXED_FOR_A_RUN + FIXED_LEAVES)})")


def apply_event(scenario: Scenario, event: Event) -> None:
    """Apply one event's set/add/multiply edits in place; raises KeyError, TypeError or ValidationError."""
    for dotted in (*event.set, *event.add, *event.multiply):
        check_event_path(dotted)
    for dotted, value in event.set.items():
        paths.put(scenario, dotted, value)
    for op, edits in (("add", event.add), ("multiply", event.multiply)):
        for dotted, value in edits.items():
            parent, key = paths.parent(scenario, dotted)
            current = parent.get(key, 0.0) if isinstance(parent, dict) else paths.child(parent, key)
            if isinstance(current, bool) or not isinstance(current, (int, float)):
                raise TypeError(f"{op} needs a number, the field holds {type(current).__name__}")
            new = current + value if op == "add" else current * value
            if isinstance(current, int) and float(new).is_integer():
                new = int(new)
            paths.put(scenario, dotted, new)


def scenario_copy(scenario: Scenario) -> Scenario:
    """A deep copy the model can mutate with events without touching the caller's config: dumped to plain data and
    validated again, which costs less than half of ``copy.deepcopy`` on pydantic models (a sweep copies the scenario
    once per run) and re-checks a scenario its caller edited by hand."""
    return type(scenario).model_validate(scenario.model_dump())
