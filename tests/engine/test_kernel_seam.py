"""The kernel's public scheduling seam (issue 14): ``call_at``, ``call_soon`` and the bound
callables of ``scheduler`` and ``daemon_scheduler``, which the components use instead of
touching the heap."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

import pytest

from engine.entity import Entity
from engine.simulation import Simulation, SimulationStalled

COMPONENTS = Path(__file__).resolve().parents[2] / "engine" / "components"


def test_call_soon_runs_at_now_after_what_is_already_due_now():
    sim = Simulation()
    log: list[tuple[float, str]] = []

    def first(_: Any) -> None:
        log.append((sim.now, "first"))
        sim.call_soon(lambda _: log.append((sim.now, "soon")))

    sim.call_at(1.0, first)
    sim.call_at(1.0, lambda _: log.append((sim.now, "second")))
    sim.call_at(2.0, lambda _: log.append((sim.now, "later")))
    sim.run()
    assert log == [(1.0, "first"), (1.0, "second"), (1.0, "soon"), (2.0, "later")]


def test_call_soon_passes_its_argument():
    sim = Simulation()
    got: list[Any] = []
    sim.call_soon(got.append, "x")
    sim.call_soon(got.append)
    sim.run()
    assert got == ["x", None]


def test_scheduler_is_call_at_bound_once_and_keeps_the_order_of_ties():
    sim = Simulation()
    at = sim.scheduler()
    log: list[tuple[float, Any]] = []
    record = lambda arg: log.append((sim.now, arg))  # noqa: E731
    at(2.0, record, "b")
    sim.call_at(1.0, record, "a")
    at(2.0, record, "c")
    sim.call_at(2.0, record, "d")
    at(3.0, record)
    sim.run()
    assert log == [(1.0, "a"), (2.0, "b"), (2.0, "c"), (2.0, "d"), (3.0, None)]
    assert sim.events_processed == 5


def test_a_daemon_scheduler_does_not_keep_an_endless_run_alive():
    sim = Simulation()
    ticks: list[float] = []

    def tick(n: Any) -> None:
        ticks.append(sim.now)
        again(sim.now + 1.0, n)

    again = sim.daemon_scheduler(tick)
    again(0.5, 0)
    sim.call_at(3.0, lambda _: None)  # the only real work: the run ends after it
    sim.run()
    assert ticks == [0.5, 1.5, 2.5]
    assert sim.now == 3.0


def test_a_daemon_scheduler_runs_its_calls_to_an_end_time():
    sim = Simulation(end_time=2.0)
    ticks: list[Any] = []
    at = sim.daemon_scheduler(ticks.append)
    at(1.0, "a")
    at(2.0, "b")
    at(3.0, "c")
    sim.run()
    assert ticks == ["a", "b"]


def test_a_stall_of_daemon_calls_names_their_owner():
    class Looper(Entity):
        def handle_event(self, event: Any) -> None:
            return None

        def spin(self, _: Any) -> None:
            self.again(self.now, None)

    sim = Simulation(end_time=1.0)
    looper = Looper("looper")
    sim.add(looper)
    looper.again = sim.daemon_scheduler(looper.spin)  # type: ignore[attr-defined]
    looper.again(0.0, None)  # type: ignore[attr-defined]
    with pytest.raises(SimulationStalled) as err:
        sim.run()
    assert err.value.nodes == ["looper"]


def test_started_says_whether_the_run_has_begun():
    sim = Simulation(end_time=1.0)
    assert not sim.started
    sim.run()
    assert sim.started


def _is_sim(node: ast.expr) -> bool:
    """``sim`` or ``self._sim``: how components name their Simulation."""
    if isinstance(node, ast.Name):
        return node.id == "sim"
    return isinstance(node, ast.Attribute) and node.attr == "_sim"


def _private_kernel_uses(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Attribute) and node.attr in ("_heap", "_seq", "_daemon_pending", "_started"):
            found.append(f"{path.name}:{node.lineno} .{node.attr}")
        if isinstance(node, ast.Attribute) and node.attr.startswith("_") and _is_sim(node.value):
            found.append(f"{path.name}:{node.lineno} sim.{node.attr}")
        if isinstance(node, ast.Name) and node.id in ("heappush", "heapq"):
            found.append(f"{path.name}:{node.lineno} {node.id}")
    return found


def test_no_component_touches_the_kernels_heap_or_private_methods():
    files = sorted(COMPONENTS.rglob("*.py"))
    assert files
    assert [use for f in files for use in _private_kernel_uses(f)] == []
