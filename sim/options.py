"""The options a developer can choose and the providers behind them (docs/model.md).

Indices are fixed so that arrays over options have the same columns whatever Meta's strategy; an option that does not
exist in a run is simply unavailable (its share is 0). "Not adopted" is choice -1, not an option.
"""

from __future__ import annotations

import numpy as np

OPTIONS = ("openai", "anthropic", "google", "meta_api", "llama_hosted", "llama_self", "open_hosted", "open_self",
           "openai_open", "anthropic_open", "google_open")
PROVIDERS = ("openai", "anthropic", "google", "meta", "open_rival", "cloud_host")
FAMILIES = ("openai", "anthropic", "google", "meta", "open_rival")  # model families, for network and HHI terms
K = len(OPTIONS)
IDX = {name: i for i, name in enumerate(OPTIONS)}

OPENAI, ANTHROPIC, GOOGLE, META_API, LLAMA_HOSTED, LLAMA_SELF, OPEN_HOSTED, OPEN_SELF = range(8)
LAB_OPEN = {"openai": 8, "anthropic": 9, "google": 10}  # a closed lab's own open-weight model (gpt-oss, Gemma), hosted
CLOSED_OPTIONS = np.array([OPENAI, ANTHROPIC, GOOGLE, META_API])

IS_OPEN = np.array([0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1], dtype=bool)
IS_SELF = np.array([0, 0, 0, 0, 0, 1, 0, 1, 0, 0, 0], dtype=bool)
IS_HOSTED_OPEN = IS_OPEN & ~IS_SELF
IS_META = np.array([0, 0, 0, 1, 1, 1, 0, 0, 0, 0, 0], dtype=bool)
IS_LLAMA = np.array([0, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0], dtype=bool)
IS_LAB_OPEN = np.array([0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1], dtype=bool)
FAMILY_OF = np.array([0, 1, 2, 3, 3, 3, 4, 4, 0, 1, 2])  # index into FAMILIES: a lab's open model is of its family
