""":class:`LiveRunController` drives one live run at a time for a
:class:`~desktop.document.ModelDocument`: it starts the worker, forwards commands and
parameter edits to it, and feeds each batch to the dashboard, theory panel, results table and
canvas. :mod:`desktop.run.integration` puts it into a main window."""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Mapping
from typing import Any

import shiboken6
from PySide6.QtCore import QCoreApplication, QEvent, QEventLoop, QObject, Qt, QThread, QTimer, Signal, Slot
from PySide6.QtGui import QUndoCommand
from PySide6.QtWidgets import QMessageBox, QPlainTextEdit, QWidget

from desktop.canvas.node_item import HEIGHT, WIDTH
from desktop.commands import SetParams, SetSetting
from desktop.document import ModelDocument
from desktop.run.batch import AppliedChange, RunBatch
from desktop.run.buffers import SeriesStore, auto_warmup_cut
from desktop.run.canvas_flows import CanvasFlows
from desktop.run.controls import RunControls
from desktop.run.dashboard import Dashboard
from desktop.run.replications import ReplicationRunner
from desktop.run.results import KEPT_MARK, ResultsPanel, recut_results, run_caption
from desktop.run.theory_panel import TheoryBadge, TheoryPanel
from desktop.run.worker import SimulationWorker, finish, launch
from engine.model.document import AUTO_WARMUP
from engine.model.schema import is_station

log = logging.getLogger(__name__)

#: Largest share of wall time the views may spend redrawing while a run streams batches, as
#: fast as possible and paced. The worker waits while the GUI draws (see
#: :mod:`desktop.run.worker`), so at full speed every millisecond of drawing is taken from the
#: simulation; paced runs leave the worker idle most of the time anyway.
VIEW_DUTY_FAST, VIEW_DUTY_PACED = 0.06, 0.5
#: The views redrawn in turn, one per batch: the charts move most, so they come twice as often.
VIEW_TURNS = ("charts", "canvas", "charts", "theory")
_ACK_EVENT = QEvent.Type(QEvent.registerEventType())


class SetWarmup(QUndoCommand):
    """Change the document's warm-up to seconds or ``"auto"``; undo restores what it was,
    ``"auto"`` included (the document reads an automatic warm-up as 0 s)."""

    def __init__(self, document: ModelDocument, value: float | str) -> None:
        settings = document.model.simulation
        self._old: float | str = AUTO_WARMUP if settings.auto_warmup else settings.warmup
        self._new = value
        super().__init__("Change warm-up to automatic (MSER-5)" if value == AUTO_WARMUP else "Change warmup")
        self._doc = document

    def redo(self) -> None:
        self._doc.set_setting("warmup", self._new)

    def undo(self) -> None:
        self._doc.set_setting("warmup", self._old)


#: Wall seconds over which the toolbar measures the run's pace (events and simulated seconds per second).
PACE_WINDOW = 1.0
#: Wall seconds without a batch after which the toolbar reads the simulated time from the
#: worker directly (in the middle of a long slice), and how often it does.
PROGRESS_POLL = 0.5
#: Wall seconds after Pause without the run pausing (it finishes its slice first) before the
#: status bar says why.
PAUSE_NOTICE = 1.0
#: Run Until Precise runs up to this many times the document's end time (the run stops as
#: soon as the precision is reached; the end time only bounds a run that never gets there).
PRECISE_END_FACTOR = 1000.0
#: Wall seconds between two MSER-5 cuts of an "auto" warm-up while a run goes.
AUTO_CUT_INTERVAL = 0.25
#: Where the theory badge sits on a node card: straddling its bottom-right corner.
BADGE_POS = (WIDTH - 2.0, HEIGHT - 2.0)


