"""What each node kind takes: the single description behind validation, the inspector and the docs."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from engine.time import RESOLUTION

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
#: Counts (servers, workers, connections, capacities, arrival limits) above this are
#: refused as typos: no model needs a billion servers.
MAX_COUNT = 10**9

#: Distribution every new station starts with.
DEFAULT_SERVICE = {"dist": "exponential", "mean": 1.0}

QUEUE_POLICIES = ("fifo", "lifo", "priority")
ROUTER_POLICIES = ("round_robin", "random", "least_connections", "shortest_queue", "power_of_two")


@dataclass(frozen=True)
class Param:
    """One parameter of a node kind.

    ``type`` is one of ``int``, ``number``, ``dist``, ``choice``, ``concurrency``,
    ``profile``. ``minimum``/``maximum`` bound numbers; ``exclusive_minimum`` makes the
    minimum strict. ``nullable`` allows ``null`` (meaning "none" or "unlimited").
    ``why_maximum`` says why the maximum is what it is (shown when it is exceeded).
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


@dataclass(frozen=True)
class Kind:
    """A node kind: its label in the palette, what it does, and its parameters."""

    name: str
    label: str
    description: str
    params: tuple[Param, ...] = field(default_factory=tuple)
    has_input: bool = True
    has_output: bool = True
    is_station: bool = True

    def param(self, name: str) -> Param | None:
        """The parameter called ``name``, or None."""
        for p in self.params:
            if p.name == name:
                return p
        return None

    def defaults(self) -> dict[str, Any]:
        """Parameters of a freshly dropped node."""
        import copy

        return {p.name: copy.deepcopy(p.default) for p in self.params if p.default is not None or p.required}


_QUEUE = (
    Param(
        "queue_policy",
        "choice",
        "queue policy",
        "Order in which waiting requests are served (priority: lowest metadata priority first, FIFO among equals).",
        "fifo",
        choices=QUEUE_POLICIES,
    ),
    Param(
        "queue_capacity",
        "int",
        "queue capacity",
        "How many requests may wait; null = unlimited, "
        "0 = a loss system (requests that cannot start at once are rejected).",
        None,
        "requests",
        minimum=0,
        nullable=True,
    ),
)

KINDS: dict[str, Kind] = {
    "source": Kind(
        "source",
        "Source",
        "Creates requests: Poisson arrivals at `rate` per second, or inter-arrival "
        "times drawn from `interarrival`; `profile` makes the rate change over time.",
        (
            Param(
                "rate",
                "number",
                "arrival rate",
                "Poisson arrivals per second (λ).",
                1.0,
                "1/s",
                minimum=0,
                exclusive_minimum=False,
                maximum=MAX_RATE,
                nullable=True,
                why_maximum="one arrival per nanosecond, the engine's time resolution",
            ),
            Param(
                "interarrival",
                "dist",
                "inter-arrival time",
                "Time between arrivals, instead of `rate` (a renewal process).",
                None,
                "s",
                nullable=True,
            ),
            Param(
                "profile",
                "profile",
                "rate profile",
                "[[t, rate], …]: the Poisson rate is piecewise constant, switching at each t (seconds).",
                None,
                "1/s",
                nullable=True,
            ),
            Param(
                "limit",
                "int",
                "arrival limit",
                "Stop after this many arrivals (null = never).",
                None,
                "requests",
                minimum=0,
                nullable=True,
            ),
            Param(
                "priority",
                "number",
                "priority",
                "Priority carried by these requests (lower is served first by priority queues).",
                None,
                nullable=True,
            ),
        ),
        has_input=False,
        is_station=False,
    ),
    "server": Kind(
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
            *_QUEUE,
        ),
    ),
    "thread_pool": Kind(
        "thread_pool",
        "Thread pool",
        "`num_workers` worker threads take tasks from a queue; each task runs for a time drawn from `processing_time`.",
        (
            Param("num_workers", "int", "workers", "Number of worker threads.", 4, "threads", minimum=1),
            Param(
                "processing_time",
                "dist",
                "processing time",
                "Time a task occupies a worker.",
                DEFAULT_SERVICE,
                "s",
                required=True,
            ),
            *_QUEUE,
        ),
    ),
    "async_server": Kind(
        "async_server",
        "Async server",
        "An event loop: CPU work is served one request at a time, then "
        "each request waits for its I/O concurrently; at most `max_connections` are open.",
        (
            Param(
                "max_connections",
                "int",
                "max connections",
                "Open connections allowed; more are rejected.",
                10000,
                "connections",
                minimum=1,
            ),
            Param(
                "cpu_work_distribution",
                "dist",
                "CPU work",
                "CPU time per request (blocks the loop).",
                {"dist": "exponential", "mean": 0.01},
                "s",
                nullable=True,
            ),
            Param(
                "io_time",
                "dist",
                "I/O wait",
                "Concurrent I/O wait after the CPU work.",
                {"dist": "exponential", "mean": 0.1},
                "s",
                nullable=True,
            ),
        ),
    ),
    "router": Kind(
        "router",
        "Router",
        "Sends each request on to one of its out-links, chosen by `policy`.",
        (
            Param(
                "policy",
                "choice",
                "policy",
                "round_robin, random, least_connections (fewest in "
                "system downstream), shortest_queue (fewest waiting), power_of_two (the shorter of two "
                "picked at random).",
                "round_robin",
                choices=ROUTER_POLICIES,
            ),
        ),
        is_station=False,
    ),
    "delay": Kind(
        "delay",
        "Delay",
        "Holds every request for a time drawn from `delay`, all at once (an "
        "infinite-server station: think time, network).",
        (
            Param(
                "delay",
                "dist",
                "delay",
                "Time each request is held.",
                {"dist": "constant", "value": 1.0},
                "s",
                required=True,
            ),
        ),
    ),
    "sink": Kind(
        "sink",
        "Sink",
        "Where requests leave; measures their end-to-end latency.",
        (),
        has_output=False,
        is_station=False,
    ),
}

#: Fields of the "simulation" block: (default, minimum, help).
SIMULATION_FIELDS: dict[str, tuple[Any, float, str]] = {
    "end_time": (1000.0, 0.0, "Simulated seconds to run (> 0, at most 9.2e9: see Limits)."),
    "warmup": (
        0.0,
        0.0,
        'Simulated seconds discarded before statistics start (≥ 0, less than `end_time`), or `"auto"`: '
        "experiments and `queuestudio run` cut it by MSER-5 (docs/experiments.md); a single live run measures from 0.",
    ),
    "seed": (1, 0, "Seed of the random generator (an integer ≥ 0; null = a fresh one each run)."),
    "sample_interval": (
        1.0,
        0.0,
        "Simulated seconds between two points of the time series (at least 1e-9: see Limits).",
    ),
}

#: Fields of a concurrency object by kind: (required, optional).
CONCURRENCY_FIELDS = {
    "fixed": (("c",), ()),
    "dynamic": (("initial",), ("min", "max", "autoscale")),
    "weighted": (("total_capacity",), ("weight",)),
}
AUTOSCALE_FIELDS = ("target_utilization", "interval", "step", "band")
