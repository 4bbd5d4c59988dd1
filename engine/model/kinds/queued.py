"""What the queued stations (server, thread pool) share: the queue's parameters and its theory."""

from __future__ import annotations

from typing import Any

from engine.model.kinds.base import LiveContext, Param
from engine.queues import FIFOQueue, LIFOQueue, PriorityQueue, QueuePolicy

QUEUE_POLICIES = ("fifo", "lifo", "priority")
_QUEUES: dict[str, type[QueuePolicy]] = {"fifo": FIFOQueue, "lifo": LIFOQueue, "priority": PriorityQueue}

QUEUE_PARAMS = (
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


def queue_of(resolved: dict[str, Any]) -> QueuePolicy:
    """A fresh queue of the policy in ``resolved``."""
    return _QUEUES[resolved["queue_policy"]]()


def set_queue_capacity(component: Any, resolved: dict[str, Any], context: LiveContext) -> None:
    """Live setter of ``queue_capacity``."""
    component.set_queue_capacity(resolved["queue_capacity"])
