"""The market engine: one mesa Model (:mod:`sim.market.model`) and one module per phase of its month."""

from sim.market.model import LLMMarket

__all__ = ["LLMMarket"]
