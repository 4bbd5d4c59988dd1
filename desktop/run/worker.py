"""The simulation worker: a QObject, moved to a QThread, that owns the live run's one model
and the engine :class:`Run` built from it, and drives it. What each batch holds is
:mod:`desktop.run.batch`'s job.

The worker is given a model (a copy of the document's, which it then owns) and keeps it as
the run goes: each live edit it applies to the engine is also applied to that model, and the
batch reports it (:class:`~desktop.run.batch.AppliedChange`, with the model as it stands
after). The GUI keeps no copy of its own: it forwards the document's node as it now is
(:meth:`SimulationWorker.edit_node`) and the worker applies whatever differs.

The GUI thread never touches the run. It sends commands (run, pause, step, stop, speed,
parameter changes) through a thread-safe queue that the worker drains between slices, and
receives immutable :class:`RunBatch` snapshots through one queued signal, at most every
:data:`EMIT_INTERVAL` seconds whatever the simulation speed.

After emitting a batch the worker waits (at most :data:`ACK_WAIT`) until the consumer
acknowledges it (:meth:`SimulationWorker.batch_consumed`). Two reasons: a busy GUI never
accumulates a backlog of signals (the samples wait in the engine's recorder and arrive
together in the next batch), and the GUI draws the batch while the worker does not hold the
interpreter lock. Python lets one thread run at a time; a GUI thread competing with a busy
worker waits up to the switch interval (5 ms) after every Qt call that releases the lock,
which turns a 20 ms redraw into hundreds of milliseconds. The acknowledgement also says
when the consumer wants the next batch: it keeps its share of wall time small (see
``VIEW_DUTY_FAST`` in :mod:`desktop.run.controller`), so while running the worker emits only
as often as the views will draw, and spends nothing on batches nobody would look at. A
command (Step, Pause, a parameter change, a speed change) and the end of the run are
reported at once.

Stop does not wait for the slice in progress: :meth:`SimulationWorker.stop` also calls the
engine's thread-safe ``Simulation.request_stop``, so a slice of millions of events returns
within a few thousand. :func:`desktop.run.thread.finish` stops a worker and waits for its thread without ever
destroying a thread that is still running (Qt would abort the process).
"""

from __future__ import annotations

import copy
import logging
import math
import queue
import time
from collections.abc import Mapping
from typing import Any

from PySide6.QtCore import QObject, Signal, Slot

from desktop.run.batch import (
    AppliedChange,
    Checkpoint,
    Reporter,
    RunBatch,
    StationLive,
    describe_step,
    snapshot,
)
from desktop.run.flows import SLOW_SPEED, FlowTracker
from desktop.run.thread import EXIT_WAIT, finish, launch, parked
from engine.model import Model, ModelError, Run, build
from engine.simulation import Simulation, SimulationStalled
from engine.time import RESOLUTION

__all__ = [
    "ACK_WAIT",
    "CHECKPOINT_INTERVAL",
    "EMIT_INTERVAL",
    "EXIT_WAIT",
    "FAST",
    "AppliedChange",
    "Checkpoint",
    "RunBatch",
    "SimulationWorker",
    "StationLive",
    "finish",
    "launch",
    "parked",
]

log = logging.getLogger(__name__)

#: Speed factor meaning "as fast as possible".
FAST = math.inf
#: Minimum wall seconds between two batches (~30 Hz).
EMIT_INTERVAL = 1.0 / 30.0
#: Wall seconds one slice of the simulation should take; bounds the latency of Pause, Step and
#: parameter changes (Stop and closing also interrupt a slice, see :meth:`SimulationWorker.stop`).
SLICE_WALL = 0.012
#: Simulated seconds of the first slice: the engine's time resolution, which holds at most a
#: few events in any model it can simulate. Later slices grow or shrink towards
#: :data:`SLICE_WALL` (at most doubling after a slice that took measurable time), so whatever
#: the time scale of the model and its end time (10^15 s), no slice holds many more events
#: than the one before it unless the model itself gets denser, and progress shows at once.
FIRST_SLICE = RESOLUTION
#: Growth of a slice of at most :data:`QUICK_EVENTS` events, which goes on at once with the
#: bigger one: from :data:`FIRST_SLICE` to a second of simulated time in 8 steps, each of at
#: most about QUICK_GROWTH × QUICK_EVENTS events if the model's density stays the same.
QUICK_GROWTH, QUICK_EVENTS = 16.0, 16
#: Wall seconds between two paced slices.
TICK = 1.0 / 60.0
#: Longest the worker holds off the simulation waiting for the GUI to acknowledge a batch.
ACK_WAIT = 0.25
#: Wall seconds between two checkpoints of the stations' running totals while running.
CHECKPOINT_INTERVAL = 1.0 / 100.0
#: Checkpoints taken by simulated time over a run (see :func:`checkpoint_grid`).
GRID_CHECKPOINTS = 1_000
#: Wall seconds between two heartbeats (see :class:`SimulationWorker`) while running flat out.
HEARTBEAT = 1.0 / 30.0


