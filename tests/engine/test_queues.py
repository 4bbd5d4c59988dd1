"""Queue policies: FIFO, LIFO, Priority; capacity refusal; empty behaviour."""

from __future__ import annotations

import pytest

from engine import Event
from engine.queues import FIFOQueue, LIFOQueue, PriorityQueue, QueuePolicy


def _drain(queue: QueuePolicy) -> list:
    out = []
    while not queue.is_empty():
        out.append(queue.pop())
    return out


def _request(target, name, priority=None):
    meta = {} if priority is None else {"priority": priority}
    return Event(0.0, name, target, context={"metadata": meta})


@pytest.mark.parametrize("cls", [FIFOQueue, LIFOQueue, PriorityQueue])
def test_every_policy_is_a_queue_policy(cls):
    assert isinstance(cls(), QueuePolicy)


def test_fifo_serves_in_arrival_order():
    q = FIFOQueue()
    for item in "abc":
        assert q.push(item) is True
    assert _drain(q) == ["a", "b", "c"]


def test_lifo_serves_the_newest_first():
    q = LIFOQueue()
    for item in "abc":
        q.push(item)
    assert _drain(q) == ["c", "b", "a"]


def test_priority_serves_the_lowest_key_first(recorder):
    q = PriorityQueue()
    for name, prio in [("low", 5), ("urgent", -1), ("mid", 2)]:
        q.push(_request(recorder, name, prio))
    assert [e.event_type for e in _drain(q)] == ["urgent", "mid", "low"]


def test_priority_is_fifo_among_equal_keys(recorder):
    q = PriorityQueue()
    for name, prio in [("a", 1), ("b", 0), ("c", 1), ("d", 0), ("e", 1)]:
        q.push(_request(recorder, name, prio))
    assert [e.event_type for e in _drain(q)] == ["b", "d", "a", "c", "e"]


def test_priority_default_key_is_metadata_priority_defaulting_to_zero(recorder):
    q = PriorityQueue()
    q.push(_request(recorder, "positive", 1))
    q.push(_request(recorder, "missing"))  # counts as 0
    q.push(Event(0.0, "no context given", recorder))  # counts as 0
    q.push(_request(recorder, "negative", -1))
    assert [e.event_type for e in _drain(q)] == ["negative", "missing", "no context given", "positive"]


def test_priority_with_a_custom_key():
    q = PriorityQueue(key=len)
    for item in ["ccc", "a", "bb"]:
        q.push(item)
    assert _drain(q) == ["a", "bb", "ccc"]


@pytest.mark.parametrize("cls", [FIFOQueue, LIFOQueue, PriorityQueue])
def test_full_queue_refuses_a_push(cls):
    q = cls(capacity=2)
    assert q.capacity == 2
    assert q.push("a") is True
    assert q.push("b") is True
    assert q.push("c") is False
    assert len(q) == 2
    assert "c" not in _drain(q)


@pytest.mark.parametrize("cls", [FIFOQueue, LIFOQueue, PriorityQueue])
def test_zero_capacity_queue_refuses_everything(cls):
    q = cls(capacity=0)
    assert q.push("a") is False
    assert len(q) == 0


@pytest.mark.parametrize("cls", [FIFOQueue, LIFOQueue, PriorityQueue])
def test_unbounded_queue_has_capacity_none(cls):
    q = cls()
    assert q.capacity is None
    for i in range(1000):
        assert q.push(i)
    assert len(q) == 1000


@pytest.mark.parametrize("cls", [FIFOQueue, LIFOQueue, PriorityQueue])
def test_peek_and_pop_on_an_empty_queue_return_none(cls):
    q = cls()
    assert q.is_empty()
    assert len(q) == 0
    assert q.peek() is None
    assert q.pop() is None


@pytest.mark.parametrize("cls", [FIFOQueue, LIFOQueue, PriorityQueue])
def test_peek_shows_the_next_pop_without_removing_it(cls):
    q = cls()
    for item in [3, 1, 2]:
        q.push(item)
    head = q.peek()
    assert len(q) == 3
    assert q.pop() == head
    assert len(q) == 2


@pytest.mark.parametrize("cls", [FIFOQueue, LIFOQueue, PriorityQueue])
def test_negative_capacity_is_a_value_error(cls):
    with pytest.raises(ValueError):
        cls(capacity=-1)
