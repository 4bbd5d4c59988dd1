"""Links show their flow during a live run; at slow speed requests are drawn moving and queued."""

from __future__ import annotations

from PySide6.QtCore import QPointF

from desktop.run.flows import FlowTracker
from engine.model import build


def test_link_counts_come_from_router_sends_completions_and_generated(example) -> None:
    run = build(example("load_balanced_pools"))
    tracker = FlowTracker(run)
    tracker.rates(0.0)
    run.run_until(50.0)
    rates = tracker.rates(50.0)
    lb = run.routers["lb"]
    assert rates[("clients", "lb")] == run.sources["clients"].generated / 50.0
    assert [rates[("lb", t)] for t in ("pool_a", "pool_b", "pool_c")] == [n / 50.0 for n in lb.routed]
    assert rates[("pool_a", "done")] == run.stations["pool_a"]._completed / 50.0


def test_movements_are_spread_over_the_observed_slice_and_bounded(example) -> None:
    run = build(example("mm1"))
    tracker = FlowTracker(run)
    tracker.watch(0.0)
    run.run_until(20.0)
    tracker.observe(20.0)
    moves = tracker.drain()
    assert len(moves) == run.sources["arrivals"].generated + run.stations["cpu"]._completed
    assert all(0.0 < m.time < 20.0 for m in moves) and list(moves) == sorted(moves)
    assert tracker.drain() == ()
    run.run_until(2000.0)
    tracker.observe(2000.0)
    assert len(tracker.drain()) == 200


def test_links_show_their_flow_and_stop_clears_it(qtbot, make_host, example) -> None:
    host = make_host(example("tandem", end_time=1e8))
    live, links = host.live, host.scene.links
    batches = []
    live.batch_received.connect(batches.append)
    live.run()  # as fast as possible
    qtbot.waitUntil(lambda: all((item.flow or 0) > 0 for item in links.values()), timeout=5000)
    item = links[("arrivals", "cut")]
    assert 0.5 < item.flow < 1.1  # λ = 0.8/s
    assert "Flow:" in item.toolTip()
    assert item.boundingRect().contains(item._flow_rect)
    assert all(not b.movements for b in batches)
    assert live.canvas_flows.animation.dot_positions == []
    live.stop()
    qtbot.waitUntil(lambda: live.state == "stopped", timeout=5000)
    assert all(item.flow is None for item in links.values())
    assert "Flow:" not in item.toolTip()


def test_a_slow_run_draws_requests_travelling_and_waiting(qtbot, make_host, example) -> None:
    model = example("mm1", end_time=1e8)
    model.node("arrivals").params["rate"] = 4.0  # ρ = 4: a queue builds at once
    host = make_host(model)
    live = host.live
    animation = live.canvas_flows.animation
    moved: list = []
    live.batch_received.connect(lambda batch: moved.extend(batch.movements))
    live.set_speed(2.0)
    live.run()
    qtbot.waitUntil(lambda: len(animation.dot_positions) > 0, timeout=5000)
    first = animation.dot_positions
    qtbot.waitUntil(lambda: animation.dot_positions and animation.dot_positions != first, timeout=3000)
    assert moved and {m.source for m in moved} <= {"arrivals", "cpu"}
    qtbot.waitUntil(lambda: animation.queued.get("cpu", 0) >= 2, timeout=5000)
    rect, cpu = animation.boundingRect(), host.scene.nodes["cpu"].pos()
    assert all(rect.contains(p) for p in animation.dot_positions)
    assert rect.contains(QPointF(cpu.x() + 10, cpu.y() - 8))  # the queue markers above the card
    host.grab().save("/tmp/anim.png")
    live.stop()
    qtbot.waitUntil(lambda: live.state == "stopped", timeout=5000)
    assert animation.dot_positions == [] and animation.queued == {}


def test_switching_to_max_speed_stops_the_movements(qtbot, make_host, example) -> None:
    host = make_host(example("mm1", end_time=1e8))
    live = host.live
    live.set_speed(2.0)
    live.run()
    qtbot.waitUntil(lambda: live.last_batch is not None and bool(live.last_batch.movements), timeout=5000)
    live.set_speed(float("inf"))
    qtbot.waitUntil(lambda: live.last_batch.now > 500, timeout=5000)
    seq = live.last_batch.seq
    qtbot.waitUntil(lambda: live.last_batch.seq > seq + 2, timeout=5000)
    assert not live.last_batch.movements
    assert live.canvas_flows.animation.dot_positions == []
