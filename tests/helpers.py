"""Shared helpers: small scenarios built from the presets, so tests stay fast and follow the presets' structure."""

from __future__ import annotations

from sim.loading import load_scenario
from sim.market import LLMMarket


def small(preset: str = "baseline", n: int = 3000, horizon: int = 24, **sets) -> object:
    """A preset at a small population and short horizon, with extra ``dotted.path=value`` overrides."""
    overrides = [f"horizon_months={horizon}"] + [f"{k.replace('__', '.')}={v}" for k, v in sets.items()]
    return load_scenario(preset, overrides, population=n)


def run_model(scenario, strategy="open", seed=None, each_month=None) -> LLMMarket:
    """Run a model to its horizon, calling ``each_month(model)`` after every step."""
    model = LLMMarket(scenario, strategy=strategy, seed=seed)
    while model.running:
        model.step()
        if each_month is not None:
            each_month(model)
    return model


def write(tmp_path, name: str, text: str):
    path = tmp_path / name
    path.write_text(text)
    return path
