"""Turn a model document into a runnable simulation, and drive it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from engine import distributions
from engine.components.delay import Delay
from engine.components.router import Router
from engine.components.server import AsyncServer, DynamicConcurrency, Server, ThreadPool, WeightedConcurrency
from engine.components.sink import Sink
from engine.components.source import Source
from engine.components.window import WindowStats
from engine.entity import Entity
from engine.metrics import Recorder, SeriesBatch
from engine.model.document import Link, Model, ModelError, Node
from engine.model.validate import check_document
from engine.queues import FIFOQueue, LIFOQueue, PriorityQueue, QueuePolicy
from engine.simulation import Simulation

_QUEUES: dict[str, type[QueuePolicy]] = {"fifo": FIFOQueue, "lifo": LIFOQueue, "priority": PriorityQueue}


class _Placeholder(Entity):
    def handle_event(self, event: Any) -> None:  # pragma: no cover - replaced before the run
        raise RuntimeError("unwired output")


def _dist(spec: Any) -> distributions.LatencyDistribution:
    return distributions.from_spec(spec)


class Run:
    """A model built into a :class:`Simulation`, ready to advance in slices.

    ``stations`` maps node ids to their engine entities (servers, pools, async servers,
    delays), ``sinks`` and ``sources`` likewise. ``recorder`` samples the time series
    when ``series`` was requested.
    """

    def __init__(self, model: Model, sim: Simulation, nodes: dict[str, Entity], recorder: Recorder | None) -> None:
        self.model = model
        self.sim = sim
        self.nodes = nodes
        kinds = {n.id: n.kind for n in model.nodes}
        self.stations: dict[str, WindowStats] = {i: e for i, e in nodes.items() if isinstance(e, WindowStats)}  # type: ignore[misc]
        self.sinks: dict[str, Sink] = {i: e for i, e in nodes.items() if isinstance(e, Sink)}
        self.sources: dict[str, Source] = {i: e for i, e in nodes.items() if isinstance(e, Source)}
        self.routers: dict[str, Router] = {i: e for i, e in nodes.items() if kinds.get(i) == "router"}  # type: ignore[misc]
        self.recorder = recorder
        self.end_time = model.simulation.end_time
        self.warmup = model.simulation.warmup

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

        Raises ValueError for a value the document would refuse or a parameter that cannot
        change during a run.
        """
        entity = self.nodes.get(node_id)
        if entity is None:
            raise ValueError(f"no node {node_id!r} in the running model")
        where = f"node {node_id!r}: {name}"
        try:
            if isinstance(entity, Source):
                if name == "rate":
                    entity.rate = value
                elif name == "interarrival":
                    entity.interarrival = _dist(value)
                else:
                    raise ValueError("only rate and interarrival can change during a run")
            elif isinstance(entity, Server) and name == "service_time":
                entity.service_time = _dist(value)
            elif isinstance(entity, ThreadPool) and name == "processing_time":
                entity.processing_time = _dist(value)
            elif isinstance(entity, (Server, ThreadPool)) and name in ("concurrency", "num_workers"):
                limit = value.get("initial") if isinstance(value, dict) else value
                if not isinstance(limit, int):
                    raise ValueError(f"must be an integer >= 1, got {value!r}")
                entity.set_capacity(limit)
            elif isinstance(entity, (Server, ThreadPool)) and name == "queue_capacity":
                if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < 0):
                    raise ValueError(f"must be an integer >= 0 or null, got {value!r}")
                entity._queue_limit = value
            elif isinstance(entity, AsyncServer) and name == "cpu_work_distribution":
                entity._cpu_dist = None if value is None else _dist(value)
                entity._bind_samplers(self.sim)
            elif isinstance(entity, AsyncServer) and name == "io_time":
                entity._io_time = None if value is None else _dist(value)
                entity._bind_samplers(self.sim)
            elif isinstance(entity, AsyncServer) and name == "max_connections":
                if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                    raise ValueError(f"must be an integer >= 1, got {value!r}")
                entity._max = value
            elif isinstance(entity, Delay) and name == "delay":
                entity.delay = _dist(value)
            elif isinstance(entity, Router) and name == "policy":
                entity.set_policy(value)
            else:
                raise ValueError("cannot change during a run; stop and run again")
        except (TypeError, ValueError) as exc:
            raise ValueError(f"{where}: {exc}") from None


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
    for node in model.nodes:
        entities[node.id] = _make(node, sim)
    outs: dict[str, list[Link]] = {}  # out-links by node, in document order, found in one pass
    for link in model.links:
        outs.setdefault(link.source, []).append(link)
    for node in model.nodes:
        _wire(node, outs.get(node.id, []), entities)
    for entity in entities.values():
        sim.add(entity)
    for node in model.nodes:
        conc = node.params.get("concurrency")
        if node.kind == "server" and isinstance(conc, dict):
            _configure_concurrency(entities[node.id], conc, sim)  # type: ignore[arg-type]
    recorder = None
    run = Run(model, sim, entities, None)
    if settings.warmup > 0:

        def end_warmup(_: Any) -> None:
            for st in list(run.stations.values()) + list(run.sinks.values()):
                st._reset_window(sim.now)

        sim.call_daemon_at(settings.warmup, end_warmup)
    if series:
        recorder = Recorder(sim, run.stations, settings.sample_interval)
        run.recorder = recorder
    run.end_time = end
    return run


