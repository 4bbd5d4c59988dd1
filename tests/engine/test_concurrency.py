"""Concurrency models: Fixed, Dynamic, Weighted (SEMANTICS §2 Concurrency models)."""

from __future__ import annotations

import pytest

from engine.components.server import (
    ConcurrencyModel,
    DynamicConcurrency,
    FixedConcurrency,
    WeightedConcurrency,
)

# ------------------------------------------------------------------------ protocol


@pytest.mark.parametrize(
    "model",
    [FixedConcurrency(2), DynamicConcurrency(2), WeightedConcurrency(5)],
    ids=["fixed", "dynamic", "weighted"],
)
def test_built_in_models_satisfy_the_runtime_checkable_protocol(model):
    assert isinstance(model, ConcurrencyModel)


def test_a_duck_typed_class_satisfies_the_protocol():
    class Unlimited:
        available = 10**9
        active = 0
        limit = 10**9

        def acquire(self, weight=1):
            return True

        def release(self, weight=1):
            pass

        def has_capacity(self, weight=1):
            return True

    assert isinstance(Unlimited(), ConcurrencyModel)


def test_an_object_missing_methods_is_not_a_concurrency_model():
    assert not isinstance(object(), ConcurrencyModel)
    assert not isinstance(3, ConcurrencyModel)


# ---------------------------------------------------------------------------- fixed


@pytest.mark.parametrize("bad", [0, -1])
def test_fixed_below_one_is_a_value_error(bad):
    with pytest.raises(ValueError, match="max_concurrent"):
        FixedConcurrency(bad)


def test_fixed_acquires_up_to_its_limit():
    m = FixedConcurrency(2)
    assert (m.limit, m.active, m.available) == (2, 0, 2)
    assert m.acquire() is True
    assert m.acquire() is True
    assert m.acquire() is False
    assert (m.active, m.available) == (2, 0)
    assert m.has_capacity() is False


def test_fixed_ignores_the_weight():
    m = FixedConcurrency(2)
    assert m.has_capacity(5) is True
    assert m.acquire(5) is True
    assert m.active == 1
    m.release(5)
    assert m.active == 0


def test_fixed_extra_releases_clamp_at_zero():
    m = FixedConcurrency(2)
    m.acquire()
    m.release()
    m.release()
    m.release()
    assert m.active == 0
    assert m.available == 2


def test_fixed_max_concurrent_is_read_only():
    m = FixedConcurrency(3)
    assert m.max_concurrent == 3
    with pytest.raises(AttributeError):
        m.max_concurrent = 4  # type: ignore[misc]


# -------------------------------------------------------------------------- dynamic


def test_dynamic_defaults():
    m = DynamicConcurrency(3)
    assert (m.current_limit, m.min_limit, m.max_limit, m.limit) == (3, 1, None, 3)


@pytest.mark.parametrize(
    ("args", "kwargs"),
    [
        ((1,), {"min_limit": 0}),
        ((2,), {"min_limit": 3, "max_limit": 2}),
        ((1,), {"min_limit": 2}),
        ((5,), {"max_limit": 4}),
        ((0,), {}),
    ],
    ids=["min-below-one", "max-below-min", "initial-below-min", "initial-above-max", "initial-zero"],
)
def test_dynamic_bad_bounds_are_a_value_error(args, kwargs):
    with pytest.raises(ValueError):
        DynamicConcurrency(*args, **kwargs)


def test_dynamic_set_limit_clamps_into_the_bounds():
    m = DynamicConcurrency(3, min_limit=2, max_limit=5)
    m.set_limit(10)
    assert m.current_limit == 5
    m.set_limit(0)
    assert m.current_limit == 2
    m.set_limit(-7)
    assert m.current_limit == 2
    m.set_limit(4)
    assert m.current_limit == 4 == m.limit


def test_dynamic_set_limit_without_max_is_unbounded_above():
    m = DynamicConcurrency(1)
    m.set_limit(1000)
    assert m.limit == 1000


def test_dynamic_scale_up_and_down_move_by_the_amount():
    m = DynamicConcurrency(3, max_limit=10)
    m.scale_up()
    assert m.limit == 4
    m.scale_up(3)
    assert m.limit == 7
    m.scale_down(2)
    assert m.limit == 5
    m.scale_down()
    assert m.limit == 4


def test_dynamic_scaling_clamps_into_the_bounds():
    m = DynamicConcurrency(3, min_limit=2, max_limit=5)
    m.scale_up(10)
    assert m.limit == 5
    m.scale_down(10)
    assert m.limit == 2


@pytest.mark.parametrize("method", ["scale_up", "scale_down"])
def test_dynamic_negative_scale_amount_is_a_value_error(method):
    m = DynamicConcurrency(3)
    with pytest.raises(ValueError):
        getattr(m, method)(-1)
    assert m.limit == 3


def test_dynamic_lowering_below_active_admits_nothing_until_active_drops_below_limit():
    m = DynamicConcurrency(3)
    for _ in range(3):
        assert m.acquire()
    m.set_limit(1)
    assert m.active == 3  # nothing pre-empted
    assert m.available == 0
    assert m.acquire() is False
    m.release()
    m.release()
    assert m.active == 1
    assert m.acquire() is False
    m.release()
    assert m.acquire() is True


def test_dynamic_ignores_the_weight_and_clamps_extra_releases():
    m = DynamicConcurrency(2)
    assert m.acquire(7)
    assert m.active == 1
    m.release(7)
    m.release()
    assert m.active == 0


# ------------------------------------------------------------------------- weighted


@pytest.mark.parametrize("bad", [0, -3])
def test_weighted_total_below_one_is_a_value_error(bad):
    with pytest.raises(ValueError, match="total_capacity"):
        WeightedConcurrency(bad)


def test_weighted_acquire_succeeds_iff_used_plus_weight_fits():
    m = WeightedConcurrency(10)
    assert m.acquire(6) is True
    assert m.acquire(5) is False  # 6 + 5 > 10
    assert m.active == 6
    assert m.acquire(4) is True  # 6 + 4 == 10
    assert (m.active, m.available) == (10, 0)
    assert m.acquire(1) is False


def test_weighted_has_capacity_does_not_acquire():
    m = WeightedConcurrency(4)
    assert m.has_capacity(4) is True
    assert m.has_capacity(5) is False
    assert m.active == 0


def test_weighted_release_gives_back_the_weight():
    m = WeightedConcurrency(10)
    m.acquire(7)
    m.release(3)
    assert m.active == 4
    assert m.available == 6


def test_weighted_extra_release_clamps_at_zero():
    m = WeightedConcurrency(10)
    m.acquire(2)
    m.release(5)
    assert m.active == 0
    assert m.available == 10


def test_weighted_utilization_is_used_over_total():
    m = WeightedConcurrency(8)
    assert m.utilization == 0.0
    m.acquire(2)
    assert m.utilization == 0.25
    m.acquire(6)
    assert m.utilization == 1.0


def test_weighted_example_from_the_seed():
    pool = WeightedConcurrency(total_capacity=100)
    pool.acquire(weight=10)
    pool.acquire(weight=1)
    assert pool.available == 89
    assert pool.total_capacity == pool.limit == 100


@pytest.mark.parametrize("weight", [0, -1, 0.5])
@pytest.mark.parametrize("method", ["acquire", "release", "has_capacity"])
def test_weighted_weight_below_one_is_a_value_error(method, weight):
    m = WeightedConcurrency(10)
    with pytest.raises(ValueError, match="weight"):
        getattr(m, method)(weight)
