"""The simulation loop: ordering, end time, slices, processes, seeding (SEMANTICS §1 Loop)."""

from __future__ import annotations

import math

import pytest

from engine import Entity, Event, Server, Simulation, Source
from engine.distributions import ExponentialLatency

# ------------------------------------------------------------------------ ordering


def test_events_run_in_time_order(recorder, inject):
    sim = Simulation()
    inject(sim, recorder, [3.0, 1.0, 2.0], names=["c", "a", "b"])
    sim.run()
    assert recorder.log == [(1.0, "a"), (2.0, "b"), (3.0, "c")]


def test_simultaneous_events_run_in_scheduling_order(recorder, inject):
    sim = Simulation()
    inject(sim, recorder, [1.0, 1.0, 0.5, 1.0], names=["first", "second", "early", "third"])
    sim.run()
    assert recorder.log == [(0.5, "early"), (1.0, "first"), (1.0, "second"), (1.0, "third")]


def test_events_scheduled_by_a_handler_at_now_run_after_those_already_due(Recorder):
    log = Recorder("log")

    class Spawner(Entity):
        def handle_event(self, event):
            log.handle_event(Event(self.now, f"handled {event.event_type}", log))
            if event.event_type == "a":
                return Event(self.now, "spawned", self)
            return None

    spawner = Spawner("spawner")
    sim = Simulation(entities=[spawner, log])
    sim.schedule([Event(1.0, "a", spawner), Event(1.0, "b", spawner)])
    sim.run()
    assert log.log == [(1.0, "handled a"), (1.0, "handled b"), (1.0, "handled spawned")]


def test_scheduling_earlier_than_now_is_a_value_error(recorder):
    sim = Simulation(entities=[recorder])
    sim.schedule(Event(5.0, "Tick", recorder))
    sim.run()
    assert sim.now == 5.0
    with pytest.raises(ValueError):
        sim.schedule(Event(4.0, "Late", recorder))


def test_a_handler_returning_an_event_in_the_past_is_a_value_error():
    class TimeTraveller(Entity):
        def handle_event(self, event):
            return Event(self.now - 1.0, "Back", self)

    t = TimeTraveller("t")
    sim = Simulation(entities=[t])
    sim.schedule(Event(2.0, "Go", t))
    with pytest.raises(ValueError):
        sim.run()


def test_scheduling_something_that_is_not_an_event_is_a_type_error():
    sim = Simulation()
    with pytest.raises(TypeError):
        sim.schedule([42])  # type: ignore[list-item]


# ------------------------------------------------------------------------ end time


def test_end_time_is_inclusive_and_nothing_later_runs(recorder, inject):
    sim = Simulation(end_time=10)
    inject(sim, recorder, [5.0, 10.0, 10.5], names=["a", "b", "c"])
    sim.run()
    assert recorder.log == [(5.0, "a"), (10.0, "b")]
    assert sim.now == 10.0


def test_now_equals_end_time_even_when_the_last_event_is_earlier(recorder, inject):
    sim = Simulation(end_time=10)
    inject(sim, recorder, [2.0])
    sim.run()
    assert sim.now == 10.0


def test_duration_sets_the_end_time_from_the_start(recorder, inject):
    sim = Simulation(duration=4)
    inject(sim, recorder, [4.0, 4.5], names=["in", "out"])
    sim.run()
    assert recorder.log == [(4.0, "in")]
    assert sim.now == 4.0


def test_duration_and_end_time_together_are_a_value_error():
    with pytest.raises(ValueError):
        Simulation(end_time=10, duration=10)


@pytest.mark.parametrize("bad", [-1.0, math.nan])
def test_negative_or_nan_duration_is_a_value_error(bad):
    with pytest.raises(ValueError):
        Simulation(duration=bad)


def test_run_without_end_time_stops_when_nothing_is_left(recorder, inject):
    sim = Simulation()
    inject(sim, recorder, [1.0, 7.0])
    sim.run()
    assert recorder.times == [1.0, 7.0]
    assert sim.now == 7.0


# ------------------------------------------------------------------------ slices


def _mm1(seed, end_time=None):
    done = []

    class Done(Entity):
        def handle_event(self, event):
            done.append((self.now, event.created_at))

    server = Server("s", 1, ExponentialLatency(0.8), downstream=Done("done"))
    source = Source.poisson(1.0, server)
    sim = Simulation(sources=[source], entities=[server], end_time=end_time, seed=seed)
    return sim, server, done


def test_run_until_in_slices_gives_the_same_result_as_one_run():
    one, server_one, done_one = _mm1(seed=7, end_time=50)
    one.run()
    sliced, server_sliced, done_sliced = _mm1(seed=7, end_time=50)
    t = 0.0
    while t < 50:
        t = min(50.0, t + 0.37)
        sliced.run_until(t)
        assert sliced.now == t
    assert len(done_one) > 20
    assert done_sliced == done_one
    assert server_sliced.stats == server_one.stats
    assert sliced.now == one.now == 50.0


