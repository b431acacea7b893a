"""Decision analysis: Meta's robust policy under deep uncertainty (``sim optimize``) and the four-firm game
(``sim game``).

Data flow: a decision file (``kind: optimize`` or ``kind: game``) -> :mod:`levers` (validated, worlds sampled once)
-> runs through the sweep machinery (:mod:`sim.experiments`: evaluators, Parquet parts and manifests) via
:mod:`context` -> :mod:`robust` (NSGA-II over the levers, robustness objectives) or :mod:`play` (every profile,
paired replicates) and the pure solver :mod:`game`. The model never imports this package.
"""
