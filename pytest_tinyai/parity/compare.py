"""Both runtimes on the same inputs: PyTorch (CPU, eval, float32, no_grad) against ONNX Runtime per opt level."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import onnxruntime as ort
import torch
from torch import nn

from pytest_tinyai.findings import first_line
from pytest_tinyai.parity import ParityError
from pytest_tinyai.parity.cases import Case
from pytest_tinyai.tensor_contract import Contract


@dataclass(frozen=True)
class Measurement:
    """How far ONNX Runtime is from PyTorch on one output, one case and one opt level."""

    output: str
    case: Case
    opt_level: str
    max_abs: float
    max_rel: float

    @property
    def where(self) -> str:
        return f"{self.case.dims_text} on {self.case.source}, opt level '{self.opt_level}'"


def differences(expected: np.ndarray, actual: np.ndarray) -> tuple[float, float]:
    """Max-abs and max-rel difference (relative to |expected|, floored at float32 eps); NaN if either is NaN."""
    error = np.abs(actual.astype(np.float64) - expected.astype(np.float64))
    scale = np.maximum(np.abs(expected.astype(np.float64)), np.finfo(np.float32).eps)
    return float(error.max(initial=0.0)), float((error / scale).max(initial=0.0))


def measure(
    reference: nn.Module,
    contract: Contract,
    sessions: Callable[[str], ort.InferenceSession],
    cases: Iterable[Case],
    opt_levels: Sequence[str],
) -> list[Measurement]:
    """One Measurement per (case, opt level, output). Raises ParityError when either runtime fails on a case or
    the two disagree on an output's shape."""
    measurements = []
    for case in cases:
        expected = _torch_outputs(reference, contract, case)
        for level in opt_levels:
            session = sessions(level)
            names = [output.name for output in session.get_outputs()]
            try:
                actual = session.run(names, case.feeds)
            except Exception as error:  # onnxruntime's error types are not importable in a stable way
                raise ParityError(
                    f"onnxruntime (opt level '{level}') fails on {case.source} at {case.dims_text}: {first_line(error)}"
                ) from error
            if len(actual) != len(expected):
                raise ParityError(f"the graph has {len(actual)} outputs, the reference returns {len(expected)}")
            for name, want, got in zip(names, expected, actual, strict=True):
                if want.shape != got.shape:
                    raise ParityError(
                        f"output '{name}' is {list(got.shape)} from onnxruntime, {list(want.shape)} "
                        f"from the reference, on {case.source} at {case.dims_text}"
                    )
                measurements.append(Measurement(name, case, level, *differences(want, got)))
    return measurements


def _torch_outputs(reference: nn.Module, contract: Contract, case: Case) -> list[np.ndarray]:
    inputs = [torch.from_numpy(case.feeds[spec.name]).float() for spec in contract.inputs]
    try:
        with torch.no_grad():
            result = reference(*inputs)
    except Exception as error:  # the reference is foreign code; any failure on a valid input is a finding
        raise ParityError(f"the reference fails on {case.source} at {case.dims_text}: {error!r}") from error
    outputs = result if isinstance(result, tuple | list) else (result,)
    return [output.numpy() for output in outputs]
