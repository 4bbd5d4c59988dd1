"""Frozen statistics snapshots of the server package."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ServerStats:
    """Statistics tracked by Server (since the start of the run)."""

    requests_completed: int = 0
    requests_rejected: int = 0
    total_service_time: float = 0.0


@dataclass(frozen=True)
class ThreadPoolStats:
    """Statistics tracked by ThreadPool (since the start of the run)."""

    tasks_completed: int = 0
    tasks_rejected: int = 0
    total_processing_time: float = 0.0


@dataclass(frozen=True)
class AsyncServerStats:
    """Statistics tracked by AsyncServer (since the start of the run)."""

    requests_completed: int = 0
    requests_rejected: int = 0
    total_cpu_time: float = 0.0
    total_io_time: float = 0.0
