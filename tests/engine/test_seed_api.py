"""The last details of the seed's API, through the public names (issue 13).

SEMANTICS "Core": ``run()`` returns a summary of the run with ``duration_s`` and
``total_events_processed``; ``Instant`` has its integer ``nanoseconds``;
``Entity.forward`` builds a new event with the same context. DESIGN: user code that keeps
a reference to an event never sees the engine change it. Seed page: an AsyncServer's CPU
work "Default is 0", i.e. ``ConstantLatency(0)``.
"""

from __future__ import annotations

import dataclasses
import sys

import pytest

from engine import Entity, Event, Instant, Simulation, SimulationSummary, Sink, Source
from engine.components.router import Router
from engine.components.server import AsyncServer, Server, ThreadPool
from engine.distributions import ConstantLatency, ExponentialLatency
from engine.model import build, model_from_dict
from engine.time import Duration


def _chain(seed: int = 3, end_time: float | None = 50.0) -> Simulation:
    done = Sink("done")
    second = Server("b", 1, ExponentialLatency(0.3), downstream=done)
    first = Server("a", 2, ExponentialLatency(0.5), downstream=second)
    source = Source.poisson(1.5, first, limit=None if end_time is not None else 40)
    return Simulation(sources=[source], entities=[first, second, done], end_time=end_time, seed=seed)


# ---------------------------------------------------------------- run() summary
def test_run_returns_a_summary_of_the_run():
    sim = _chain()
    summary = sim.run()
    assert isinstance(summary, SimulationSummary)
    assert summary.duration_s == 50.0
    assert summary.total_events_processed == sim.events_processed > 100
    assert summary.events_cancelled == 0
    assert summary.events_per_second == pytest.approx(summary.total_events_processed / 50.0)
    assert summary.wall_clock_seconds > 0.0
    assert summary == sim.summary or summary.wall_clock_seconds == sim.summary.wall_clock_seconds
    with pytest.raises(dataclasses.FrozenInstanceError):
        summary.duration_s = 1.0  # type: ignore[misc]
    as_dict = summary.to_dict()
    assert as_dict["duration_s"] == 50.0 and as_dict["total_events_processed"] == summary.total_events_processed
    assert "50 s simulated" in str(summary)


def test_the_event_count_is_every_call_the_loop_ran():
    stepped = _chain()
    steps = 0
    while stepped.peek() <= 50.0:
        stepped.step()
        steps += 1
    assert _chain().run().total_events_processed == steps


def test_a_run_without_end_time_reports_the_time_it_reached():
    sim = _chain(end_time=None)
    summary = sim.run()
    assert summary.duration_s == sim.now > 0
    assert summary.total_events_processed == sim.events_processed


def test_the_summary_covers_every_slice_and_counts_cancelled_events():
    class Quiet(Entity):
        def handle_event(self, event: Event) -> None:
            return None

    quiet = Quiet("quiet")
    sim = Simulation(entities=[quiet], end_time=10.0, start_time=2.0)
    events = [Event(t, "ping", quiet) for t in (3.0, 4.0, 5.0, 6.0)]
    sim.schedule(events)
    events[1].cancel()
    events[3].cancel()
    sim.run_until(4.5)
    assert sim.summary.duration_s == 2.5
    summary = sim.run()
    assert summary.duration_s == 8.0  # from the start time
    assert summary.total_events_processed == 4
    assert summary.events_cancelled == 2


# ------------------------------------------------------------------ nanoseconds
def test_instant_exposes_its_integer_nanoseconds():
    t = Instant.from_seconds(1.5)
    assert t.nanoseconds == 1_500_000_000 and type(t.nanoseconds) is int
    assert Instant.from_seconds(2e-9).nanoseconds == 2
    assert Instant.from_seconds(0.1 + 0.2).nanoseconds == 300_000_000
    assert Instant.Epoch.nanoseconds == 0
    assert Instant.Infinity.nanoseconds == sys.maxsize  # the seed library's stand-in
    assert (Instant.from_seconds(3.25) - Instant.from_seconds(1)).nanoseconds == 2_250_000_000
    assert Duration.from_seconds(0.001).nanoseconds == 1_000_000


# -------------------------------------------------------------- forward() and events
class Keeper(Entity):
    """Keeps every event it receives, with what it looked like on arrival."""

    def __init__(self, name: str = "keeper", then: Entity | None = None) -> None:
        super().__init__(name)
        self.then = then
        self.kept: list[tuple[Event, Entity, float, str]] = []
        self.sent: list[tuple[Event, Entity, float]] = []

    def handle_event(self, event: Event) -> Event | None:
        self.kept.append((event, event.target, event.time, event.event_type))
        if self.then is None:
            return None
        out = self.forward(event, self.then)
        self.sent.append((out, out.target, out.time))
        return out

    def unchanged(self) -> bool:
        return all(e.target is t and e.time == time and e.event_type == kind for e, t, time, kind in self.kept) and all(
            e.target is t and e.time == time for e, t, time in self.sent
        )


def test_forward_returns_a_new_event_with_the_same_context():
    a, b = Keeper("a"), Keeper("b")
    sim = Simulation(entities=[a, b])
    original = Event(1.0, "Request", a, context={"metadata": {"priority": 2}})
    sim.schedule(original)
    sim.step()
    out = a.forward(original, b, event_type="Reply")
    assert out is not original
    assert out.context is original.context and out.metadata["priority"] == 2
    assert (out.target, out.time, out.event_type) == (b, 1.0, "Reply")
    assert (original.target, original.time, original.event_type) == (a, 1.0, "Request")


