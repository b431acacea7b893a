"""The one strict base of every input schema: scenarios, experiments, decision files and calibration targets.

Unknown keys and wrong types are errors (``extra="forbid"``, ``strict=True``), so a misspelt field or a quoted
number fails with its path instead of being ignored or coerced. Blocks add their own settings on top (pydantic
merges ``model_config`` with the base's).
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class StrictModel(BaseModel):
    """A schema block that forbids unknown keys and coercion."""

    model_config = ConfigDict(extra="forbid", strict=True)
