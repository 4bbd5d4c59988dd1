"""The ``server`` kind: a queue in front of c identical servers (fixed, dynamic or weighted concurrency)."""

from __future__ import annotations

from types import MappingProxyType
from typing import Any

from engine.components.server import DynamicConcurrency, Server, WeightedConcurrency
from engine.model.kinds.base import (
    DEFAULT_SERVICE,
    Kind,
    LiveContext,
    Param,
    ServiceDescription,
    describe_dist,
    dist,
    maybe_dist,
)
from engine.model.kinds.queued import QUEUE_PARAMS, queue_of, set_queue_capacity
from engine.simulation import Simulation

#: Fields of a concurrency object by kind: (required, optional).
CONCURRENCY_FIELDS = {
    "fixed": (("c",), ()),
    "dynamic": (("initial",), ("min", "max", "autoscale")),
    "weighted": (("total_capacity",), ("weight",)),
}
#: An autoscaling rule's fields with their defaults.
AUTOSCALE_DEFAULTS = MappingProxyType({"target_utilization": 0.7, "interval": 10.0, "step": 1, "band": 0.1})
AUTOSCALE_FIELDS = tuple(AUTOSCALE_DEFAULTS)


def resolve_concurrency(conc: Any) -> Any:
    """A concurrency value in its one resolved form, every default filled in:
    ``{"kind": "fixed", "c"}``, ``{"kind": "dynamic", "initial", "min", "max",
    "autoscale": rule or None}`` (a rule with all of :data:`AUTOSCALE_DEFAULTS`) or
    ``{"kind": "weighted", "total_capacity", "weight": distribution or None}``. A value
    that is neither an integer nor such an object is returned as it is."""
    if isinstance(conc, int) and not isinstance(conc, bool):
        return {"kind": "fixed", "c": conc}
    if not isinstance(conc, dict):
        return conc
    kind = conc.get("kind")
    if kind == "dynamic":
        auto = conc.get("autoscale")
        return {
            "kind": "dynamic",
            "initial": conc.get("initial"),
            "min": conc.get("min") or 1,
            "max": conc.get("max"),
            "autoscale": {**AUTOSCALE_DEFAULTS, **auto} if isinstance(auto, dict) else None,
        }
    if kind == "weighted":
        return {"kind": "weighted", "total_capacity": conc.get("total_capacity"), "weight": conc.get("weight")}
    return dict(conc)


def _normalise(r: dict[str, Any]) -> dict[str, Any]:
    r["concurrency"] = resolve_concurrency(r["concurrency"])
    return r


def slot_bounds(conc: dict[str, Any]) -> tuple[int, int, int | None]:
    """``(initial, min, max)`` of a resolved slot concurrency (fixed or dynamic)."""
    if conc["kind"] == "fixed":
        return conc["c"], 1, None
    return conc["initial"], conc["min"], conc["max"]


def _build(node_id: str, r: dict[str, Any], sim: Simulation, context: LiveContext) -> Server:
    conc = r["concurrency"]
    if conc["kind"] == "weighted":
        model: Any = WeightedConcurrency(conc["total_capacity"])
    else:
        model = DynamicConcurrency(*slot_bounds(conc))  # dynamic so that live edits can change it
    server = Server(node_id, model, dist(r["service_time"]), queue_of(r), r["queue_capacity"])
    _set_concurrency(server, r, context)
    return server


def _set_concurrency(server: Server, r: dict[str, Any], context: LiveContext) -> None:
    """Give ``server`` the concurrency in ``r`` from now on, as a run started with it would
    have it: the limit, its bounds, request weights and the autoscaling rule, whose
    evaluations restart from now."""
    conc = r["concurrency"]
    if (conc["kind"] == "weighted") != server.is_weighted:
        raise ValueError("cannot switch between weighted and slot concurrency during a run; stop and run again")
    old = context.state.pop("autoscaler", None)
    if old is not None:
        old.active = False
    if server.is_weighted:
        server.set_total_capacity(conc["total_capacity"])  # starts waiting work at once if it rises
        server.set_weight(maybe_dist(conc["weight"]))
        return
    server.set_slot_limits(*slot_bounds(conc))  # starts waiting work at once if it rises
    auto = conc["autoscale"] if conc["kind"] == "dynamic" else None
    if auto is not None:
        context.state["autoscaler"] = Autoscaler(context.sim, server, auto)


def _set_service_time(server: Server, r: dict[str, Any], context: LiveContext) -> None:
    server.set_service_time(dist(r["service_time"]))


class Autoscaler:
    """A dynamic server's autoscaling rule: every ``interval`` seconds it looks at the
    utilisation observed since its last look and scales by ``step`` when that is outside
    ``target_utilization ± band``. ``active`` False stops it (a live change replaced it)."""

    def __init__(self, sim: Simulation, server: Server, auto: dict[str, Any]) -> None:
        self.sim = sim
        self.server = server
        self.target = float(auto["target_utilization"])
        self.band = float(auto["band"])
        self.interval = float(auto["interval"])
        self.step = int(auto["step"])
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


def _describe(r: dict[str, Any]) -> ServiceDescription:
    """c and S of a server; see :class:`ServiceDescription` for the dynamic-concurrency rule."""
    conc = r["concurrency"]
    service = dist(r["service_time"])
    queue = r["queue_capacity"]
    if conc["kind"] == "weighted":
        weight = maybe_dist(conc["weight"])
        return ServiceDescription(
            service,
            None,
            "weighted concurrency has no closed form",
            capacity=conc["total_capacity"],
            demand=max(1.0, weight.mean) if weight is not None else 1.0,
            weighted=True,
            queue_capacity=queue,
            blocking=queue is not None,
        )
    if conc["kind"] == "dynamic" and conc["autoscale"] is not None:
        return ServiceDescription(
            service,
            None,
            "autoscaling changes c during the run",
            capacity=conc["max"],
            moving=True,
            queue_capacity=queue,
            blocking=queue is not None,
        )
    c = conc["c"] if conc["kind"] == "fixed" else conc["initial"]
    return ServiceDescription(service, c, capacity=c, queue_capacity=queue, blocking=queue is not None)


def _summary(r: dict[str, Any]) -> str:
    conc = r["concurrency"]
    if conc["kind"] == "fixed":
        servers = f"{conc['c']} server{'s' if conc['c'] != 1 else ''}"
    else:
        servers = f"{conc['kind']} servers"
    return f"{servers}\n{describe_dist(r['service_time'])}"


KIND = Kind(
    "server",
    "Server",
    "A queue in front of `concurrency` identical servers; each request holds one "
    "for a service time drawn from `service_time`.",
    (
        Param(
            "concurrency",
            "concurrency",
            "concurrency",
            "Number of servers (c), or an object: "
            '{"kind": "dynamic", "initial", "min", "max", "autoscale": {…}} or '
            '{"kind": "weighted", "total_capacity", "weight": distribution}.',
            1,
            "servers",
            minimum=1,
        ),
        Param(
            "service_time",
            "dist",
            "service time",
            "Time one request holds a server.",
            DEFAULT_SERVICE,
            "s",
            required=True,
        ),
        *QUEUE_PARAMS,
    ),
    normalise=_normalise,
    builder=_build,
    live=MappingProxyType(
        {"concurrency": _set_concurrency, "service_time": _set_service_time, "queue_capacity": set_queue_capacity}
    ),
    describe=_describe,
    summarise=_summary,
)
