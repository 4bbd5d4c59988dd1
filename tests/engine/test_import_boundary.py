"""The engine never imports Qt or the desktop package (DESIGN: desktop -> engine, one way)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FORBIDDEN = ("PySide6", "pyqtgraph", "shiboken6", "desktop")

PROBE = """
import json, sys
import engine
import engine.components.server
import engine.distributions
from engine import Simulation, Entity, Event, Instant, Source, Sink, Server
from engine.distributions import (LatencyDistribution, ConstantLatency, ExponentialLatency,
    UniformLatency, ErlangLatency, LogNormalLatency, ParetoLatency, EmpiricalLatency)
from engine.queues import QueuePolicy, FIFOQueue, LIFOQueue, PriorityQueue
from engine.components.server import (Server, ServerStats, ThreadPool, ThreadPoolStats,
    AsyncServer, AsyncServerStats, ConcurrencyModel, FixedConcurrency,
    DynamicConcurrency, WeightedConcurrency)
sink = Sink()
server = Server("s", 2, ExponentialLatency(0.5), downstream=sink)
Simulation(sources=[Source.poisson(1.0, server)], entities=[server], end_time=20, seed=1).run()
print(json.dumps(sorted(sys.modules)))
"""


def _loaded_modules(code: str) -> list[str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p)
    env.pop("QT_QPA_PLATFORM", None)
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def _forbidden(modules: list[str]) -> list[str]:
    return [m for m in modules if m.startswith(FORBIDDEN)]


def test_importing_and_running_the_engine_loads_no_qt_or_desktop_module():
    modules = _loaded_modules(PROBE)
    assert "engine.components.server" in modules
    assert "engine.distributions" in modules
    assert _forbidden(modules) == []


def test_importing_engine_alone_stays_light():
    modules = _loaded_modules("import json, sys\nimport engine\nprint(json.dumps(sorted(sys.modules)))")
    assert _forbidden(modules) == []
    assert "engine.components.server" not in modules  # public names are imported lazily


def test_the_forbidden_check_would_notice_a_qt_module():
    assert _forbidden(["PySide6.QtCore", "pyqtgraph", "shiboken6", "desktop.app", "engine"]) == [
        "PySide6.QtCore",
        "pyqtgraph",
        "shiboken6",
        "desktop.app",
    ]
