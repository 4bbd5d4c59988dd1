"""Instant, Duration, Event and Entity basics (SEMANTICS §1 Core)."""

from __future__ import annotations

import math

import pytest

from engine import Entity, Event, Instant, Simulation
from engine.time import Duration

# ---------------------------------------------------------------- Instant / Duration


def test_instant_from_seconds_rounds_to_the_nearest_nanosecond():
    assert Instant.from_seconds(1.0000000004) == 1.0
    assert Instant.from_seconds(1.0000000006) == 1.000000001
    assert Instant.from_seconds(2.5) == 2.5
    assert Instant.from_seconds(4e-10) == 0.0


def test_instant_from_seconds_returns_an_instant():
    assert isinstance(Instant.from_seconds(3), Instant)


def test_duration_from_seconds_rounds_to_the_nearest_nanosecond():
    d = Duration.from_seconds(0.5000000004)
    assert isinstance(d, Duration)
    assert d == 0.5


def test_to_seconds_gives_plain_float_seconds():
    t = Instant.from_seconds(2.5)
    assert t.to_seconds() == 2.5
    assert type(t.to_seconds()) is float
    assert Duration.from_seconds(0.25).to_seconds() == 0.25
    assert type(Duration.from_seconds(0.25).to_seconds()) is float


def test_instant_plus_float_adds_seconds_and_stays_an_instant():
    t = Instant.from_seconds(1.0) + 0.5
    assert t == 1.5
    assert isinstance(t, Instant)
    assert isinstance(0.5 + Instant.from_seconds(1.0), Instant)


def test_instant_minus_instant_is_a_duration():
    d = Instant.from_seconds(3.0) - Instant.from_seconds(1.0)
    assert isinstance(d, Duration)
    assert d == 2.0


def test_instant_minus_float_is_an_instant():
    t = Instant.from_seconds(3.0) - 1.0
    assert isinstance(t, Instant)
    assert t == 2.0


def test_epoch_is_zero_and_infinity_is_infinite():
    assert Instant.Epoch == 0.0
    assert isinstance(Instant.Epoch, Instant)
    assert math.isinf(Instant.Infinity) and Instant.Infinity > 0
    assert isinstance(Instant.Infinity, Instant)
    assert Instant.Infinity.to_seconds() == math.inf


def test_from_seconds_of_nan_is_a_value_error():
    with pytest.raises(ValueError):
        Instant.from_seconds(math.nan)
    with pytest.raises(ValueError):
        Duration.from_seconds(math.nan)


def test_instants_run_a_simulation_like_plain_seconds(recorder):
    sim = Simulation(end_time=Instant.from_seconds(2))
    sim.schedule(Event(Instant.from_seconds(1.5), "Ping", recorder))
    sim.run()
    assert recorder.log == [(1.5, "Ping")]
    assert sim.now == 2.0


# -------------------------------------------------------------------------- Event


def test_event_without_target_is_a_value_error():
    with pytest.raises(ValueError, match="target"):
        Event(0.0, "Request", None)  # type: ignore[arg-type]


def test_event_context_has_id_created_at_and_metadata(recorder):
    ev = Event(2.5, "Request", recorder)
    ctx = ev.context
    assert ctx["id"]
    assert ctx["created_at"] == 2.5
    assert ctx["metadata"] == {}
    assert isinstance(ctx["metadata"], dict)


def test_event_context_is_the_same_object_on_every_access(recorder):
    ev = Event(0.0, "Request", recorder)
    assert ev.context is ev.context


def test_two_events_get_different_context_ids(recorder):
    assert Event(0, "A", recorder).context["id"] != Event(0, "B", recorder).context["id"]


def test_event_keeps_a_passed_context_dict_by_identity(recorder):
    ctx = {"metadata": {"priority": 3}}
    ev = Event(1.0, "Request", recorder, context=ctx)
    assert ev.context is ctx
    assert ctx["metadata"] == {"priority": 3}
    assert ctx["created_at"] == 1.0
    assert ctx["id"]


