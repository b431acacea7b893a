"""What a decision run needs in a worker: the sweep's run context plus menus, so a run's values can name choices.

A sweep's run carries one float per swept parameter. A decision run carries, for each lever or player, either a
number (a ranged lever) or the index of a menu item, where an item is a set of dotted overrides (a categorical
lever's choice, a player's action). Everything else, the evaluators, the Parquet parts and the manifest, is the
sweep machinery's (:mod:`sim.experiments`).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from sim.experiments.runs import RunContext
from sim.loading import set_in_dict, validate_scenario

Overrides = tuple[tuple[str, Any], ...]


@dataclass(frozen=True)
class DecisionContext(RunContext):
    """``menus[j]`` is None for a numeric value, else the override sets that value ``j`` indexes."""

    menus: tuple[tuple[Overrides, ...] | None, ...] = ()

    def scenario_at(self, values: tuple[float, ...]):
        """The scenario with one run's values applied: numbers set at their paths, menu indices replaced by
        their items' overrides."""
        data = copy.deepcopy(self.base)
        menus = self.menus or (None,) * len(self.names)
        for name, value, is_int, menu in zip(self.names, values, self.integer, menus, strict=True):
            if menu is None:
                set_in_dict(data, name, int(round(value)) if is_int else float(value), self.scenario_file)
            else:
                for path, choice in menu[int(value)]:
                    set_in_dict(data, path, choice, self.scenario_file)
        return validate_scenario(data, self.scenario_file)
