"""Components: sources, sinks, servers, pools, routers, delays."""

from engine.components.sink import Sink
from engine.components.source import Source

__all__ = ["Sink", "Source"]
