"""What bench items and latency budgets share: a model's seeded inputs at a declared resolution, one timed run."""

from __future__ import annotations

import time

import numpy as np
import onnxruntime as ort

from pytest_tinyai.findings import ConformanceFailure, Finding, NotChecked, first_line
from pytest_tinyai.model import ModelUnderTest


def resolution_label(resolution: tuple[int, int]) -> str:
    return f"{resolution[0]}x{resolution[1]}"


def timed_at(
    model: ModelUnderTest, resolution: tuple[int, int], check: str
) -> tuple[ort.InferenceSession, dict[str, np.ndarray]]:
    """The model's timing session and the contract's seeded inputs with its first two symbolic dims at (H, W),
    after a sandboxed run at those dims; fails when the contract refuses the resolution."""
    contract = model.contract
    if contract is None:
        raise NotChecked(model.id, "latency needs a contract to build inputs")
    dims = contract.at_resolution(resolution)
    violations = contract.shape_violations(dims)
    if violations:
        label = resolution_label(resolution)
        raise ConformanceFailure(check, [Finding(model.id, check, f"resolution {label}: {v}") for v in violations])
    return model.timing_session(dims), contract.make_inputs(dims)


def time_once(
    model_id: str,
    ort_session: ort.InferenceSession,
    feeds: dict[str, np.ndarray],
    resolution: tuple[int, int],
    check: str,
) -> float:
    """Seconds of one run; a model that cannot run the resolution fails in one line."""
    try:
        started = time.perf_counter()
        ort_session.run(None, feeds)
        return time.perf_counter() - started
    except Exception as error:  # onnxruntime's own error types: the model cannot run this resolution
        message = f"fails at {resolution_label(resolution)}: {first_line(error)}"
        raise ConformanceFailure(check, [Finding(model_id, check, message)]) from None
