"""Experiments in the window: sweeps started from the inspector (the Experiment dock) and the
history of runs (the History dock). See docs/experiments.md, "In the window"."""
