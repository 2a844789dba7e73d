"""Latency benchmarks: one pytest-benchmark item per (model, declared resolution), and relative budgets.

The bench items are pytest Functions so that pytest-benchmark's `benchmark` fixture (and with it
--benchmark-json, --benchmark-autosave, --benchmark-compare) works unchanged. Medians are kept per run so
that a budget such as "v2 <= 1.3x v1 at 256x256" is asserted from the same run's measurements.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

from pytest_tinyai.contract import Contract
from pytest_tinyai.findings import ConformanceFailure, Finding, NotChecked
from pytest_tinyai.model import ModelUnderTest

WARMUP_ROUNDS = 3
MIN_ROUNDS = 15
MAX_ROUNDS = 200
TARGET_SECONDS = 3.0  # rounds are sized so that a fast model gets many more than MIN_ROUNDS: steadier medians
NOT_TIMED = "pytest-benchmark is disabled (under xdist or --benchmark-disable): nothing was timed"


def resolution_label(resolution: tuple[int, int]) -> str:
    return f"{resolution[0]}x{resolution[1]}"


@dataclass
class BenchMedians:
    """Median seconds per (model id, resolution) measured in this process."""

    medians: dict[tuple[str, tuple[int, int]], float] = field(default_factory=dict)


def bench_callable(
    model: Callable[[], ModelUnderTest], resolution: tuple[int, int], medians: BenchMedians
) -> Callable[[Any], None]:
    """The test function of one bench item: times one onnxruntime CPU run at `resolution`."""

    def bench(benchmark: Any) -> None:
        under_test = model()
        contract_block = under_test.contract
        if contract_block is None:
            raise NotChecked(under_test.id, "latency needs a contract to build inputs")
        contract = Contract.from_sidecar(contract_block)
        height, width = resolution
        dims = {**contract.nominal, **dict(zip(contract.symbols[:2], (height, width), strict=False))}
        violations = contract.shape_violations(dims)
        if violations:
            raise ConformanceFailure(
                "bench",
                [
                    Finding(under_test.id, "bench", f"resolution {resolution_label(resolution)}: {v}")
                    for v in violations
                ],
            )
        session = under_test.timing_session()
        feeds = contract.make_inputs(dims)
        benchmark.group = resolution_label(resolution)
        benchmark.extra_info.update(
            {"model": under_test.id, "resolution": list(resolution), "threads": under_test.threads}
        )
        if benchmark.disabled:
            pytest.skip(f"{under_test.id} at {resolution_label(resolution)}: {NOT_TIMED}")
        try:
            started = time.perf_counter()
            session.run(None, feeds)
            once = time.perf_counter() - started
        except Exception as error:  # onnxruntime's own error types: the model cannot run this resolution
            text = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
            message = f"fails at {resolution_label(resolution)}: {text}"
            raise ConformanceFailure("bench", [Finding(under_test.id, "bench", message)]) from None
        rounds = int(min(MAX_ROUNDS, max(MIN_ROUNDS, TARGET_SECONDS / max(once, 1e-6))))
        benchmark.pedantic(session.run, args=(None, feeds), rounds=rounds, warmup_rounds=WARMUP_ROUNDS, iterations=1)
        medians.medians[(under_test.id, resolution)] = benchmark.stats.stats.median

    return bench


class BenchFunction(pytest.Function):
    """A bench item: a pytest Function (so the `benchmark` fixture works) that fails with one line per finding."""

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style=None):
        if isinstance(excinfo.value, ConformanceFailure | NotChecked):
            return excinfo.value.render()
        return super().repr_failure(excinfo, style)

    def reportinfo(self) -> tuple[str, None, str]:
        return str(self.path), None, self.name


def timing_disabled(config: pytest.Config) -> bool:
    """Whether pytest-benchmark times anything in this run (it disables itself under xdist)."""
    benchmark_session = getattr(config, "_benchmarksession", None)
    return benchmark_session is None or benchmark_session.disabled


def budget_findings(model_id: str, budget: dict[str, Any], medians: BenchMedians, disabled: bool) -> list[Finding]:
    """Assert `model <= max_ratio x relative_to` at one resolution from this run's medians."""
    resolution = tuple(budget["resolution"])
    other = budget["relative_to"]
    label = resolution_label(resolution)
    missing = [name for name in (model_id, other) if (name, resolution) not in medians.medians]
    if missing:
        if disabled:
            pytest.skip(f"budget {model_id} <= {budget['max_ratio']}x {other} at {label}: {NOT_TIMED}")
        selected = ", ".join(f"bench[{name}-{label}]" for name in missing)
        return [Finding(model_id, "latency_budget", f"no median for {selected} in this run: select those bench items")]
    mine, theirs = medians.medians[(model_id, resolution)], medians.medians[(other, resolution)]
    ratio = mine / theirs
    if ratio <= budget["max_ratio"]:
        return []
    message = (
        f"median latency at {label} is {ratio:.2f}x {other}'s, over the budget of {budget['max_ratio']}x "
        f"({mine * 1e3:.2f} ms vs {theirs * 1e3:.2f} ms)"
    )
    return [Finding(model_id, "latency_budget", message)]