def test_run_until_is_capped_at_end_time(recorder, inject):
    sim = Simulation(end_time=5)
    inject(sim, recorder, [4.0, 6.0])
    sim.run_until(100)
    assert recorder.times == [4.0]
    assert sim.now == 5.0


def test_run_until_an_earlier_time_does_nothing(recorder, inject):
    sim = Simulation()
    inject(sim, recorder, [1.0, 3.0])
    sim.run_until(2.0)
    sim.run_until(1.0)
    assert recorder.times == [1.0]
    assert sim.now == 2.0


def test_step_processes_exactly_one_event(recorder, inject):
    sim = Simulation()
    events = inject(sim, recorder, [1.0, 2.0, 3.0], names=["a", "b", "c"])
    result = sim.step()
    assert result == (1.0, events[0])
    assert recorder.log == [(1.0, "a")]
    assert sim.now == 1.0
    sim.step()
    assert recorder.log == [(1.0, "a"), (2.0, "b")]


def test_step_with_nothing_scheduled_returns_none():
    assert Simulation().step() is None


def test_peek_gives_the_next_time_without_running_it(recorder, inject):
    sim = Simulation()
    assert sim.peek() == math.inf
    inject(sim, recorder, [2.0, 1.5])
    assert sim.peek() == 1.5
    assert recorder.log == []
    assert sim.now == 0.0
    sim.step()
    assert sim.peek() == 2.0


# ---------------------------------------------------------------------- processes


class Worker(Entity):
    """Runs the generator built by ``script(self, event)`` for each event."""

    def __init__(self, name, script):
        super().__init__(name)
        self.script = script

    def handle_event(self, event):
        return self.script(self, event)


def test_process_resumes_after_each_yielded_delay(recorder):
    def script(self, event):
        recorder.handle_event(Event(self.now, "start", recorder))
        yield 1.5
        recorder.handle_event(Event(self.now, "middle", recorder))
        yield 2
        recorder.handle_event(Event(self.now, "end", recorder))

    w = Worker("w", script)
    sim = Simulation(entities=[w, recorder])
    sim.schedule(Event(1.0, "Go", w))
    sim.run()
    assert recorder.log == [(1.0, "start"), (2.5, "middle"), (4.5, "end")]


def test_process_yielding_delay_and_events_schedules_them_then_waits(recorder):
    def script(self, event):
        yield 1.0, [Event(self.now, "now", recorder), Event(self.now + 0.5, "soon", recorder)]
        yield (1.0, Event(self.now, "single", recorder))
        recorder.handle_event(Event(self.now, "done", recorder))

    w = Worker("w", script)
    sim = Simulation(entities=[w, recorder])
    sim.schedule(Event(0.0, "Go", w))
    sim.run()
    assert recorder.log == [(0.0, "now"), (0.5, "soon"), (1.0, "single"), (2.0, "done")]


def test_process_return_value_is_scheduled_when_it_finishes(recorder):
    def script(self, event):
        yield 2.0
        return [Event(self.now, "result", recorder), Event(self.now + 1, "later", recorder)]

    w = Worker("w", script)
    sim = Simulation(entities=[w, recorder])
    sim.schedule(Event(1.0, "Go", w))
    sim.run()
    assert recorder.log == [(3.0, "result"), (4.0, "later")]


def test_process_returning_a_single_event_schedules_it(recorder):
    def script(self, event):
        yield 1.0
        return Event(self.now, "result", recorder)

    w = Worker("w", script)
    sim = Simulation(entities=[w, recorder])
    sim.schedule(Event(0.0, "Go", w))
    sim.run()
    assert recorder.log == [(1.0, "result")]


def test_completion_hooks_run_only_after_the_process_returns():
    seen = []

    def script(self, event):
        seen.append(("process start", self.now))
        yield 1.0
        seen.append(("process middle", self.now))
        yield 2.0
        seen.append(("process end", self.now))

    w = Worker("w", script)
    sim = Simulation(entities=[w])
    sim.schedule(Event(0.5, "Go", w, on_complete=lambda t: seen.append(("hook", t))))
    sim.run()
    assert seen == [("process start", 0.5), ("process middle", 1.5), ("process end", 3.5), ("hook", 3.5)]


def test_completion_hook_events_are_scheduled(recorder):
    w = Worker("w", lambda self, event: None)
    sim = Simulation(entities=[w, recorder])
    sim.schedule(Event(1.0, "Go", w, on_complete=lambda t: Event(t + 1, "after", recorder)))
    sim.run()
    assert recorder.log == [(2.0, "after")]


def test_completion_hook_of_a_plain_handler_runs_right_away():
    seen = []
    w = Worker("w", lambda self, event: None)
    sim = Simulation(entities=[w])
    sim.schedule(Event(2.0, "Go", w, on_complete=lambda t: seen.append(t)))
    sim.run()
    assert seen == [2.0]