def test_event_fills_only_the_missing_context_keys(recorder):
    meta = {"weight": 2}
    ctx = {"id": "req-7", "created_at": 0.25, "metadata": meta}
    ev = Event(1.0, "Request", recorder, context=ctx)
    assert ev.context is ctx
    assert ctx == {"id": "req-7", "created_at": 0.25, "metadata": meta}
    assert ctx["metadata"] is meta
    assert ev.created_at == 0.25


def test_cancelled_event_is_skipped(recorder):
    sim = Simulation()
    keep = Event(1.0, "Keep", recorder)
    drop = Event(2.0, "Drop", recorder)
    sim.schedule([keep, drop])
    drop.cancel()
    sim.run()
    assert drop.cancelled
    assert recorder.log == [(1.0, "Keep")]


def test_daemon_event_does_not_keep_a_run_without_end_time_alive(recorder):
    sim = Simulation()
    sim.schedule(Event(1.0, "Work", recorder))
    sim.schedule(Event(5.0, "Housekeeping", recorder, daemon=True))
    sim.run()
    assert recorder.log == [(1.0, "Work")]
    assert sim.now == 1.0


def test_daemon_event_before_the_last_ordinary_event_still_runs(recorder):
    sim = Simulation()
    sim.schedule(Event(1.0, "Housekeeping", recorder, daemon=True))
    sim.schedule(Event(2.0, "Work", recorder))
    sim.run()
    assert recorder.log == [(1.0, "Housekeeping"), (2.0, "Work")]


def test_daemon_events_run_when_there_is_an_end_time(recorder):
    sim = Simulation(end_time=10)
    sim.schedule(Event(5.0, "Housekeeping", recorder, daemon=True))
    sim.run()
    assert recorder.log == [(5.0, "Housekeeping")]


# ------------------------------------------------------------------------- Entity


def test_entity_now_before_joining_a_simulation_is_a_runtime_error(recorder):
    with pytest.raises(RuntimeError):
        _ = recorder.now


def test_entity_now_follows_the_simulation_clock(recorder):
    sim = Simulation(entities=[recorder], end_time=3)
    assert recorder.now == 0.0
    sim.run()
    assert recorder.now == 3.0


def test_forward_keeps_the_same_context_object_and_does_not_schedule(Recorder):
    first, second = Recorder("first"), Recorder("second")
    sim = Simulation(entities=[first, second])
    ctx = {"metadata": {"priority": 1}}
    original = Event(0.0, "Request", first, context=ctx)
    sim.schedule(Event(2.0, "Tick", first))
    sim.run_until(2.0)
    pending = sim.pending
    fwd = first.forward(original, second)
    assert sim.pending == pending
    assert fwd is not original
    assert fwd.context is ctx
    assert fwd.time == 2.0
    assert fwd.target is second
    assert fwd.event_type == "Request"
    assert fwd.created_at == 0.0
    sim.run()
    assert second.log == []


def test_forward_with_event_type_renames_the_event(Recorder):
    first, second = Recorder("first"), Recorder("second")
    Simulation(entities=[first, second])
    original = Event(0.0, "Request", first)
    fwd = first.forward(original, second, event_type="Response")
    assert fwd.event_type == "Response"
    assert fwd.context is original.context


def test_forwarded_event_returned_by_a_handler_reaches_its_target(Recorder):
    sink = Recorder("sink")

    class Relay(Entity):
        def handle_event(self, event):
            return self.forward(event, sink)

    relay = Relay("relay")
    sim = Simulation(entities=[relay, sink])
    ev = Event(1.0, "Request", relay)
    sim.schedule(ev)
    sim.run()
    assert sink.log == [(1.0, "Request")]
    assert sink.events[0].context is ev.context


def test_an_entity_cannot_join_two_simulations(recorder):
    Simulation(entities=[recorder])
    with pytest.raises(RuntimeError):
        Simulation(entities=[recorder])
