"""A strategy simulator of the LLM market: Meta's open Llama against closed APIs (see README.md).

For notebooks (docs/python-api.md)::

    import sim
    scenario = sim.load("baseline", **{"license.mau_threshold": 1e8})
    results = sim.run(scenario, replications=3, population=5_000)
    results.summary                                  # the tables `sim run` writes
    fig = sim.plot(results, kind="adoption")         # a matplotlib Figure

The functions live in :mod:`sim.api` and are imported on first use, so ``import sim`` stays instant.
"""

__version__ = "0.1.0"
__all__ = ["load", "plot", "read", "run"]


def __getattr__(name: str):
    if name in __all__:
        from sim import api

        return getattr(api, name)
    raise AttributeError(f"module 'sim' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