class SimulationWorker(QObject):
    """Builds ``model`` and drives it in slices paced by a speed factor (simulated seconds
    per wall second, or :data:`FAST`).

    ``model`` becomes the worker's (give it a copy of a document's model): the one model of
    the run, to which it applies the live edits it applies to the engine (:attr:`model`).
    Create it in the GUI thread, then :func:`launch` it. Every public method except
    :meth:`work` only puts a message on the command queue (and :meth:`stop` also interrupts
    the engine), so any thread may call it. The worker stops when told to, when the run
    reaches its end time (after emitting the final batch) or when the engine raises (a run
    that does not advance first emits a batch in state ``failed``); ``worker_stopped`` is
    emitted last in every case.

    With ``heartbeat=True``, while running and between batches, it emits ``heartbeat``
    about every :data:`HEARTBEAT` seconds and waits for :meth:`batch_consumed` as it does
    after a batch: the GUI thread then has the interpreter to itself for a moment, to handle
    input and timers that would otherwise wait behind the simulation.
    """

    batch_produced = Signal(object)
    heartbeat = Signal()
    state_changed = Signal(str)
    param_rejected = Signal(str)
    run_failed = Signal(str)
    worker_stopped = Signal()

    def __init__(self, model: Model, *, speed: float = FAST, paused: bool = False, heartbeat: bool = False) -> None:
        super().__init__()
        self._sim: Simulation | None = None
        self._stop_flag = False
        self._heartbeat = heartbeat
        self._next_heartbeat = 0.0
        self._model = model
        self._commands: queue.SimpleQueue[tuple[Any, ...]] = queue.SimpleQueue()
        self._speed = _check_speed(speed)
        self._running = not paused
        self._seq = 0
        self._awaiting_ack = False
        self._ack_deadline = 0.0
        self._dirty = True
        self._next_emit = 0.0
        self._chunk = 0.0
        self._anchor = (0.0, 0.0)
        self._flows: FlowTracker | None = None
        self._reporter: Reporter | None = None
        self._grid = self._next_grid = math.inf
        self._grid_count = 0
        self._next_checkpoint = 0.0

    # ------------------------------------------------------------ any thread
    def resume(self) -> None:
        """Run (or go on running) at the current speed."""
        self._commands.put(("run",))

    def pause(self) -> None:
        """Stop advancing; the run stays where it is."""
        self._commands.put(("pause",))

    def step(self) -> None:
        """Pause, then process exactly one scheduled event and report what it was."""
        self._commands.put(("step",))

    def stop(self) -> None:
        """End the run; the worker exits within milliseconds, even in the middle of a long
        slice: besides queueing the command, this asks the engine to return from the slice
        it is running (``Simulation.request_stop``, thread-safe)."""
        self._commands.put(("stop",))
        self._stop_flag = True
        sim = self._sim
        if sim is not None:
            sim.request_stop()

    def set_speed(self, speed: float) -> None:
        """Simulated seconds per wall second (> 0), or :data:`FAST`. Raises ValueError."""
        self._commands.put(("speed", _check_speed(speed)))

    def set_param(self, node_id: str, name: str, value: Any) -> None:
        """Change a parameter of the running model from the current simulated time on."""
        self._commands.put(("param", node_id, name, copy.deepcopy(value)))

    def edit_node(self, node_id: str, params: Mapping[str, Any]) -> None:
        """The node's parameters as the document now has them: the worker applies, from the
        current simulated time on, each one that differs from its model's (see
        :meth:`_edit_node`). A node the run's model does not have is ignored (it was added
        during the run: it takes part in the next one)."""
        self._commands.put(("node", node_id, copy.deepcopy(dict(params))))

    @property
    def model(self) -> Model:
        """The run's model, live changes included. It belongs to the worker thread: read it
        from another thread only while the worker is not running (before :func:`launch`, or
        after it stopped); the GUI follows it through each batch's ``changes``."""
        return self._model

    @property
    def simulated_time(self) -> float | None:
        """The simulated time the engine has reached, also in the middle of a slice (None
        before the model is built). Read from any thread: it shows progress through a slice
        that takes long, which no batch reports until it ends."""
        sim = self._sim
        return None if sim is None else sim.now

    def batch_consumed(self, next_in: float = 0.0) -> None:
        """Tell the worker the last batch was handled, so it may emit the next one, while
        running not before ``next_in`` wall seconds from now."""
        self._commands.put(("ack", time.perf_counter() + next_in))

    # ---------------------------------------------------------- worker thread
    @Slot()
    def work(self) -> None:
        """Build the run and drive it until stopped or finished (runs in the worker thread).

        A run that does not advance (:class:`~engine.simulation.SimulationStalled`) is
        reported with the engine's message, which names the nodes involved, after a last
        batch (state ``failed``) with the results up to that instant. Any other exception is
        reported as ``Type: message`` (and logged with its traceback): an engine bug must
        reach the user as a message, not kill the app.
        """
        run: Run | None = None
        try:
            run = build(self._model, series=True)
            self._reporter = Reporter(run)
            self._grid = checkpoint_grid(self._model.simulation.end_time, self._model.simulation.sample_interval)
            self._grid_count = 1
            self._next_grid = self._grid
            self._sim = run.sim
            if self._stop_flag:  # Stop came while the model was being built
                run.sim.request_stop()
            self._drive(run)
        except ModelError as exc:
            self.run_failed.emit(str(exc))
        except SimulationStalled as exc:
            if run is not None:
                self._last_batch(run)
            self.run_failed.emit(str(exc))
        except Exception as exc:
            log.exception("simulation failed")
            self.run_failed.emit(f"{type(exc).__name__}: {exc}")
        finally:
            self.worker_stopped.emit()

    def _last_batch(self, run: Run) -> None:
        """Emit a batch in state ``failed`` with what the run reached, if it can be computed."""
        if self._reporter is None:
            return
        try:
            self._seq += 1
            self.batch_produced.emit(
                self._reporter.batch(self._seq, "failed", time.perf_counter(), self._speed, self._flows)
            )
        except Exception:
            log.exception("could not collect the results of the failed run")

    def _drive(self, run: Run) -> None:
        self._chunk = max(FIRST_SLICE, 4 * math.ulp(run.now))
        self._reanchor(run)
        self._flows = FlowTracker(run)
        self.state_changed.emit("running" if self._running else "paused")
        while True:
            if not self._handle(run, self._wait_time(run)):
                self.state_changed.emit("stopped")
                return
            if self._running and not run.finished and not self._holding():
                self._slice(run)
            if run.finished and self._running:
                self._running = False
                self._dirty = True
            self._maybe_emit(run)
            if run.finished and not self._dirty:
                self.state_changed.emit("finished")
                return

    def _holding(self) -> bool:
        """Whether the GUI is still drawing the last batch (and may for a while longer); a
        batch not acknowledged within :data:`ACK_WAIT` counts as consumed."""
        return self._awaiting_ack and time.perf_counter() < self._ack_deadline

    def _wait_time(self, run: Run) -> float | None:
        """How long to block on the command queue before the next slice or emission."""
        now = time.perf_counter()
        if self._holding() and (self._dirty or (self._running and not run.finished)):
            return max(0.0, self._ack_deadline - now)
        if self._running and not run.finished:
            return 0.0 if math.isinf(self._speed) else TICK
        if self._dirty:
            return 0.0 if run.finished else max(0.0, self._next_emit - now)
        return None

    def _handle(self, run: Run, timeout: float | None) -> bool:
        """Apply every queued command (waiting up to ``timeout`` for the first); False on stop."""
        try:
            command = self._commands.get(timeout=timeout) if timeout != 0.0 else self._commands.get_nowait()
        except queue.Empty:
            return True
        while True:
            kind = command[0]
            if kind == "stop":
                return False
            if kind == "ack":
                self._awaiting_ack = False
                self._next_emit = max(self._next_emit, command[1])
            else:
                self._next_emit = 0.0  # what a command did is shown at once
            if kind == "run":
                self._running = True
                self._reanchor(run)
                self.state_changed.emit("running")
            elif kind == "pause" and self._running:
                self._running = False
                self._dirty = True
                self.state_changed.emit("paused")
            elif kind == "step":
                self._step(run)
            elif kind == "speed":
                self._speed = command[1]
                self._reanchor(run)
            elif kind == "param":
                self._apply_param(run, *command[1:])
            elif kind == "node":
                self._edit_node(run, *command[1:])
            try:
                command = self._commands.get_nowait()
            except queue.Empty:
                return True

    def _step(self, run: Run) -> None:
        if self._running:
            self._running = False
            self.state_changed.emit("paused")
        reporter = self._reporter
        assert reporter is not None
        if run.sim.peek() > run.end_time:
            reporter.note_step(f"t = {run.now:.6g} s: nothing left before the end time")
        else:
            cut = reporter.pending_cut
            if cut is not None and run.sim.peek() >= cut:
                reporter.take_cut()
            before = snapshot(run)
            outcome = run.step()
            if outcome is not None:
                reporter.note_step(describe_step(run, before, outcome))
        self._dirty = True

    def _apply_param(self, run: Run, node_id: str, name: str, value: Any) -> bool:
        """Apply one parameter to the engine and, if it took it, to the run's model."""
        try:
            run.set_param(node_id, name, value)
        except ValueError as exc:
            self.param_rejected.emit(str(exc))
            return False
        self._model.node(node_id).params[name] = value
        assert self._reporter is not None
        self._reporter.note_change(AppliedChange(run.now, node_id, name, value, self._model.copy()))
        self._dirty = True
        return True

    def _edit_node(self, run: Run, node_id: str, params: dict[str, Any]) -> None:
        """Apply each parameter of ``params`` that differs from the run's model's node.

        A parameter the document removed is removed from the run's model without an engine
        call, before the others are applied: the only removals the editor makes are a
        source's other ways of giving its arrivals (``rate``, ``interarrival``, ``profile``)
        when one is chosen, and the engine drops those itself when it applies the chosen one
        (if the engine refuses it, they are put back)."""
        if not any(n.id == node_id for n in self._model.nodes):
            return
        mine = self._model.node(node_id).params
        removed = {name: mine.pop(name) for name in [n for n in mine if n not in params]}
        applied = [
            self._apply_param(run, node_id, name, value)
            for name, value in params.items()
            if name not in mine or mine[name] != value
        ]
        if not all(applied):  # the engine kept what it had: so does the model
            mine.update(removed)

    def _reanchor(self, run: Run) -> None:
        self._anchor = (time.perf_counter(), run.now)

    def _slice(self, run: Run) -> None:
        """Advance by at most ``_chunk`` simulated seconds, and not past the paced target."""
        start = time.perf_counter()
        before, events_before = run.now, run.sim.events_processed
        limit = before + self._chunk
        chunk_bound = True
        target = math.inf
        if not math.isinf(self._speed):
            wall0, sim0 = self._anchor
            target = sim0 + self._speed * (start - wall0)
            if target < limit:
                limit, chunk_bound = target, False
        flows = self._flows
        slow = flows is not None and self._speed <= SLOW_SPEED
        if flows is not None and slow:
            flows.watch(before)
        elif flows is not None:
            flows.unwatch()
        self._advance(run, limit)
        # A nearly empty slice (the first ones, growing from FIRST_SLICE): go on at once with
        # a bigger one, within this slice's wall time.
        while (
            chunk_bound
            and not run.finished
            and not self._stop_flag
            and run.sim.events_processed - events_before <= QUICK_EVENTS
            and time.perf_counter() - start < SLICE_WALL
        ):
            self._chunk *= QUICK_GROWTH
            limit = run.now + self._chunk
            if target < limit:
                limit, chunk_bound = target, False
            self._advance(run, limit)
        if flows is not None and slow:
            flows.observe(run.now)
        elapsed = time.perf_counter() - start
        advanced = run.now - before
        if chunk_bound:
            if run.sim.events_processed - events_before <= QUICK_EVENTS:
                self._chunk *= QUICK_GROWTH  # a handful of events: growing fast is safe
            elif advanced > 0 and elapsed > 1e-4:
                # Towards the chunk that takes SLICE_WALL: at most doubling (the density of
                # events varies), but shrinking fast after a slice that took far too long.
                ideal = advanced * SLICE_WALL / elapsed
                low = self._chunk / (2.0 if elapsed < 4 * SLICE_WALL else 64.0)
                self._chunk = min(max(ideal, low), self._chunk * 2)
            elif elapsed <= 1e-4:
                self._chunk *= 2
            self._chunk = max(self._chunk, 4 * math.ulp(run.now))  # always a step the clock can take
        elif elapsed > SLICE_WALL and advanced > 0:
            self._chunk = min(self._chunk, advanced * SLICE_WALL / elapsed)
        if advanced > 0:
            self._dirty = True
        if not math.isinf(self._speed) and chunk_bound:
            self._reanchor(run)  # falling behind the pace: do not try to catch up in a burst
        if advanced > 0 and start + elapsed >= self._next_checkpoint:
            assert self._reporter is not None
            self._reporter.checkpoint()
            self._next_checkpoint = start + elapsed + CHECKPOINT_INTERVAL

    def _advance(self, run: Run, limit: float) -> None:
        """``run.run_until(limit)``, with a checkpoint at each multiple of the simulated-time
        grid (see :func:`checkpoint_grid`) the slice crosses, so that a warm-up moved after
        the run finds a held checkpoint near it however fast the run went."""
        reporter = self._reporter
        end = min(limit, run.end_time)
        while reporter is not None and self._next_grid <= end and not run.sim.stop_requested:
            self._run_to(run, self._next_grid)
            reporter.checkpoint()
            self._grid_count += 1
            self._next_grid = self._grid_count * self._grid  # multiples, not a sum that drifts
        self._run_to(run, limit)

    def _run_to(self, run: Run, limit: float) -> None:
        """``run.run_until(limit)``, stopping first just before the engine's warm-up cut if
        the slice crosses it, so that the reporter records the totals since time 0 there
        (see :meth:`desktop.run.batch.Reporter.take_cut`)."""
        reporter = self._reporter
        cut = reporter.pending_cut if reporter is not None else None
        if reporter is not None and cut is not None and min(limit, run.end_time) >= cut:
            run.run_until(math.nextafter(cut, -math.inf))
            if run.sim.stop_requested:
                return
            reporter.take_cut()
        run.run_until(limit)

    def _maybe_emit(self, run: Run) -> None:
        now = time.perf_counter()
        if self._holding():
            return
        if not self._dirty or (now < self._next_emit and not run.finished):
            if self._heartbeat and self._running and now >= self._next_heartbeat:
                self.heartbeat.emit()
                self._await_ack(now)
            return
        self._seq += 1
        state = "running" if self._running else ("finished" if run.finished else "paused")
        self.batch_produced.emit(self._batch(run, state, now))
        self._dirty = False
        self._await_ack(now)
        self._next_emit = now + EMIT_INTERVAL

    def _await_ack(self, now: float) -> None:
        self._awaiting_ack = True
        self._ack_deadline = time.perf_counter() + ACK_WAIT
        self._next_heartbeat = now + HEARTBEAT

    def _batch(self, run: Run, state: str, now: float) -> RunBatch:
        assert self._reporter is not None
        return self._reporter.batch(self._seq, state, now, self._speed, self._flows)


def checkpoint_grid(end_time: float, sample_interval: float) -> float:
    """Simulated seconds between two checkpoints taken by simulated time, besides those taken
    every :data:`CHECKPOINT_INTERVAL` of wall time: about :data:`GRID_CHECKPOINTS` over the
    run, on multiples of the sample interval (where a dragged warm-up lands)."""
    step = end_time / GRID_CHECKPOINTS
    if sample_interval > 0 and math.isfinite(sample_interval):
        step = sample_interval * max(1.0, math.ceil(step / sample_interval))
    return step if step > 0 and math.isfinite(step) else math.inf


def _check_speed(speed: float) -> float:
    value = float(speed)
    if not value > 0:
        raise ValueError(f"speed must be > 0 simulated seconds per wall second, got {speed!r}")
    return value
