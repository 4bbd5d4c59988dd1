"""Ring buffers and batch-means estimates."""

from __future__ import annotations

import math

import numpy as np
import pytest

from desktop.run.buffers import RingBuffer, batch_means, ratio_batch_means


def test_ring_buffer_keeps_the_newest_values_in_order_across_the_wrap() -> None:
    ring = RingBuffer(5)
    ring.extend([1, 2, 3])
    ring.extend([4, 5, 6, 7])
    assert ring.view().tolist() == [3, 4, 5, 6, 7]
    ring.extend([8])
    assert ring.view().tolist() == [4, 5, 6, 7, 8]


def test_ring_buffer_view_is_a_read_only_slice_not_a_copy() -> None:
    ring = RingBuffer(4)
    ring.extend(range(6))
    view = ring.view()
    assert view.base is not None and not view.flags.writeable
    with pytest.raises(ValueError):
        view[0] = 1.0


def test_ring_buffer_takes_more_than_its_capacity_at_once() -> None:
    ring = RingBuffer(3)
    ring.extend(np.arange(10.0))
    assert ring.view().tolist() == [7.0, 8.0, 9.0]
    assert len(ring) == 3


def test_batch_means_interval_covers_the_mean_of_iid_samples() -> None:
    rng = np.random.default_rng(3)
    covered = sum(batch_means(rng.normal(2.0, 1.0, 1600)).covers(2.0) for _ in range(200))
    assert 175 <= covered <= 200  # nominal 95 %


def test_batch_means_skips_nan_and_needs_four_samples_for_an_interval() -> None:
    est = batch_means(np.array([1.0, math.nan, 3.0]))
    assert est.mean == 2.0 and math.isnan(est.half_width)
    assert math.isfinite(batch_means(np.array([1.0, 2.0, 3.0, 4.0])).half_width)


def test_ratio_batch_means_uses_increments_after_the_baseline() -> None:
    done = np.array([10.0, 20.0, 30.0, 40.0, 50.0])
    sums = np.array([100.0, 120.0, 140.0, 160.0, 180.0])  # 2 s each after the baseline
    est = ratio_batch_means(sums, done)
    assert est.mean == pytest.approx(2.0) and est.half_width == pytest.approx(0.0)


def test_convergence_matches_batch_means_on_each_prefix() -> None:
    from types import SimpleNamespace

    from desktop.run.buffers import SeriesStore

    rng = np.random.default_rng(5)
    store = SeriesStore(["s"], capacity=1000)
    times = np.arange(1.0, 401.0)
    series = {
        "queue_length": rng.random(400),
        "in_service": rng.random(400),
        "utilization": rng.random(400),
        "throughput": rng.random(400),
    }
    store.append(
        SimpleNamespace(
            times=times, series={"s": series}, results={}, stations={}, now=400.0, results_time=400.0, checkpoints=()
        )
    )
    t, mean, half = store.convergence("s", since=100.0, points=10)
    assert t[-1] == 400.0 and t.size == 10
    values = (series["queue_length"] + series["in_service"])[101:]
    for k in range(t.size):
        n = int(t[k]) - 101
        expected = batch_means(values[:n])
        assert mean[k] == pytest.approx(expected.mean)
        if n >= 32 and n % 16 == 0:
            assert half[k] == pytest.approx(expected.half_width)


def test_store_keeps_checkpoints_and_percentiles_on_their_own_cadences() -> None:
    from types import SimpleNamespace

    from desktop.run.batch import Checkpoint
    from desktop.run.buffers import SeriesStore

    store = SeriesStore(["s"], capacity=100)

    def batch(checkpoints: list[Checkpoint], results_time: float, p50: float) -> SimpleNamespace:
        return SimpleNamespace(
            times=np.empty(0),
            series={},
            stations={},
            results={"s": {"p50_response": p50, "p95_response": 2 * p50, "p99_response": 3 * p50}},
            results_time=results_time,
            checkpoints=tuple(checkpoints),
        )

    store.append(batch([Checkpoint(1.0, {"s": (1, 2.0, 2, 0.5)}), Checkpoint(2.0, {"s": (3, 7.0, 4, 1.5)})], 2.0, 1.0))
    # a repeated checkpoint time (a batch re-sent while paused) and old results add nothing
    store.append(batch([Checkpoint(2.0, {"s": (3, 7.0, 4, 1.5)}), Checkpoint(3.0, {"s": (6, 16.0, 6, 2.5)})], 2.0, 9.0))
    assert store.checkpoint_times().tolist() == [1.0, 2.0, 3.0]
    assert store.checkpoint("s", "completed").tolist() == [1, 3, 6]
    assert store.checkpoint("s", "wait_sum").tolist() == [0.5, 1.5, 2.5]
    assert store.percentile_times().tolist() == [2.0]
    assert store.percentile("s", "p99_response").tolist() == [3.0]
    est = store.estimates("s", since=0.0)
    assert est["mean_response"].mean == pytest.approx((16.0 - 2.0) / (6 - 1))
    assert est["mean_wait"].mean == pytest.approx((2.5 - 0.5) / (6 - 2))


def test_chart_tops_are_round_numbers_that_change_seldom() -> None:
    from desktop.run.dashboard import nice_ceiling

    assert [nice_ceiling(x) for x in (0.3, 1.0, 1.0 + 1e-9, 1.2, 2.2, 3.0, 7.0, 12.0, 250.1)] == [
        0.5, 1.0, 1.0, 2.0, 2.5, 5.0, 10.0, 20.0, 500.0,
    ]  # fmt: skip
    assert nice_ceiling(0.0) == nice_ceiling(-1.0) == nice_ceiling(float("nan")) == 1.0