def test_events_user_code_holds_never_change_through_built_in_stations():
    # user event -> Server -> user Keeper -> (forward) -> Router -> ThreadPool -> Server -> Sink
    done = Sink("done")
    last = Server("last", 1, ConstantLatency(0.5), downstream=done)
    pool = ThreadPool("pool", 2, default_processing_time=0.25, downstream=last)
    router = Router("lb", [pool])
    keeper = Keeper("keeper", then=router)
    first = Server("first", 1, ConstantLatency(1.0), downstream=keeper)
    sim = Simulation(entities=[first, keeper, router, pool, last, done])
    mine = [Event(t, "Request", first) for t in (0.0, 0.5, 3.0)]
    sim.schedule(mine)
    sim.run()
    assert done.count == 3
    assert [(e.target, e.time) for e in mine] == [(first, 0.0), (first, 0.5), (first, 3.0)]
    assert len(keeper.kept) == 3 and keeper.unchanged()
    # the context travelled all the way: latency from each request's creation
    # (the request of t = 0.5 waits until 1.0, leaves the first server at 2.0, the pool at
    # 2.25 and the last server at 2.75)
    assert done.latency_stats()["max"] == pytest.approx(2.25)


def test_events_a_user_entity_receives_from_a_source_stay_as_received():
    # Source -> user Keeper -> (forward) -> Server -> Server -> user Keeper
    tail = Keeper("tail")
    second = Server("second", 1, ExponentialLatency(0.2), downstream=tail)
    first = Server("first", 1, ExponentialLatency(0.2), downstream=second)
    head = Keeper("head", then=first)
    sim = Simulation(sources=[Source.poisson(2.0, head)], entities=[head, first, second, tail], end_time=200, seed=4)
    sim.run()
    assert len(tail.kept) > 300
    assert head.unchanged() and tail.unchanged()
    # each request reached the tail with its own context, created by the source
    assert len({id(e.context) for e, *_ in tail.kept}) == len(tail.kept)
    assert {id(e.context) for e, *_ in tail.kept} <= {id(e.context) for e, *_ in head.kept}


def test_an_event_returned_by_a_user_entity_is_not_changed_downstream():
    class Passer(Entity):
        """Returns the very event it received, re-targeted by hand."""

        def __init__(self, target: Entity) -> None:
            super().__init__("passer")
            self.target = target
            self.seen: list[Event] = []

        def handle_event(self, event: Event) -> Event:
            event.target = self.target
            self.seen.append(event)
            return event

    tail = Keeper("tail")
    server = Server("s", 1, ConstantLatency(1.0), downstream=tail)
    passer = Passer(server)
    sim = Simulation(sources=[Source.constant(0.5, passer)], entities=[passer, server, tail], end_time=20)
    sim.run()
    assert len(passer.seen) == 10
    assert all(e.target is server for e in passer.seen)
    assert tail.unchanged() and len(tail.kept) == 9


def test_async_server_and_io_handler_events_stay_put():
    tail = Keeper("tail")
    handled: list[tuple[Event, Entity]] = []

    def io(event: Event) -> None:
        handled.append((event, event.target))
        return None

    server = AsyncServer("a", cpu_work_distribution=ConstantLatency(0.1), io_handler=io, downstream=tail)
    sim = Simulation(sources=[Source.constant(2.0, server)], entities=[server, tail], end_time=10)
    sim.run()
    assert len(handled) == len(tail.kept) == 19  # the arrival at t = 10 is still in its CPU work
    assert all(e.target is t for e, t in handled) and tail.unchanged()


# ------------------------------------------------------------- AsyncServer default
def test_async_server_cpu_work_defaults_to_constant_zero():
    server = AsyncServer("a")
    dist = server.cpu_work_distribution
    assert isinstance(dist, ConstantLatency) and dist.mean == 0.0 and dist.get_latency(0.0) == 0.0
    tail = Keeper("tail")
    server = AsyncServer("b", downstream=tail)
    sim = Simulation(entities=[server, tail])
    sim.schedule([Event(t, "Request", server) for t in (1.0, 1.0, 2.5)])
    sim.run()
    assert [time for _, _, time, _ in tail.kept] == [1.0, 1.0, 2.5]  # no CPU work, no wait
    assert server.average_cpu_time == 0.0


def test_a_model_without_cpu_work_builds_an_async_server_with_constant_zero():
    run = build(
        model_from_dict(
            {
                "format": "queuestudio-model",
                "version": 1,
                "simulation": {"end_time": 100, "seed": 1},
                "nodes": [
                    {"id": "src", "kind": "source", "params": {"rate": 1.0}},
                    {"id": "api", "kind": "async_server", "params": {"cpu_work_distribution": None}},
                    {"id": "out", "kind": "sink"},
                ],
                "links": [{"from": "src", "to": "api"}, {"from": "api", "to": "out"}],
            }
        )
    )
    api = run.stations["api"]
    assert isinstance(api.cpu_work_distribution, ConstantLatency) and api.cpu_work_distribution.mean == 0.0
    run.run()
    assert run.results()["api"]["completed"] > 50
    assert api.stats.total_cpu_time == 0.0


def test_events_step_hands_out_stay_as_handed_out():
    sim = _chain(seed=5, end_time=30.0)
    seen: list[tuple[Event, Entity, float]] = []
    while sim.peek() <= 30.0:
        outcome = sim.step()
        assert outcome is not None
        what = outcome[1]
        if isinstance(what, Event):
            seen.append((what, what.target, what.time))
    assert len(seen) > 20
    assert all(e.target is target and e.time == time for e, target, time in seen)
