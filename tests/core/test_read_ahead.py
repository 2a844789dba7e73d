"""`read_ahead`: the gate reads the next samples on a worker thread while the current one runs."""

from __future__ import annotations

import threading

import pytest

from pytest_tinyai.fold_eval import read_ahead


def test_values_come_in_item_order():
    assert list(read_ahead(range(10), lambda item: item * item, depth=3)) == [i * i for i in range(10)]


def test_reads_run_on_a_worker_thread_at_most_depth_items_ahead_of_the_consumer():
    read, ahead, threads = [], [], set()

    def record(item: int) -> int:
        read.append(item)
        threads.add(threading.current_thread())
        return item

    for consumed, value in enumerate(read_ahead(range(20), record, depth=4)):
        ahead.append(len(read) - consumed)
        assert value == consumed
    assert max(ahead) <= 5  # the value yielded plus four read ahead
    assert threading.current_thread() not in threads and len(threads) == 1


def test_a_failed_read_is_raised_where_its_value_would_have_been():
    def read(item: int) -> int:
        if item == 3:
            raise OSError("sample 3 is truncated")
        return item

    values = []
    with pytest.raises(OSError, match="sample 3 is truncated"):
        for value in read_ahead(range(10), read, depth=2):
            values.append(value)
    assert values == [0, 1, 2]


def test_a_consumer_that_stops_early_leaves_no_reading_thread_behind():
    values = read_ahead(range(100), lambda item: item, depth=4)
    assert next(values) == 0
    values.close()
    assert not [thread for thread in threading.enumerate() if thread.name.startswith("tinyai-read-ahead")]
