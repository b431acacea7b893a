"""``sim brief``: the strategist's answer for one scenario on one page.

Does giving Llama away pay for Meta, against a closed Meta API and against no Meta model; how sure the model is (a
paired interval over seeds and a probability over the documented parameter ranges); which value channels make the
answer; where it flips; the break-even spend share; and what the answer leans on. :mod:`compute` runs and reads the
numbers, :mod:`page` draws and writes them.
"""

from __future__ import annotations

from sim.brief.compute import SIZES, Brief, BriefSize, build

__all__ = ["SIZES", "Brief", "BriefSize", "build"]
