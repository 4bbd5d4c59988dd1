"""The ``async_server`` kind: an event loop (one CPU) with concurrent I/O and a connection limit."""

from __future__ import annotations

from types import MappingProxyType
from typing import Any

from engine.components.server import AsyncServer
from engine.model.kinds.base import Kind, LiveContext, Param, ServiceDescription, describe_dist, maybe_dist
from engine.simulation import Simulation

#: ``max_connections`` at or above which an async server counts as unlimited for theory
#: and for "can it turn requests away" (the seed's default).
UNLIMITED_CONNECTIONS = 10000


def _build(node_id: str, r: dict[str, Any], sim: Simulation, context: LiveContext) -> AsyncServer:
    return AsyncServer(
        node_id, r["max_connections"], maybe_dist(r["cpu_work_distribution"]), io_time=maybe_dist(r["io_time"])
    )


def _set_max_connections(server: AsyncServer, r: dict[str, Any], context: LiveContext) -> None:
    server.set_max_connections(r["max_connections"])


def _set_cpu_work(server: AsyncServer, r: dict[str, Any], context: LiveContext) -> None:
    server.set_cpu_work(maybe_dist(r["cpu_work_distribution"]))


def _set_io_time(server: AsyncServer, r: dict[str, Any], context: LiveContext) -> None:
    server.set_io_time(maybe_dist(r["io_time"]))


def _describe(r: dict[str, Any]) -> ServiceDescription:
    """The event loop is one server whose service is the CPU work (None: no CPU work); the
    I/O after it holds no server (an infinite-server stage)."""
    limit = r["max_connections"]
    return ServiceDescription(
        maybe_dist(r["cpu_work_distribution"]),
        1,
        capacity=1,
        event_loop=True,
        io=maybe_dist(r["io_time"]),
        connections=limit,
        blocking=limit < UNLIMITED_CONNECTIONS,
    )


def _summary(r: dict[str, Any]) -> str:
    return f"I/O {describe_dist(r['io_time'])}"


KIND = Kind(
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
            UNLIMITED_CONNECTIONS,
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
    builder=_build,
    live=MappingProxyType(
        {
            "max_connections": _set_max_connections,
            "cpu_work_distribution": _set_cpu_work,
            "io_time": _set_io_time,
        }
    ),
    describe=_describe,
    summarise=_summary,
)
