"""The shape of a node kind: its parameters, and everything the rest of Queue Studio asks about it.

A :class:`Kind` is the one home of a node kind. Validation checks a node's ``params``
against :attr:`Kind.params`; :meth:`Kind.resolve` then fills in every default once, and
from there on nothing reads the raw ``params`` again: the builder calls :meth:`Kind.build`,
a live run looks a parameter up in :attr:`Kind.live`, queueing theory and the load check
ask :meth:`Kind.service`, the canvas draws :meth:`Kind.summary`. Adding a kind is writing
one entry (a module of :mod:`engine.model.kinds`) and listing it in ``KINDS``.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from engine import distributions
from engine.components.router import Router
from engine.entity import Entity
from engine.time import RESOLUTION

if TYPE_CHECKING:
    from engine.simulation import Simulation

#: The engine's time resolution in seconds (:data:`engine.time.RESOLUTION`, 1 ns): instants
#: round to the nanosecond. A positive time shorter than this cannot be told from zero, and
#: a clock advancing by less stalls the run (``engine.simulation.SimulationStalled``).
TIME_RESOLUTION = RESOLUTION
#: The longest time a model may name, in seconds: 2^63 nanoseconds (about 292 years), the
#: range of a clock counting nanoseconds in a 64-bit integer.
MAX_TIME = 9.2e9
#: The highest arrival rate, per second: one arrival per nanosecond on average. Above it
#: the mean inter-arrival time is below :data:`TIME_RESOLUTION`.
MAX_RATE = 1e9
#: The lowest constant arrival rate, per second: one arrival within :data:`MAX_TIME`. A
#: lower rate (0 included) never sends anything a run could see; a source that should be
#: silent for a while uses a ``profile`` with a rate of 0 in that phase.
MIN_RATE = 1.0 / MAX_TIME
#: Counts (servers, workers, connections, capacities, arrival limits) above this are
#: refused as typos: no model needs a billion servers.
MAX_COUNT = 10**9

#: Distribution every new station starts with.
DEFAULT_SERVICE = {"dist": "exponential", "mean": 1.0}


@dataclass(frozen=True)
class Param:
    """One parameter of a node kind.

    ``type`` is one of ``int``, ``number``, ``dist``, ``choice``, ``concurrency``,
    ``profile``. ``minimum``/``maximum`` bound numbers; ``exclusive_minimum`` makes the
    minimum strict. ``nullable`` allows ``null`` (meaning "none" or "unlimited").
    ``why_maximum`` and ``why_minimum`` say why a bound is what it is (shown when it is
    crossed). ``default`` is the value of a parameter the node does not give: the only
    place that default is written.
    """

    name: str
    type: str
    label: str
    help: str
    default: Any = None
    unit: str = ""
    minimum: float | None = None
    exclusive_minimum: bool = False
    maximum: float | None = None
    nullable: bool = False
    required: bool = False
    choices: tuple[str, ...] = ()
    why_maximum: str = ""
    why_minimum: str = ""


@dataclass(frozen=True)
class ServiceDescription:
    """What a station is, for queueing theory and the load check: the one answer to "c and E[S]".

    ``service`` is the time S one request holds one unit of capacity (a server, a worker,
    the event loop's CPU). ``servers`` is c when it is fixed for the whole run; it is None
    for an infinite-server station (``infinite``) and when there is no fixed c, with
    ``reason`` saying why. ``capacity`` is the most capacity the station can reach during
    a run (``None``: unlimited), the divisor of the offered load; ``demand`` is the mean
    capacity one request holds (a weighted server's mean weight, else 1); ``weighted``
    says requests hold capacity by weight, so busy capacity is not X·E[S].

    Dynamic concurrency is settled here, once: a dynamic server without an ``autoscale``
    rule keeps its ``initial`` limit for the whole run (nothing but a live edit moves it),
    so c = initial, and theory solves it as an M/M/c like any fixed server. With an
    autoscale rule the limit moves by itself while the run goes, so there is no c
    (``servers`` None, ``moving`` True) and no closed form; the load check then divides
    by the most the rule can reach (``max``, or no bound without one), since a station
    that can grow to meet its load is not overloaded.

    ``queue_capacity`` counts waiting places (None: unlimited). An ``event_loop`` (an
    async server) is one server for the CPU work followed by ``io``, a concurrent stage
    that holds no capacity; ``connections`` is the most requests it admits at once in
    both stages. ``blocking``: arrivals can be turned away (a finite queue, or a
    connection limit low enough to count).
    """

    service: distributions.LatencyDistribution | None
    servers: int | None
    reason: str = ""
    infinite: bool = False
    capacity: float | None = None
    demand: float = 1.0
    weighted: bool = False
    moving: bool = False
    queue_capacity: int | None = None
    event_loop: bool = False
    io: distributions.LatencyDistribution | None = None
    connections: int | None = None
    blocking: bool = False

    @property
    def mean_service(self) -> float | None:
        """E[S] in seconds, or None without a service distribution."""
        return None if self.service is None else self.service.mean

    def offered_load(self, arrival_rate: float) -> float | None:
        """ρ = λ·E[S]·demand / capacity at ``arrival_rate`` per second; None where it has
        no meaning (an infinite-server station, capacity without bound, no service time)."""
        mean = self.mean_service
        if self.infinite or mean is None or self.capacity is None:
            return None
        return arrival_rate * mean * self.demand / self.capacity


@dataclass
class LiveContext:
    """What a kind's builder and live setters may use besides the component: the
    simulation, the node id, and ``state``, a dict the kind keeps per node for the whole
    run (a server's autoscaling rule, for example)."""

    sim: Simulation
    node_id: str
    state: dict[str, Any] = field(default_factory=dict)


#: ``builder(node_id, resolved, sim, context) -> component``.
Builder = Callable[[str, dict[str, Any], "Simulation", LiveContext], "Entity"]
#: ``setter(component, resolved, context)``: apply the parameter's value in ``resolved`` (the
#: node's whole resolved parameters after the change) to the running component, from now on,
#: through the component's public setters. Raises ValueError for a change it cannot make.
Setter = Callable[[Any, dict[str, Any], LiveContext], None]
#: ``wire(component, targets, latencies, probabilities)``: connect a component to the
#: components its out-links lead to (in document order, with each link's latency
#: distribution or None and probability or None).
Wirer = Callable[[Any, list[Entity], list[Any], list[Any]], None]


class Unwired(Entity):
    """Stands for a component's output until its out-links are wired."""

    def handle_event(self, event: Any) -> None:  # pragma: no cover - replaced before the run
        raise RuntimeError(f"{self.name}: output not wired")


def downstream_of(node_id: str, targets: list[Entity], latencies: list[Any], probabilities: list[Any]) -> Entity:
    """What a node's out-links make of its output: the one target itself, or a router
    named after the node that adds the link's latency or picks a link by probability."""
    if len(targets) == 1 and latencies[0] is None:
        return targets[0]
    if len(targets) == 1:
        return Router(f"{node_id}→{targets[0].name}", targets, latencies=latencies)
    weights = [p or 0.0 for p in probabilities]
    return Router(f"{node_id}:routing", targets, "probability", weights=weights, latencies=latencies)


def _no_summary(resolved: dict[str, Any]) -> str:
    return ""


@dataclass(frozen=True)
class Kind:
    """A node kind: its label in the palette, what it does, its parameters, and how it
    is built, changed live, solved and drawn. See the module docstring.

    ``has_input`` / ``has_output``: whether links may enter / leave it. ``is_station``: the
    one test of "a station" (it queues and serves, and reports the station metrics).
    ``chooses_link``: it picks one out-link per request by its own policy (a router), so
    link probabilities mean nothing there. ``exclusive``: parameters of which at most one
    is given; setting one (in the editor or a live run) clears the others.
    """

    name: str
    label: str
    description: str
    params: tuple[Param, ...] = field(default_factory=tuple)
    has_input: bool = True
    has_output: bool = True
    is_station: bool = True
    chooses_link: bool = False
    exclusive: tuple[str, ...] = ()
    #: ``normalise(resolved) -> resolved``: kind-specific resolution after the defaults
    #: (a source given an ``interarrival`` has no ``rate``).
    normalise: Callable[[dict[str, Any]], dict[str, Any]] | None = None
    #: ``check(params) -> [problem, …]``: rules across parameters, on the raw params
    #: (any of which may have failed its own check: report only what no single
    #: parameter's check already says).
    check: Callable[[dict[str, Any]], list[str]] | None = None
    builder: Builder | None = None
    #: The component attribute its out-links feed (see :meth:`connect`), unless ``wire``
    #: connects them itself.
    output: str = "downstream"
    wire: Wirer | None = None
    #: Parameters that can change while a model runs, each with its setter.
    live: Mapping[str, Setter] = field(default_factory=lambda: MappingProxyType({}))
    describe: Callable[[dict[str, Any]], ServiceDescription] | None = None
    #: ``arrivals(resolved, t) -> rate``: requests per second the node brings in from
    #: outside at time ``t`` (a source's λ), for the traffic equations; None: none.
    arrivals: Callable[[dict[str, Any], float], float] | None = None
    #: ``departures(resolved, out_links) -> reason | None``: why the requests leaving a
    #: node of this kind are not a Poisson stream even when its arrivals are (None: they
    #: are). A node that creates requests (no input) says it as a sentence; one that passes
    #: them on as a predicate after its name ("splits by …"). Stations without one follow
    #: Burke's theorem on their :meth:`service`.
    departures: Callable[[dict[str, Any], int], str | None] | None = None
    summarise: Callable[[dict[str, Any]], str] = _no_summary
    #: Requests start here and end here (a closed population whose loop closes back into
    #: it): for the graph checks it is both where requests come from and where they leave.
    closes_loop: bool = False
    #: ``graph_check(model) -> [(node id, problem), …]``: rules of this kind across the
    #: whole graph, run once by the validator when the model has a node of this kind.
    graph_check: Callable[[Any], list[tuple[str, str]]] | None = None

    def param(self, name: str) -> Param | None:
        """The parameter called ``name``, or None."""
        for p in self.params:
            if p.name == name:
                return p
        return None

    def defaults(self) -> dict[str, Any]:
        """Parameters of a freshly dropped node."""
        return {p.name: _plain(p.default) for p in self.params if p.default is not None or p.required}

    def resolve(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """Every parameter of this kind with its default filled in where ``params`` does
        not give it (a deep copy: changing the result changes nothing else).

        Meant for params that passed validation; on others it still fills defaults but
        the values are as given. Unknown keys are dropped.
        """
        resolved = {p.name: _plain(params.get(p.name, p.default)) for p in self.params}
        return self.normalise(resolved) if self.normalise is not None else resolved

    def build(self, node_id: str, resolved: dict[str, Any], sim: Simulation, context: LiveContext) -> Entity:
        """The engine component of a node with ``resolved`` parameters (its out-links are
        wired afterwards). Raises ValueError for a kind that builds nothing."""
        if self.builder is None:
            raise ValueError(f"a {self.name} node cannot be built")
        return self.builder(node_id, resolved, sim, context)

    def connect(
        self, component: Any, node_id: str, targets: list[Entity], latencies: list[Any], probabilities: list[Any]
    ) -> None:
        """Wire ``component``'s out-links (at least one) to ``targets``."""
        if self.wire is not None:
            self.wire(component, targets, latencies, probabilities)
        else:
            setattr(component, self.output, downstream_of(node_id, targets, latencies, probabilities))

    def service(self, resolved: dict[str, Any]) -> ServiceDescription | None:
        """The station's :class:`ServiceDescription` (None for kinds that are not stations)."""
        return None if self.describe is None else self.describe(resolved)

    def summary(self, resolved: dict[str, Any]) -> str:
        """The canvas lines under the node's name, one per line (the kind's label when
        there is nothing to say). Tolerates values that have not passed validation: the
        canvas draws half-finished nodes too."""
        try:
            text = self.summarise(resolved)
        except (TypeError, ValueError, KeyError, AttributeError):
            text = ""
        return text or self.label


def _plain(value: Any) -> Any:
    """A deep copy of ``value`` as plain JSON data (read-only mappings become dicts)."""
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return copy.copy(value)


# ------------------------------------------------------------------ helpers for entries
def dist(spec: Any) -> distributions.LatencyDistribution:
    """The engine distribution of a distribution object of the model format."""
    return distributions.from_spec(spec)


def maybe_dist(spec: Any) -> distributions.LatencyDistribution | None:
    """:func:`dist`, or None for None."""
    return None if spec is None else distributions.from_spec(spec)


_DIST_NAMES = {
    "constant": "const",
    "exponential": "exp",
    "uniform": "unif",
    "erlang": "Erlang",
    "lognormal": "logN",
    "pareto": "Pareto",
    "empirical": "empirical",
}


def describe_dist(spec: Any) -> str:
    """A short description of a distribution object for the canvas ("exp 1 s")."""
    if not isinstance(spec, Mapping):
        return "none"
    name = _DIST_NAMES.get(str(spec.get("dist")), str(spec.get("dist")))
    value = spec.get("value", spec.get("mean"))
    if spec.get("dist") == "uniform":
        if all(_number(spec.get(k)) for k in ("low", "high")):
            return f"unif {spec['low']:g}–{spec['high']:g} s"
        return name
    return f"{name} {value:g} s" if _number(value) else name


def _number(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)
