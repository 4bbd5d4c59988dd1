"""Live simulation in the desktop app: the worker thread, ring buffers, charts and teaching views.

- :mod:`desktop.run.worker` — the QObject that owns the run's one model and its engine
  ``Run`` in a QThread, and drives it (commands, slices, pacing); :mod:`desktop.run.thread`
  launches it and ends its thread safely.
- :mod:`desktop.run.batch` — what the run reports: the immutable batches, checkpoints of
  exact totals, the live changes applied, what Step did.
- :mod:`desktop.run.buffers` — bounded ring buffers and batch-means estimates.
- :mod:`desktop.run.totals` — the run's exact totals since t = 0 at checkpoints, in bounded
  memory: convergence, exact values and intervals, and a warm-up moved without re-running.
- :mod:`desktop.run.dashboard` — pyqtgraph charts of the live time series.
- :mod:`desktop.run.controls` — Run/Pause/Step/Stop, speed and run settings.
- :mod:`desktop.run.theory_panel` — analytic values, confidence bands and law checks.
- :mod:`desktop.run.results` — the end-of-run table with CSV/JSON export.
- :mod:`desktop.run.replications` — Run Replications: mean ± CI over independent runs.
- :mod:`desktop.run.flows` and :mod:`desktop.run.canvas_flows` — link flows and requests in motion.
- :mod:`desktop.run.controller` — :class:`LiveRunController`, one live run at a time.
- :mod:`desktop.run.integration` — :func:`install_live_run` wires all of it into a window.

Importing this package imports no Qt; import the submodules you need.
"""
