"""Design points: a full-factorial grid, or samples of the unit hypercube mapped through each parameter's marginal.

Latin hypercube samples come from scipy.stats.qmc; Sobol' (Saltelli's scheme) and Morris trajectories from SALib,
whose analysis needs exactly its own sample layout, so the unit coordinates are kept beside the values.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

METHODS = ("grid", "lhs", "sobol", "morris")


@dataclass(frozen=True)
class Design:
    """``values[i, j]`` is parameter ``names[j]`` at design point ``i``; ``unit`` the sampler's [0, 1] coordinates."""

    method: str
    names: tuple[str, ...]
    values: np.ndarray
    unit: np.ndarray
    morris_levels: int = 4

    @property
    def size(self) -> int:
        """Number of design points."""
        return len(self.values)

    def salib_problem(self) -> dict:
        """The SALib problem the samples were drawn from: every parameter on [0, 1]."""
        return {"num_vars": len(self.names), "names": list(self.names), "bounds": [[0.0, 1.0]] * len(self.names)}


def n_points(method: str, specs: Mapping, size: int | None) -> int:
    """How many points a design will have, computed without building it (to refuse absurd designs first)."""
    d = len(specs)
    if method == "grid":
        return math.prod(len(spec.grid_values(size)) for spec in specs.values())
    if method == "lhs":
        return int(size or 0)
    if method == "sobol":
        return int(size or 0) * (d + 2)
    if method == "morris":
        return int(size or 0) * (d + 1)
    raise ValueError(f"unknown design method {method!r}")


def make_design(specs: Mapping, method: str, size: int | None, seed: int, morris_levels: int = 4) -> Design:
    """Design points for ``specs`` (parameter path -> spec with ``ppf`` and ``grid_values``), seeded."""
    names = tuple(specs)
    d = len(names)
    if method == "grid":
        axes = [np.asarray(spec.grid_values(size), dtype=float) for spec in specs.values()]
        # An empty product is one point with no coordinates: a grid over no parameter runs the scenario as it is.
        values = np.array(list(itertools.product(*axes)), dtype=float).reshape(-1 if d else 1, d)
        # Unit coordinates of a grid: each level's rank within its axis, for plotting and for reference only.
        ranks = [np.linspace(0.0, 1.0, len(a)) if len(a) > 1 else np.array([0.5]) for a in axes]
        unit = np.array(list(itertools.product(*ranks)), dtype=float).reshape(-1 if d else 1, d)
        return Design(method, names, values, unit)
    if size is None:
        raise ValueError(f"a {method} design needs design.size")
    problem = {"num_vars": d, "names": list(names), "bounds": [[0.0, 1.0]] * d}
    if method == "lhs":
        from scipy.stats import qmc

        unit = qmc.LatinHypercube(d=d, rng=np.random.default_rng(seed)).random(size)
    elif method == "sobol":
        from SALib.sample import sobol

        unit = sobol.sample(problem, size, calc_second_order=False, seed=seed)
    elif method == "morris":
        from SALib.sample import morris

        unit = morris.sample(problem, size, num_levels=morris_levels, seed=seed)
    else:
        raise ValueError(f"unknown design method {method!r}")
    unit = np.asarray(unit, dtype=float).reshape(-1, d)
    values = np.column_stack([spec.ppf(unit[:, j]) for j, spec in enumerate(specs.values())]).reshape(-1, d)
    return Design(method, names, values, unit, morris_levels)