def test_completion_hook_runs_after_the_return_value_is_scheduled(recorder):
    order = []

    def script(self, event):
        yield 1.0
        order.append(("returning", sim.pending))
        return Event(self.now, "result", recorder)

    w = Worker("w", script)
    sim = Simulation(entities=[w, recorder])
    sim.schedule(Event(0.0, "Go", w, on_complete=lambda t: order.append(("hook", sim.pending))))
    sim.run()
    # the returned event is already on the heap (one more pending) when the hook runs
    assert order == [("returning", 0), ("hook", 1)]
    assert recorder.log == [(1.0, "result")]


def test_start_process_runs_a_bare_generator(recorder):
    sim = Simulation(entities=[recorder])

    def proc():
        yield 1.0
        recorder.handle_event(Event(sim.now, "tick", recorder))

    sim.start_process(proc())
    sim.run()
    assert recorder.log == [(1.0, "tick")]


@pytest.mark.parametrize(
    "bad", [object(), None, [1.0], "soon", (1.0, 2.0, 3.0)], ids=["object", "None", "list", "str", "3-tuple"]
)
def test_process_yielding_an_unknown_type_is_a_type_error(bad):
    def script(self, event):
        yield bad

    w = Worker("w", script)
    sim = Simulation(entities=[w])
    sim.schedule(Event(0.0, "Go", w))
    with pytest.raises(TypeError):
        sim.run()


def test_process_yielding_a_numeric_string_is_a_type_error():
    def script(self, event):
        yield "1.0"

    w = Worker("w", script)
    sim = Simulation(entities=[w])
    sim.schedule(Event(0.0, "Go", w))
    with pytest.raises(TypeError):
        sim.run()


@pytest.mark.parametrize("bad", [42, "done", {"not": "an event"}], ids=["int", "str", "dict"])
def test_handler_returning_an_unknown_type_is_a_type_error(bad):
    w = Worker("w", lambda self, event: bad)
    sim = Simulation(entities=[w])
    sim.schedule(Event(0.0, "Go", w))
    with pytest.raises(TypeError):
        sim.run()


def test_process_returning_an_unknown_type_is_a_type_error():
    def script(self, event):
        yield 1.0
        return 42

    w = Worker("w", script)
    sim = Simulation(entities=[w])
    sim.schedule(Event(0.0, "Go", w))
    with pytest.raises(TypeError):
        sim.run()


def test_list_with_a_non_event_is_a_type_error():
    w = Worker("w", lambda self, event: [Event(self.now, "ok", self), "not an event"])
    sim = Simulation(entities=[w])
    sim.schedule(Event(0.0, "Go", w))
    with pytest.raises(TypeError):
        sim.run()


@pytest.mark.parametrize("bad", [-0.5, math.nan], ids=["negative", "nan"])
def test_process_yielding_a_negative_or_nan_delay_is_a_value_error(bad):
    def script(self, event):
        yield bad

    w = Worker("w", script)
    sim = Simulation(entities=[w])
    sim.schedule(Event(0.0, "Go", w))
    with pytest.raises(ValueError):
        sim.run()


def test_zero_delay_resumes_at_the_same_instant(recorder):
    def script(self, event):
        yield 0
        recorder.handle_event(Event(self.now, "resumed", recorder))

    w = Worker("w", script)
    sim = Simulation(entities=[w, recorder])
    sim.schedule(Event(3.0, "Go", w))
    sim.run()
    assert recorder.log == [(3.0, "resumed")]


# ------------------------------------------------------------------------- seeding


def _completions(seed, end_time=40):
    sim, server, done = _mm1(seed, end_time)
    sim.run()
    return done


def test_two_simulations_with_the_same_seed_give_identical_results():
    a = _completions(seed=123)
    b = _completions(seed=123)
    assert len(a) > 10
    assert a == b


def test_different_seeds_give_different_results():
    assert _completions(seed=1) != _completions(seed=2)


def test_interleaved_simulations_do_not_share_state():
    alone = _completions(seed=5)
    sim_a, _, done_a = _mm1(seed=5, end_time=40)
    sim_b, _, done_b = _mm1(seed=5, end_time=40)
    sim_c, _, done_c = _mm1(seed=6, end_time=40)
    t = 0.0
    while t < 40:
        t = min(40.0, t + 1.3)
        sim_c.run_until(t)
        sim_a.run_until(t)
        sim_c.run_until(t + 0.5)
        sim_b.run_until(t)
    assert done_a == alone
    assert done_b == alone
    assert done_c != alone


def test_a_distribution_shared_by_two_simulations_draws_from_each_ones_own_generator():
    shared = ExponentialLatency(1.0)

    def run(seed, other_seed=None):
        done = []

        class Done(Entity):
            def handle_event(self, event):
                done.append(self.now)

        server = Server("s", 1, shared, downstream=Done("d"))
        sim = Simulation(sources=[Source.constant(0.5, server)], entities=[server], end_time=30, seed=seed)
        return sim, done

    sim_alone, done_alone = run(9)
    sim_alone.run()
    sim_a, done_a = run(9)
    sim_b, _ = run(10)
    for t in range(1, 31):
        sim_a.run_until(t)
        sim_b.run_until(t)
    assert done_a == done_alone
