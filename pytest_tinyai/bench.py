"""Latency benchmarks: one pytest-benchmark item per (model, declared resolution), for reporting latency.

The bench items are pytest Functions so that pytest-benchmark's `benchmark` fixture (and with it
--benchmark-json, --benchmark-autosave, --benchmark-compare) works unchanged. They decide nothing: relative
latency budgets are measured apart, paired and interleaved (`latency_budget`).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import pytest

from pytest_tinyai import properties as keys
from pytest_tinyai.findings import ConformanceFailure, NotChecked
from pytest_tinyai.model import ModelUnderTest
from pytest_tinyai.nodes import ConfiguredHooks
from pytest_tinyai.timing import resolution_label, time_once, timed_at

# onnxruntime's first two runs at a shape are slower (about 1.5x, at 256x256 and 1080x1920 alike), the third is
# steady: the sizing run and one warm-up round go before the timed rounds
WARMUP_RUNS = 2
NOT_TIMED = "pytest-benchmark is disabled (under xdist or --benchmark-disable): nothing was timed"


def bench_callable(model: Callable[[], ModelUnderTest], resolution: tuple[int, int]) -> Callable[..., None]:
    """The test function of one bench item: times one onnxruntime CPU run at `resolution` and records the median
    (`median_ms`, and the `tinyai_bench_result` record the report draws)."""

    def bench(benchmark: Any, request: pytest.FixtureRequest) -> None:
        under_test = model()
        ort_session, feeds = timed_at(under_test, resolution, "bench")
        benchmark.group = resolution_label(resolution)
        benchmark.extra_info.update(
            {"model": under_test.id, "resolution": list(resolution), "threads": under_test.threads}
        )
        if benchmark.disabled:
            pytest.skip(f"{under_test.id} at {resolution_label(resolution)}: {NOT_TIMED}")
        once = time_once(under_test.id, ort_session, feeds, resolution, "bench")  # sizes the rounds; warms up
        rounds = bench_rounds(once, request.config)
        benchmark.pedantic(
            ort_session.run, args=(None, feeds), rounds=rounds, warmup_rounds=WARMUP_RUNS - 1, iterations=1
        )
        median_ms = benchmark.stats.stats.median * 1000.0
        record = {"model": under_test.id, "resolution": resolution_label(resolution), "median_ms": median_ms}
        # record_property's channel, without its fixture (which warns under JUnit's default xunit2 family)
        request.node.user_properties += [
            (keys.MEDIAN_MS, median_ms),
            (keys.result("bench"), {**record, "rounds": rounds}),
        ]

    return bench


def bench_rounds(once: float, config: pytest.Config) -> int:
    """Rounds as pytest-benchmark sizes them: enough to fill `--benchmark-max-time` seconds (default 1) at the
    sizing run's pace, and at least `--benchmark-min-rounds` (default 5)."""
    max_time = float(config.getoption("benchmark_max_time"))
    return max(int(config.getoption("benchmark_min_rounds")), math.ceil(max_time / max(once, 1e-6)))


class BenchFunction(ConfiguredHooks, pytest.Function):
    """A bench item: a pytest Function (so the `benchmark` fixture works) that fails with one line per finding."""

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style=None):
        if isinstance(excinfo.value, ConformanceFailure | NotChecked):
            return excinfo.value.render()
        return super().repr_failure(excinfo)

    def reportinfo(self) -> tuple[str, None, str]:
        return str(self.path), None, self.name
