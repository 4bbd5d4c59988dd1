"""Turn a model document into a runnable simulation, and drive it."""

from __future__ import annotations

import copy
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
        # The nodes as they stand now, live changes included (the document is not touched).
        self._live: dict[str, Node] = {n.id: copy.deepcopy(n) for n in model.nodes}
        self._autoscalers: dict[str, _Autoscaler] = {}

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

        Only the parameters in :data:`LIVE_PARAMS` change during a run; each takes effect
        from the instant of the change exactly as it would from the start of a run (a
        server's whole concurrency object: initial, min, max and autoscale rule). Setting
        one of a source's ``rate``, ``interarrival`` or ``profile`` clears the others, as
        the editor does.

        Raises ValueError, naming the node and the parameter, for a value the document
        would refuse or a parameter that cannot change during a run; the run goes on
        unchanged.
        """
        entity = self.nodes.get(node_id)
        node = self._live.get(node_id)
        if entity is None or node is None:
            raise ValueError(f"no node {node_id!r} in the running model")
        where = f"node {node_id!r}: {name}"
        if name not in LIVE_PARAMS.get(node.kind, ()):
            raise ValueError(f"{where} cannot change during a run; stop and run again")
        params = copy.deepcopy(node.params)
        params[name] = copy.deepcopy(value)
        if node.kind == "source" and value is not None and name in _ARRIVALS:
            for other in _ARRIVALS:
                if other != name:
                    params.pop(other, None)
        errors = check_document(
            Model(nodes=[Node(node_id, node.kind, node.position, params)]), check_graph=False
        ).errors
        if errors:
            raise ValueError(f"{where}: {errors[0].removeprefix(f'node {node_id!r}: ')}")
        try:
            self._apply(node_id, node.kind, entity, name, params)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"{where}: {exc}") from None
        node.params = params

    def _apply(self, node_id: str, kind: str, entity: Any, name: str, params: dict[str, Any]) -> None:
        value = params[name]
        if kind == "source":
            if name == "priority":
                entity.set_priority(value)
            elif value is not None:  # None leaves the arrivals to the parameter that is set
                if name == "rate":
                    entity.set_rate(value)
                else:
                    entity.set_interarrival(_dist(value))
        elif name == "service_time":
            entity.set_service_time(_dist(value))
        elif name == "processing_time":
            entity.set_processing_time(_dist(value))
        elif name == "delay":
            entity.set_delay(_dist(value))
        elif name == "queue_capacity":
            entity.set_queue_capacity(value)
        elif name == "num_workers":
            entity.set_capacity(value)
        elif name == "concurrency":
            self._set_concurrency(node_id, entity, value)
        elif name == "max_connections":
            entity.set_max_connections(value)
        elif name == "cpu_work_distribution":
            entity.set_cpu_work(None if value is None else _dist(value))
        elif name == "io_time":
            entity.set_io_time(None if value is None else _dist(value))
        elif name == "policy":
            entity.set_policy(value)
        else:  # pragma: no cover - LIVE_PARAMS and this method go together
            raise ValueError("cannot change during a run; stop and run again")

    def _set_concurrency(self, node_id: str, server: Server, conc: Any) -> None:
        """Give ``server`` the concurrency ``conc`` (a document value) from now on, as a run
        started with it would have it: the limit, its bounds, request weights and the
        autoscaling rule, whose evaluations restart from now."""
        sim = self.sim
        kind = conc.get("kind") if isinstance(conc, dict) else "fixed"
        if (kind == "weighted") != server.is_weighted:
            raise ValueError("cannot switch between weighted and slot concurrency during a run; stop and run again")
        old = self._autoscalers.pop(node_id, None)
        if old is not None:
            old.active = False
        if server.is_weighted:
            server.set_total_capacity(conc["total_capacity"])  # starts waiting work at once if it rises
            weight = conc.get("weight")
            server.set_weight(None if weight is None else _dist(weight))
            return
        server.set_slot_limits(*_slot_bounds(conc))  # starts waiting work at once if it rises
        auto = conc.get("autoscale") if kind == "dynamic" else None
        if auto is not None:
            self._autoscalers[node_id] = _Autoscaler(sim, server, auto)


#: Parameters that can change while a model runs (:meth:`Run.set_param`), by node kind.
#: Each takes effect from the instant of the change as it would from the start of a run.
#: Any other parameter needs a new run.
LIVE_PARAMS: dict[str, tuple[str, ...]] = {
    "source": ("rate", "interarrival", "priority"),
    "server": ("concurrency", "service_time", "queue_capacity"),
    "thread_pool": ("num_workers", "processing_time", "queue_capacity"),
    "async_server": ("max_connections", "cpu_work_distribution", "io_time"),
    "delay": ("delay",),
    "router": ("policy",),
}

_ARRIVALS = ("rate", "interarrival", "profile")


def _priority_factory(priority: Any) -> Callable[[float], dict[str, Any]] | None:
    """A source's context factory giving every request ``priority`` (None: no factory)."""
    if priority is None:
        return None

    def factory(now: float) -> dict[str, Any]:
        return {"metadata": {"priority": priority}}

    return factory


def _slot_bounds(conc: Any) -> tuple[int, int, int | None]:
    """``(initial, min, max)`` of a slot concurrency value (an int, fixed or dynamic)."""
    if not isinstance(conc, dict):
        return conc, 1, None
    if conc["kind"] == "fixed":
        return conc["c"], 1, None
    return conc["initial"], conc.get("min") or 1, conc.get("max")


class _Autoscaler:
    """A dynamic server's autoscaling rule: every ``interval`` seconds it looks at the
    utilisation observed since its last look and scales by ``step`` when that is outside
    ``target_utilization ± band``. ``active`` False stops it (a live change replaced it)."""

    def __init__(self, sim: Simulation, server: Server, auto: dict[str, Any]) -> None:
        self.sim = sim
        self.server = server
        self.target = float(auto.get("target_utilization", 0.7))
        self.band = float(auto.get("band", 0.1))
        self.interval = float(auto.get("interval", 10.0))
        self.step = int(auto.get("step", 1))
        self.active = True
        self.evaluations = 0
        _, _, self.busy, self.cap = server.areas(sim.now)
        self.start = server.window_start
        sim.call_daemon_at(sim.now + self.interval, self.evaluate)

    @property
    def stall_name(self) -> str:
        return f"autoscaling of {self.server.name!r}"

    def evaluate(self, _: Any) -> None:
        if not self.active:
            return
        sim, server = self.sim, self.server
        now = sim.now
        _, _, busy, cap = server.areas(now)
        if server.window_start != self.start:  # the window was reset since the last look
            self.busy, self.cap, self.start = 0.0, 0.0, server.window_start
        dcap = cap - self.cap
        observed = (busy - self.busy) / dcap if dcap > 0 else 0.0
        self.busy, self.cap = busy, cap
        self.evaluations += 1
        model: DynamicConcurrency = server.concurrency_model  # type: ignore[assignment]
        if observed > self.target + self.band:
            model.scale_up(self.step)
        elif observed < self.target - self.band:
            model.scale_down(self.step)
        sim.call_daemon_at(now + self.interval, self.evaluate)


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
    recorder = None
    run = Run(model, sim, entities, None)
    for node in model.nodes:
        conc = node.params.get("concurrency")
        if node.kind == "server" and isinstance(conc, dict):
            run._set_concurrency(node.id, entities[node.id], conc)  # type: ignore[arg-type]
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


def _make(node: Node, sim: Simulation) -> Entity:
    p = node.params
    kind = node.kind
    placeholder = _Placeholder(f"{node.id}:out")
    if kind == "source":
        kwargs: dict[str, Any] = {"limit": p.get("limit"), "context_factory": _priority_factory(p.get("priority"))}
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
                model = DynamicConcurrency(*_slot_bounds(conc))
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
