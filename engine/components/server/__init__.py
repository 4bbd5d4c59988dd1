"""Server components: Server, ThreadPool, AsyncServer and their concurrency models."""

from engine.components.server.async_server import AsyncServer
from engine.components.server.concurrency import (
    ConcurrencyModel,
    DynamicConcurrency,
    FixedConcurrency,
    WeightedConcurrency,
)
from engine.components.server.queued import QueuedResource
from engine.components.server.server import Server
from engine.components.server.stats import AsyncServerStats, ServerStats, ThreadPoolStats
from engine.components.server.thread_pool import ThreadPool

__all__ = [
    "AsyncServer",
    "AsyncServerStats",
    "ConcurrencyModel",
    "DynamicConcurrency",
    "FixedConcurrency",
    "QueuedResource",
    "Server",
    "ServerStats",
    "ThreadPool",
    "ThreadPoolStats",
    "WeightedConcurrency",
]