def _make(node: Node, sim: Simulation) -> Entity:
    p = node.params
    kind = node.kind
    placeholder = _Placeholder(f"{node.id}:out")
    if kind == "source":
        priority = p.get("priority")
        factory = None
        if priority is not None:

            def factory(now: float, _priority: Any = priority) -> dict[str, Any]:
                return {"metadata": {"priority": _priority}}

        kwargs: dict[str, Any] = {"limit": p.get("limit"), "context_factory": factory}
        if p.get("profile") is not None:
            return Source(node.id, placeholder, profile=p["profile"], **kwargs)
        if p.get("interarrival") is not None:
            return Source(node.id, placeholder, _dist(p["interarrival"]), **kwargs)
        return Source(node.id, placeholder, rate=p.get("rate", 1.0), **kwargs)
    queue = _QUEUES[p.get("queue_policy", "fifo")]()
    if kind == "server":
        conc = p.get("concurrency", 1)
        if isinstance(conc, dict):
            if conc["kind"] == "weighted":
                model: Any = WeightedConcurrency(conc["total_capacity"])
            elif conc["kind"] == "fixed":
                model = DynamicConcurrency(conc["c"], 1, None)
            else:
                model = DynamicConcurrency(conc["initial"], conc.get("min", 1), conc.get("max"))
        else:
            model = DynamicConcurrency(conc, 1, None)  # dynamic so that live edits can change it
        return Server(node.id, model, _dist(p["service_time"]), queue, p.get("queue_capacity"))
    if kind == "thread_pool":
        return ThreadPool(
            node.id,
            p.get("num_workers", 4),
            queue,
            p.get("queue_capacity"),
            processing_time=_dist(p["processing_time"]),
        )
    if kind == "async_server":
        cpu = p.get("cpu_work_distribution", {"dist": "exponential", "mean": 0.01})
        io = p.get("io_time", {"dist": "exponential", "mean": 0.1})
        return AsyncServer(
            node.id,
            p.get("max_connections", 10000),
            None if cpu is None else _dist(cpu),
            io_time=None if io is None else _dist(io),
        )
    if kind == "delay":
        return Delay(node.id, _dist(p["delay"]))
    if kind == "sink":
        return Sink(node.id)
    if kind == "router":
        return Router(node.id, [placeholder], p.get("policy", "round_robin"))
    raise ModelError([f"node {node.id!r}: unknown kind {kind!r}"])


def _wire(node: Node, outs: list[Link], entities: dict[str, Entity]) -> None:
    entity = entities[node.id]
    if node.kind == "sink" or not outs:
        return
    targets = [entities[link.target] for link in outs]
    latencies = [None if link.latency is None else _dist(link.latency) for link in outs]
    if node.kind == "router":
        router: Router = entity  # type: ignore[assignment]
        router.set_links(targets, latencies)
        return
    if len(outs) == 1 and latencies[0] is None:
        downstream: Entity = targets[0]
    elif len(outs) == 1:
        downstream = Router(f"{node.id}→{outs[0].target}", targets, latencies=latencies)
    else:
        weights = [link.probability or 0.0 for link in outs]
        downstream = Router(f"{node.id}:routing", targets, "probability", weights=weights, latencies=latencies)
    if isinstance(entity, Source):
        entity.target = downstream
    else:
        entity.downstream = downstream  # type: ignore[attr-defined]


def _configure_concurrency(server: Server, conc: dict[str, Any], sim: Simulation) -> None:
    if conc["kind"] == "weighted" and conc.get("weight") is not None:
        server._weight_sampler = _dist(conc["weight"]).sampler(sim, f"{server.name}/weight")
    auto = conc.get("autoscale") if conc["kind"] == "dynamic" else None
    if auto is None:
        return
    model: DynamicConcurrency = server.concurrency_model  # type: ignore[assignment]
    target = float(auto.get("target_utilization", 0.7))
    band = float(auto.get("band", 0.1))
    interval = float(auto.get("interval", 10.0))
    step = int(auto.get("step", 1))
    last = {"t": sim.now, "busy": 0.0, "cap": 0.0, "start": server._m_start}

    def evaluate(_: Any) -> None:
        now = sim.now
        _, _, busy, cap = server.areas(now)
        if server._m_start != last["start"]:  # window reset since the last look
            last.update(busy=0.0, cap=0.0, start=server._m_start)
        dcap = cap - last["cap"]
        observed = (busy - last["busy"]) / dcap if dcap > 0 else 0.0
        last.update(t=now, busy=busy, cap=cap)
        if observed > target + band:
            model.scale_up(step)
        elif observed < target - band:
            model.scale_down(step)
        sim.call_daemon_at(now + interval, evaluate)

    sim.call_daemon_at(sim.now + interval, evaluate)


def slice_times(start: float, end: float, slices: int) -> list[float]:
    """``slices`` equal steps from ``start`` to ``end``; the last is ``end`` exactly."""
    times = [start + (end - start) * k / slices for k in range(1, slices)]
    return [*times, end]


def replication_seeds(seed: int | None, count: int) -> list[np.random.SeedSequence]:
    """Independent seeds for ``count`` replications, spawned from ``seed``."""
    return np.random.SeedSequence(seed).spawn(count)
