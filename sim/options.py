"""The options and providers, re-exported from :mod:`sim.catalog` while callers move there."""

from sim.catalog import *  # noqa: F403
from sim.catalog import FAMILIES, FAMILY_OF, IDX, IS_LLAMA, IS_META, IS_OPEN, IS_SELF, OPTIONS, PROVIDERS, K  # noqa: F401