class LiveRunController(QObject):
    """Runs the document's model live: one :class:`SimulationWorker` at a time, its batches
    fed to the dashboard, the theory panel, the results table and (optionally) the canvas.

    ``node_item(node_id)`` returns the canvas item of a node (with ``set_live``) or None;
    ``canvas_flows`` shows link flows and requests in motion (see :mod:`desktop.run.canvas_flows`).
    Setting and parameter edits become undoable commands on the document's undo stack; while
    a run is going, each parameter change the document reports is forwarded to the worker.
    """

    state_changed = Signal(str)
    batch_received = Signal(object)
    message_posted = Signal(str)

    def __init__(
        self,
        document: ModelDocument,
        parent: QWidget,
        node_item: Callable[[str], Any] | None = None,
        canvas_flows: CanvasFlows | None = None,
    ) -> None:
        super().__init__(parent)
        self.document = document
        self.node_item = node_item
        self.canvas_flows = canvas_flows if canvas_flows is not None else CanvasFlows()
        self.controls = RunControls(parent)
        self.dashboard = Dashboard()
        self.theory_panel = TheoryPanel()
        self.results_panel = ResultsPanel()
        self.replications = ReplicationRunner(lambda: self.document.model, self._show_replications, parent)
        self.replications.message_posted.connect(self.message_posted)
        self.event_log = QPlainTextEdit(readOnly=True)
        self.event_log.setMaximumBlockCount(500)
        self.event_log.setPlaceholderText(
            "Live parameter changes, and each event Step processes, are listed here. Change a value in "
            "the Inspector during a run, or press Step (F10) to go one event at a time."
        )
        self.dashboard.warmup_edited.connect(lambda value: self.change_setting("warmup", value))
        self.state = "idle"
        self._results_batch: RunBatch | None = None  # the run batch whose results the table shows
        self._next_auto = 0.0  # wall time of the next MSER-5 cut of an "auto" warm-up
        self.store: SeriesStore | None = None
        self.last_batch: RunBatch | None = None
        #: The live changes the worker applied in this run, in order (what the theory follows).
        self.applied_changes: list[AppliedChange] = []
        self._parent = parent
        self._worker: SimulationWorker | None = None
        #: Makes each run's worker from its model and the worker's keyword arguments (a
        #: ghost run puts its own here: see desktop.run.ghost).
        self.worker_factory: Callable[..., SimulationWorker] = SimulationWorker
        self._thread: QThread | None = None
        self._badges: dict[str, TheoryBadge] = {}
        self._next_view = 0.0
        self._drawing_since: float | None = None
        self._turn = len(VIEW_TURNS) - 1  # the first redraw is the charts
        self._quiet = False
        self._pace: tuple[float, int, float] | None = None  # (wall, events, simulated time) of a past batch
        self._rates: tuple[float, float] | None = None  # events and simulated seconds per wall second
        self._last_seen = 0.0  # wall time (perf_counter) of the last batch
        self._view_failed = False  # a view raised while drawing this run (said once)
        self._pause_asked: float | None = None  # when Pause was pressed, until the run pauses
        self._precision: float | None = None  # Run Until Precise's target while it runs
        # A slice may take long (a dense stretch of the model); progress keeps moving meanwhile.
        self._progress_timer = QTimer(self, interval=round(PROGRESS_POLL * 1000))
        self._progress_timer.timeout.connect(self._poll_progress)
        self.controls.run_requested.connect(self.run)
        self.controls.precise_requested.connect(self.run_until_precise)
        self.controls.pause_requested.connect(self.pause)
        self.controls.step_requested.connect(self.step)
        self.controls.stop_requested.connect(self.stop)
        self.controls.speed_changed.connect(self.set_speed)
        self.controls.setting_edited.connect(self.change_setting)
        self.theory_panel.coverage_changed.connect(self._coverage_changed)
        document.node_changed.connect(self._node_changed)
        self._edited_nodes: set[str] = set()
        self._forward_timer = QTimer(self, singleShot=True, interval=0)
        self._forward_timer.timeout.connect(self._forward_edits)
        # Before a run, the Theory tab previews the model's analytic values as it is edited.
        self._preview_timer = QTimer(self, singleShot=True, interval=150)
        self._preview_timer.timeout.connect(self._preview_theory)
        document.contents_changed.connect(self._preview_timer.start)
        self._preview_timer.start()
        document.settings_changed.connect(self._load_settings)
        document.document_reset.connect(self._document_reset)
        self._load_settings()

    # ------------------------------------------------------------ commands
    @Slot()
    def run(self) -> None:
        """Resume a paused run, or start a new one."""
        if self._worker is not None:
            self._worker.resume()
        else:
            self._start(paused=False)

    @Slot()
    def run_until_precise(self, precision: float | None = None) -> None:
        """Run (resume, or start a run up to :data:`PRECISE_END_FACTOR` times the end time)
        until every station's L and W have 95 % half-widths within ``precision`` of their
        values (default: the toolbar's), then stop by itself. The Theory tab shows the
        precision reached so far in each station's row."""
        target = self.controls.precision if precision is None else float(precision)
        self._precision = target
        end = self.document.model.simulation.end_time
        if self._worker is not None:
            self._worker.resume()
        else:
            self._start(paused=False, end_time=end * PRECISE_END_FACTOR)
        self._precision = target
        self.theory_panel.show_precision(target)
        text = f"Running until every station's L and W are within ±{100 * target:.3g} % (95 % confidence)"
        self.event_log.appendPlainText(text)
        self.message_posted.emit(text)

    def _check_precision(self, batch: RunBatch) -> None:
        """Stop a Run Until Precise once every station's L and W are precise enough."""
        target = self._precision
        if target is None or self.store is None:
            return
        if batch.state == "finished":
            self._precision = None
            self.message_posted.emit(
                f"The run reached its end time before every station was within ±{100 * target:.3g} %"
            )
            return
        reached = [self.theory_panel.precision(sid) for sid in self.store.stations]
        if reached and all(math.isfinite(v) and v <= target for r in reached for v in r.values()):
            self._precision = None
            text = f"t = {batch.now:.6g} s: every station's L and W within ±{100 * target:.3g} %; run stopped"
            self.event_log.appendPlainText(text)
            self.message_posted.emit(text)
            self.theory_panel.refresh(batch)  # the gauges as the run stopped
            self.stop()

    @Slot()
    def pause(self) -> None:
        """Pause the run (it stays where it is) at the end of the slice in progress."""
        if self._worker is not None:
            self._worker.pause()
            self._pause_asked = time.perf_counter()

    @Slot()
    def step(self) -> None:
        """Process one event (starting a paused run first if none is going)."""
        if self._worker is None:
            self._start(paused=True)
        if self._worker is not None:
            self._worker.step()

    @Slot()
    def stop(self) -> None:
        """End the run; the worker exits within one slice and the results table fills."""
        if self._worker is not None:
            self._worker.stop()

    @Slot(float)
    def set_speed(self, speed: float) -> None:
        """Simulated seconds per wall second (math.inf: as fast as possible)."""
        if self.controls.speed != speed:
            self.controls.set_speed(speed)
        if self._worker is not None:
            self._worker.set_speed(speed)

    def change_param(self, node_id: str, name: str, value: Any) -> None:
        """Edit a node parameter as an undoable document command (forwarded live if running)."""
        self.document.undo_stack.push(SetParams(self.document, node_id, {name: value}))

    @Slot(str, object)
    def change_setting(self, name: str, value: Any) -> None:
        """Edit a simulation setting (seed, end_time, warmup: seconds or "auto") as an
        undoable document command. A new warm-up applies to the run shown at once, from its
        exact totals (see :meth:`warmup_cut`)."""
        if name == "warmup":
            settings = self.document.model.simulation
            if (AUTO_WARMUP if settings.auto_warmup else settings.warmup) != value:
                self.document.undo_stack.push(SetWarmup(self.document, value))
        elif self.document.setting(name) != value:
            self.document.undo_stack.push(SetSetting(self.document, name, value))

    def run_for(self, seconds: float) -> None:
        """Run the model for ``seconds`` of wall time with the GUI live, then pause and show
        the state reached (used by ``--screenshot --run-for``). A failure is reported in the
        Events dock and the status bar instead of a dialog, which nobody could dismiss."""
        self._quiet = True
        try:
            self.run()
            self._wait(seconds, lambda: self.state not in ("running", "paused"))
            if self.state == "running":
                self.pause()
                self._wait(
                    1.0,
                    lambda: (
                        self.state != "running" and self.last_batch is not None and self.last_batch.state != "running"
                    ),
                )
        finally:
            self._quiet = False
        if self.last_batch is not None:
            self.dashboard.update_data(self.last_batch.now)
            self.theory_panel.refresh(self.last_batch)

    def shutdown(self, timeout_ms: int = 2000) -> None:
        """Stop the worker and any replications, and wait for their threads to end (window
        closing, app quitting, a new document).

        Stop interrupts the engine mid-slice, so the wait is normally milliseconds; a thread
        that still runs after ``timeout_ms`` is handed to :func:`~desktop.run.worker.finish`,
        which keeps it alive until it ends instead of destroying it."""
        self.replications.shutdown()
        worker, thread = self._worker, self._thread
        if worker is None or thread is None:
            return
        finish(worker, thread, timeout_ms)
        self._release()
        if self.state in ("running", "paused"):
            self._set_state("stopped")

    def badge(self, station: str) -> TheoryBadge | None:
        """The theory badge put on a station's canvas item for this run, if any."""
        return self._badges.get(station)

    @property
    def worker_thread(self) -> QThread | None:
        """The thread of the current worker (None between runs)."""
        return self._thread

    @property
    def running(self) -> bool:
        """Whether a worker exists (running or paused)."""
        return self._worker is not None

    # ------------------------------------------------------------ internals
    def _start(self, paused: bool, end_time: float | None = None) -> None:
        model = self.document.model
        self._precision = None
        self.theory_panel.show_precision(None)
        stations = [n.id for n in model.nodes if is_station(n.kind)]
        self.store = SeriesStore(stations)
        self.last_batch = None
        self.applied_changes = []
        self.dashboard.start(self.store, model.simulation.sample_interval)
        self.theory_panel.start(model, self.store)
        self.store.totals.pin(model.simulation.warmup)  # the run's own cut stays exact through merges
        self._results_batch = None
        self._apply_cut()
        self.dashboard.set_theory(0.0, self.theory_panel.theory)
        self._attach_badges(stations)
        self.canvas_flows.clear()
        self.event_log.clear()
        self._pace = self._rates = None
        self._view_failed = False
        self.controls.show_progress(0.0, model.simulation.end_time)
        self._last_seen = time.perf_counter()
        self._progress_timer.start()
        run_model = model.copy()  # the run's one model: the worker owns it from here on
        if end_time is not None:  # Run Until Precise: the same model, a later end
            run_model.simulation.end_time = end_time
        worker = self.worker_factory(run_model, speed=self.controls.speed, paused=paused, heartbeat=True)
        worker.batch_produced.connect(self._batch_produced)
        worker.heartbeat.connect(self._heartbeat)
        worker.state_changed.connect(self._worker_state)
        worker.param_rejected.connect(self._param_rejected)
        worker.run_failed.connect(self._run_failed)
        worker.worker_stopped.connect(self._worker_stopped)
        self._worker = worker
        self._thread = launch(worker)
        self._set_state("paused" if paused else "running")

    @Slot(object)
    def _batch_produced(self, batch: RunBatch) -> None:
        if self.sender() is not self._worker or self.store is None:
            return
        self.last_batch = batch
        self.store.append(batch)
        final = batch.state != "running"
        self._check_precision(batch)
        self.applied_changes.extend(batch.changes)
        for change in batch.changes:
            self.dashboard.add_marker(change.time, f"{change.node_id}.{change.name} = {_short(change.value)}")
            self.event_log.appendPlainText(
                f"t = {change.time:.6g} s: {change.node_id}.{change.name} ← {_short(change.value)}"
            )
        if batch.changes:  # theory follows what the run applied (a refused edit is not in it)
            last = batch.changes[-1]
            at = last.time
            if last.model is not None:
                self.theory_panel.model_changed(last.model, at)
            self.dashboard.set_theory(at, self.theory_panel.theory)
        self._show_progress(batch)
        if self.document.model.simulation.auto_warmup and (final or time.perf_counter() >= self._next_auto):
            self._next_auto = time.perf_counter() + AUTO_CUT_INTERVAL
            self._apply_cut()  # before the views draw this batch
        try:
            self.canvas_flows.animate(batch)
            self._refresh_views(batch, final)
        except Exception as exc:  # a view that cannot draw must not stall the run or lose its results
            log.exception("a live view failed to draw")
            if not self._view_failed:
                self._view_failed = True
                self.message_posted.emit(
                    f"A live view could not be drawn ({type(exc).__name__}: {exc}); the run goes on."
                )
        for text in batch.stepped:
            self.event_log.appendPlainText(text)
            self.message_posted.emit(text)
        if batch.state == "finished":
            self._show_run_results(batch)
        self.batch_received.emit(batch)
        self._post_ack()

    @property
    def simulated_time(self) -> float | None:
        """The simulated time the running model has reached, read from the worker (None
        between runs): it moves in the middle of a long slice, between batches."""
        return self._worker.simulated_time if self._worker is not None else None

    def _poll_progress(self) -> None:
        asked = self._pause_asked
        if asked is not None and self.state == "running" and time.perf_counter() - asked > PAUSE_NOTICE:
            self._pause_asked = None
            self.message_posted.emit(
                "Pausing at the end of a dense stretch of events that is taking a while; Stop ends the run at once."
            )
        now = self.simulated_time
        batch = self.last_batch
        if self.state != "running" or now is None or time.perf_counter() - self._last_seen < PROGRESS_POLL:
            return
        end_time = batch.end_time if batch is not None else self.document.model.simulation.end_time
        self.controls.show_progress(now, end_time, *(self._rates or (None, None)))

    def _show_progress(self, batch: RunBatch) -> None:
        """Progress on the toolbar, with the pace measured over about :data:`PACE_WINDOW` of
        wall time while running."""
        self._last_seen = time.perf_counter()
        if batch.state != "running":
            self._pace = self._rates = None
            self.controls.show_progress(batch.now, batch.end_time)
            return
        sample = (batch.emitted_at, batch.events_processed, batch.now)
        if self._pace is None:
            self._pace = sample
        else:
            wall = sample[0] - self._pace[0]
            if wall >= PACE_WINDOW or (self._rates is None and wall >= PACE_WINDOW / 4):
                self._rates = ((sample[1] - self._pace[1]) / wall, (sample[2] - self._pace[2]) / wall)
                self._pace = sample
        events, simulated = self._rates if self._rates is not None else (None, None)
        self.controls.show_progress(batch.now, batch.end_time, events, simulated)

    @Slot()
    def _heartbeat(self) -> None:
        if self.sender() is self._worker:
            self._post_ack()

    def _post_ack(self) -> None:
        # Acknowledge once the events already waiting are handled (repaints, timers, input):
        # they are posted at low priority at most, and this one at a lower one still.
        QCoreApplication.postEvent(self, QEvent(_ACK_EVENT), int(Qt.EventPriority.LowEventPriority.value) - 1)

    def event(self, event: QEvent) -> bool:
        """Acknowledge a batch to the worker once the GUI has drawn it."""
        if event.type() == _ACK_EVENT:
            now = time.perf_counter()
            if self._drawing_since is not None:
                duty = VIEW_DUTY_FAST if math.isinf(self.controls.speed) else VIEW_DUTY_PACED
                self._next_view = now + (now - self._drawing_since) * (1 / duty - 1)
                self._drawing_since = None
            if self._worker is not None:
                self._worker.batch_consumed(max(0.0, self._next_view - now))
            return True
        return super().event(event)

    def _refresh_views(self, batch: RunBatch, final: bool) -> None:
        """Redraw one view per turn (see :data:`VIEW_TURNS`) when the duty budget allows, so
        no single redraw blocks the event loop for long; every view at the end of a run."""
        now = time.perf_counter()
        if not final and now < self._next_view:
            return
        self._drawing_since = now
        self._turn = (self._turn + 1) % len(VIEW_TURNS)
        view = VIEW_TURNS[self._turn]
        if (final or view == "charts") and self.dashboard.isVisible():
            self.dashboard.update_data(batch.now)
        if (final or view == "theory") and self.theory_panel.isVisible():
            self.theory_panel.refresh(batch)
        if (final or view == "canvas") and self.node_item is not None:
            self.canvas_flows.show_stations(batch, self.node_item, self._window_results(batch))  # window means
            self.canvas_flows.show_flows(batch)

    @Slot(str)
    def _worker_state(self, state: str) -> None:
        if self.sender() is self._worker:
            self._set_state(state)

    @Slot(str)
    def _param_rejected(self, message: str) -> None:
        self.event_log.appendPlainText(f"not applied: {message}")
        self.message_posted.emit(f"Not applied during the run: {message}")

    @Slot(str)
    def _run_failed(self, message: str) -> None:
        if self.sender() is not self._worker:
            return
        self._set_state("failed")
        self.event_log.appendPlainText(f"The run failed: {message}")
        batch = self.last_batch
        if batch is not None and batch.results and math.isfinite(batch.results_time):
            # What the run reached stays on the charts; the table shows the last results.
            at = f"t = {batch.results_time:.6g} s"
            self.results_panel.show_results(batch.results, f"Up to {at}, when the run failed")
            message = f"{message}\n\nThe charts and the results table show the run up to {at}."
        if self._quiet:
            self.message_posted.emit(f"The run failed: {message}")
        else:
            QMessageBox.critical(self._parent, "The run failed", message)

    @Slot()
    def _worker_stopped(self) -> None:
        if self.sender() is not self._worker:
            return
        if self._thread is not None:
            self._thread.wait()
        self._release()
        batch = self.last_batch
        if self.state in ("running", "paused", "stopped"):
            self._set_state("stopped")
            if batch is not None:
                self._show_run_results(batch)

    def _release(self) -> None:
        self._progress_timer.stop()
        self._worker = None
        self._thread = None
        self.canvas_flows.clear()

    def _set_state(self, state: str) -> None:
        if state != "running":
            self._pause_asked = None
        self.state = state
        self.controls.set_state(state)
        self.dashboard.set_run_active(state in ("running", "paused"))
        self.state_changed.emit(state)

    def _node_changed(self, node_id: str) -> None:
        """Forward the node as the document has it once the edit is complete (one undo command
        may set several parameters, each reported on its own); the worker applies what
        differs from the run's model and reports it (the controller keeps no copy)."""
        if self._worker is not None:
            self._edited_nodes.add(node_id)
            self._forward_timer.start()

    def _forward_edits(self) -> None:
        edited, self._edited_nodes = self._edited_nodes, set()
        for node_id in sorted(edited):
            if self._worker is not None and self.document.has_node(node_id):
                self._worker.edit_node(node_id, self.document.node(node_id).params)

    def _preview_theory(self) -> None:
        if self._worker is None:  # after a run, an edit makes its comparison stale anyway
            self.theory_panel.preview(self.document.model)

    def _load_settings(self) -> None:
        self.controls.load_settings(self.document.model.simulation)
        self._apply_cut()

    # ------------------------------------------------------------ the warm-up cut
    def warmup_cut(self) -> tuple[float, bool]:
        """(the warm-up cut in force in seconds, whether it is automatic): the document's
        warm-up, or, when it is "auto", the MSER-5 cut of the current run's sampled number in
        system (:func:`desktop.run.buffers.auto_warmup_cut`; 0 without a run)."""
        settings = self.document.model.simulation
        if not settings.auto_warmup:
            return settings.warmup, False
        return (auto_warmup_cut(self.store) if self.store is not None else 0.0), True

    def _apply_cut(self) -> None:
        """Show the cut in force everywhere: shaded on the charts, and the Theory and Results
        tabs recomputed from the run's exact totals (or saying why they cannot be)."""
        cut, auto = self.warmup_cut()
        self.dashboard.set_warmup(cut, self.document.model.simulation.sample_interval, auto=auto)
        self.theory_panel.set_cut(cut, auto)
        self.results_panel.note_warmup(cut)
        batch = self._results_batch
        if batch is not None and self.store is not None and batch is self.last_batch:
            self._show_run_results(batch)
        last = self.last_batch
        if last is not None and last.state != "running" and self.store is not None and self.node_item is not None:
            self.canvas_flows.show_stations(last, self.node_item, self._window_results(last))

    def _window_results(self, batch: RunBatch) -> Mapping[str, Mapping[str, Any]]:
        """``batch.results``, with the stations' means recomputed for the cut in force when it
        is not the run's own and the exact totals reach it (what the canvas cards show)."""
        cut, _ = self.warmup_cut()
        if cut == batch.warmup or self.store is None or cut >= batch.now:
            return batch.results
        return recut_results(self.store.totals, batch.results, self.store.stations, cut)[0]

    def _show_run_results(self, batch: RunBatch) -> None:
        """The Results tab for the run: its results, with the stations' metrics recomputed
        for the cut in force when it is not the run's own and the exact totals reach it."""
        self._results_batch = batch
        cut, auto = self.warmup_cut()
        caption = run_caption(self.document.model, batch)
        theory = self.theory_panel.theory
        store = self.store
        if cut == batch.warmup or store is None or cut >= batch.now:
            self.results_panel.show_results(batch.results, caption, batch.warmup, theory)
            return
        results, start, end = recut_results(store.totals, batch.results, store.stations, cut)
        if start is None:
            self.results_panel.show_results(batch.results, caption, batch.warmup, theory)
            return
        name = "the automatic (MSER-5) warm-up cut" if auto else "the warm-up cut"
        held = "" if start == cut else f", from the held checkpoint at t = {start:,.6g} s"
        caption = run_caption(self.document.model, batch, (start, end)) + (
            f" Recomputed for {name} at t = {cut:,.6g} s{held}, from the run's exact totals, without re-running "
            f"(the run cut at {batch.warmup:,.6g} s). Cells marked{KEPT_MARK} — percentiles, arrival and "
            "rejection counts, sinks — cannot be recomputed and stay over the run's own window."
        )
        why = (
            f"Cannot be recomputed for a new warm-up cut (a percentile needs every sample, which a run does not "
            f"keep): over the run's own window from t = {batch.warmup:,.6g} s."
        )
        self.results_panel.show_results(results, caption, batch.warmup, theory, kept=(why, cut))

    def _show_replications(self, *args: Any, **kwargs: Any) -> None:
        self._results_batch = None  # the table no longer shows the live run's results
        kwargs.setdefault("warmup", self.warmup_cut()[0])  # what a later cut cannot be applied to
        self.results_panel.show_results(*args, **kwargs)

    def _document_reset(self) -> None:
        self.shutdown()
        self._clear_run_views()
        self._set_state("idle")
        self.controls.clear_progress()
        self._load_settings()

    def _clear_run_views(self) -> None:
        """Another model was opened or created: no view keeps showing the previous one's run."""
        self.store = self.last_batch = self._results_batch = None
        self.dashboard.clear()
        self.results_panel.clear()
        self.theory_panel.clear()
        self.event_log.clear()
        self.canvas_flows.clear(everything=True)
        self._attach_badges([])

    def _attach_badges(self, stations: list[str]) -> None:
        for badge in self._badges.values():
            if shiboken6.isValid(badge) and badge.scene() is not None:
                badge.scene().removeItem(badge)
        self._badges.clear()
        if self.node_item is None:
            return
        for sid in stations:
            item = self.node_item(sid)
            if item is not None:
                self._badges[sid] = TheoryBadge(item, *BADGE_POS)
                item.set_live(None, None)

    def _coverage_changed(self, station: str, state: str) -> None:
        badge = self._badges.get(station)
        if badge is not None and shiboken6.isValid(badge):  # its node may have been deleted mid-run
            badge.set_state(state)

    def _wait(self, seconds: float, done: Callable[[], bool]) -> None:
        """Run a local event loop until ``done()`` after a state change or batch, or ``seconds``."""
        loop = QEventLoop()
        QTimer.singleShot(round(seconds * 1000), loop.quit)

        def check(*_: Any) -> None:
            if done():
                loop.quit()

        self.state_changed.connect(check)
        self.batch_received.connect(check)
        if not done():
            loop.exec()
        self.state_changed.disconnect(check)
        self.batch_received.disconnect(check)


def _short(value: Any) -> str:
    text = repr(value) if not isinstance(value, dict) else ", ".join(f"{k}={v}" for k, v in value.items())
    return text if len(text) <= 40 else text[:39] + "…"
