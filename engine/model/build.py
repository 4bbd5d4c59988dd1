"""Turn a model document into a runnable simulation, and drive it."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import numpy as np

from engine import distributions
from engine.components.router import Router
from engine.components.sink import Sink
from engine.components.source import Source
from engine.components.window import WindowStats
from engine.entity import Entity
from engine.metrics import Recorder, SeriesBatch
from engine.model.document import Link, Model, ModelError, Node
from engine.model.schema import KINDS, LiveContext
from engine.model.validate import check_document
from engine.simulation import Simulation


class Run:
    """A model built into a :class:`Simulation`, ready to advance in slices.

    ``stations`` maps the ids of the nodes whose kind is a station
    (:attr:`~engine.model.schema.Kind.is_station`) to their engine entities, which report
    the station metrics; ``sinks``, ``sources`` and ``routers`` map ids to the entities of
    those classes. ``recorder`` samples the time series
    when ``series`` was requested.
    """

    def __init__(
        self,
        model: Model,
        sim: Simulation,
        nodes: dict[str, Entity],
        recorder: Recorder | None,
        contexts: dict[str, LiveContext] | None = None,
    ) -> None:
        self.model = model
        self.sim = sim
        self.nodes = nodes
        #: Per node, what its kind keeps for the run (see :class:`LiveContext`).
        self.contexts: dict[str, LiveContext] = contexts if contexts is not None else {}
        stations = {n.id for n in model.nodes if KINDS[n.kind].is_station}
        self.stations: dict[str, WindowStats] = {i: e for i, e in nodes.items() if i in stations}  # type: ignore[misc]
        self.sinks: dict[str, Sink] = {i: e for i, e in nodes.items() if isinstance(e, Sink)}
        self.sources: dict[str, Source] = {i: e for i, e in nodes.items() if isinstance(e, Source)}
        self.routers: dict[str, Router] = {i: e for i, e in nodes.items() if isinstance(e, Router)}
        self.recorder = recorder
        self.end_time = model.simulation.end_time
        self.warmup = model.simulation.warmup
        # The nodes as they stand now, live changes included (the document is not touched).
        self._live: dict[str, Node] = {n.id: copy.deepcopy(n) for n in model.nodes}

    @property
    def now(self) -> float:
        return self.sim.now

    @property
    def finished(self) -> bool:
        """Whether the run reached its end time."""
        return self.sim.now >= self.end_time

    def run_until(self, t: float) -> None:
        """Advance to ``min(t, end_time)``."""
        self.sim.run_until(min(t, self.end_time))

    def run(self, progress: Callable[[float], None] | None = None, slices: int = 100) -> None:
        """Run to the end, calling ``progress(fraction)`` after each of ``slices`` slices.

        Returns early after ``sim.request_stop()``; raises ``SimulationStalled`` when the
        run does not advance.
        """
        start = self.sim.now
        for t in slice_times(start, self.end_time, slices):
            self.run_until(t)
            if self.sim.stop_requested:
                return
            if progress is not None:
                progress((t - start) / (self.end_time - start) if self.end_time > start else 1.0)

    def step(self) -> tuple[float, Any] | None:
        """Process one scheduled call (see :meth:`Simulation.step`)."""
        return self.sim.step()

    def drain_series(self) -> SeriesBatch | None:
        """New time-series rows since the previous call (None without a recorder)."""
        return None if self.recorder is None else self.recorder.drain()

    def results(self) -> dict[str, dict[str, Any]]:
        """``{node id: metrics}`` for every station and sink, over the window up to now."""
        now = self.sim.now
        out: dict[str, dict[str, Any]] = {}
        for sid, st in self.stations.items():
            out[sid] = st.window_metrics(now)
        for sid, sink in self.sinks.items():
            out[sid] = sink.window_metrics(now)
        return out

    def totals(self) -> dict[str, tuple[int, float, int, float]]:
        """``{station id: (completed, response-time sum, started, wait sum)}`` over the
        window up to now (see ``WindowStats.window_totals``): cheap, unlike :meth:`results`."""
        return {sid: st.window_totals() for sid, st in self.stations.items()}

    # --------------------------------------------------------- live changes
    def set_param(self, node_id: str, name: str, value: Any) -> None:
        """Apply a parameter change to the running model from now on (a live what-if).

        The parameters that can change during a run are those in the node kind's
        :attr:`~engine.model.schema.Kind.live` mapping (see :func:`live_params`); each
        takes effect from the instant of the change exactly as it would from the start of
        a run (a server's whole concurrency object: initial, min, max and autoscale rule).
        Setting one of a kind's :attr:`~engine.model.schema.Kind.exclusive` parameters (a
        source's ``rate``, ``interarrival`` or ``profile``) clears the others, as the
        editor does.

        Raises ValueError, naming the node and the parameter, for a value the document
        would refuse or a parameter that cannot change during a run; the run goes on
        unchanged.
        """
        entity = self.nodes.get(node_id)
        node = self._live.get(node_id)
        if entity is None or node is None:
            raise ValueError(f"no node {node_id!r} in the running model")
        where = f"node {node_id!r}: {name}"
        kind = KINDS[node.kind]
        setter = kind.live.get(name)
        if setter is None:
            raise ValueError(f"{where} cannot change during a run; stop and run again")
        params = copy.deepcopy(node.params)
        params[name] = copy.deepcopy(value)
        if value is not None and name in kind.exclusive:
            for other in kind.exclusive:
                if other != name:
                    params.pop(other, None)
        errors = check_document(
            Model(nodes=[Node(node_id, node.kind, node.position, params)]), check_graph=False
        ).errors
        if errors:
            raise ValueError(f"{where}: {errors[0].removeprefix(f'node {node_id!r}: ')}")
        context = self.contexts.setdefault(node_id, LiveContext(self.sim, node_id))
        try:
            setter(entity, kind.resolve(params), context)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"{where}: {exc}") from None
        node.params = params


def live_params(kind: str) -> tuple[str, ...]:
    """The parameters of node kind ``kind`` that can change while a model runs
    (:meth:`Run.set_param`), from its entry's ``live`` mapping; () for an unknown kind."""
    entry = KINDS.get(kind)
    return () if entry is None else tuple(entry.live)


def build(model: Model, *, seed: Any = None, end_time: float | None = None, series: bool = False) -> Run:
    """Build ``model`` into a :class:`Run`.

    ``seed`` (an int or a numpy SeedSequence) and ``end_time`` override the document's.
    With ``series=True`` a :class:`Recorder` samples the time series.
    Raises :class:`ModelError` if the model is invalid.
    """
    report = check_document(model)
    if report.errors:
        raise ModelError(report.errors)
    settings = model.simulation
    end = settings.end_time if end_time is None else float(end_time)
    if not end > settings.warmup:
        raise ModelError([f"end_time ({end:g}) must be greater than warmup ({settings.warmup:g})"])
    sim = Simulation(end_time=end, seed=settings.seed if seed is None else seed)
    entities: dict[str, Entity] = {}
    contexts: dict[str, LiveContext] = {}
    for node in model.nodes:
        kind = KINDS[node.kind]
        contexts[node.id] = LiveContext(sim, node.id)
        entities[node.id] = kind.build(node.id, kind.resolve(node.params), sim, contexts[node.id])
    outs: dict[str, list[Link]] = {}  # out-links by node, in document order, found in one pass
    for link in model.links:
        outs.setdefault(link.source, []).append(link)
    for node in model.nodes:
        node_outs = outs.get(node.id, [])
        if node_outs and KINDS[node.kind].has_output:
            KINDS[node.kind].connect(
                entities[node.id],
                node.id,
                [entities[link.target] for link in node_outs],
                [None if link.latency is None else distributions.from_spec(link.latency) for link in node_outs],
                [link.probability for link in node_outs],
            )
    for entity in entities.values():
        sim.add(entity)
    recorder = None
    run = Run(model, sim, entities, None, contexts)
    if settings.warmup > 0:

        def end_warmup(_: Any) -> None:
            for st in list(run.stations.values()) + list(run.sinks.values()):
                st.reset_window()

        sim.call_daemon_at(settings.warmup, end_warmup)
    if series:
        recorder = Recorder(sim, run.stations, settings.sample_interval)
        run.recorder = recorder
    run.end_time = end
    return run


def slice_times(start: float, end: float, slices: int) -> list[float]:
    """``slices`` equal steps from ``start`` to ``end``; the last is ``end`` exactly."""
    times = [start + (end - start) * k / slices for k in range(1, slices)]
    return [*times, end]


def replication_seeds(seed: int | None, count: int) -> list[np.random.SeedSequence]:
    """Independent seeds for ``count`` replications, spawned from ``seed``: child ``r`` is
    :func:`replication_seed` ``(seed, r)`` (for ``None``, of one fresh entropy)."""
    return np.random.SeedSequence(seed).spawn(count)


def replication_seed(seed: int, replication: int) -> np.random.SeedSequence:
    """The seed of replication ``replication``, from ``seed`` and the index alone (the
    ``replication``-th child of ``SeedSequence(seed).spawn(…)``): the same at every sweep
    point and in both models of a comparison (common random numbers)."""
    return np.random.SeedSequence(seed, spawn_key=(replication,))
