"""The node kinds, one module each: everything about a kind lives in its entry.

:data:`KINDS` lists them in palette order. To add a kind, write a module with a ``KIND``
(:class:`~engine.model.kinds.base.Kind`) and list it here; validation, building, live
changes, theory, the canvas, the inspector, the palette and the docs all read the entry.
"""

from __future__ import annotations

from engine.model.kinds import async_server, clients, delay, router, server, sink, source, thread_pool
from engine.model.kinds.base import Kind, LiveContext, Param, ServiceDescription

KINDS: dict[str, Kind] = {
    module.KIND.name: module.KIND
    for module in (source, server, thread_pool, async_server, router, delay, sink, clients)
}

__all__ = ["KINDS", "Kind", "LiveContext", "Param", "ServiceDescription"]
