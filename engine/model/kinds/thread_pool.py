"""The ``thread_pool`` kind: a fixed number of worker threads taking tasks from a queue."""

from __future__ import annotations

from types import MappingProxyType
from typing import Any

from engine.components.server import ThreadPool
from engine.model.kinds.base import DEFAULT_SERVICE, Kind, LiveContext, Param, ServiceDescription, describe_dist, dist
from engine.model.kinds.queued import QUEUE_PARAMS, queue_of, set_queue_capacity
from engine.simulation import Simulation


def _build(node_id: str, r: dict[str, Any], sim: Simulation, context: LiveContext) -> ThreadPool:
    return ThreadPool(
        node_id, r["num_workers"], queue_of(r), r["queue_capacity"], processing_time=dist(r["processing_time"])
    )


def _set_num_workers(pool: ThreadPool, r: dict[str, Any], context: LiveContext) -> None:
    pool.set_capacity(r["num_workers"])


def _set_processing_time(pool: ThreadPool, r: dict[str, Any], context: LiveContext) -> None:
    pool.set_processing_time(dist(r["processing_time"]))


def _describe(r: dict[str, Any]) -> ServiceDescription:
    c = r["num_workers"]
    queue = r["queue_capacity"]
    return ServiceDescription(
        dist(r["processing_time"]), c, capacity=c, queue_capacity=queue, blocking=queue is not None
    )


def _summary(r: dict[str, Any]) -> str:
    return f"{r['num_workers']} workers\n{describe_dist(r['processing_time'])}"


KIND = Kind(
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
        *QUEUE_PARAMS,
    ),
    builder=_build,
    live=MappingProxyType(
        {
            "num_workers": _set_num_workers,
            "processing_time": _set_processing_time,
            "queue_capacity": set_queue_capacity,
        }
    ),
    describe=_describe,
    summarise=_summary,
)
