"""Figures and HTML reports, drawn from result tables (they never run the model).

``run`` draws one ``sim run`` folder, ``sweep`` an experiment, ``decision`` the robust search and the game;
``run_report`` and ``decision_report`` put them into HTML and PNG files; ``style`` fixes every colour. Nothing is
imported here, so ``import sim.figures.style`` does not load matplotlib.
"""
