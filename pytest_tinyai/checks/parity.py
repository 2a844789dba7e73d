"""Parity check: the sidecar's PyTorch reference, with its trained weights or the graph's own, against ONNX Runtime.

With a weights file declared (sidecar ``weights``) the reference is built in training form and loaded strictly
with the trained state dict, so any difference in a weight, a folded BatchNorm or an exported op shows. Without
one, the reference is rebuilt in the graph's form (BatchNorm folded where the exporter folded it) and its weights
are imported by graph structure (pytest_tinyai.parity.structure). Then both run on seeded random-normal inputs at
contract shapes and on images of the eval fold, under every ORT opt level, PyTorch on the run's threads as ORT is.
The torch-dependent modules are imported inside the check, after require_torch, so the plugin itself loads without
torch.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from pytest_tinyai import properties as keys
from pytest_tinyai.context import CheckContext, FoldEscape
from pytest_tinyai.findings import CheckResult, Finding, NotRun
from pytest_tinyai.model import ModelUnderTest
from pytest_tinyai.ort_sandbox import OPT_LEVELS
from pytest_tinyai.parity import ParityError, require_torch
from pytest_tinyai.parity.cases import Case, image_cases, random_cases
from pytest_tinyai.parity.reference_roots import within_roots
from pytest_tinyai.tensor_contract import Contract
from pytest_tinyai.thresholds import parity_tolerance

if TYPE_CHECKING:
    from pytest_tinyai.parity.compare import Measurement


def check_parity(model: ModelUnderTest, context: CheckContext) -> CheckResult:
    """One finding per output whose worst max-abs difference exceeds the tolerance (sidecar parity.tolerance,
    default 1e-5), or one per reason the reference could not be built, loaded or run. The record says which kind
    of parity ran ("trained weights" or "graph weights") and the worst max-abs difference measured."""
    if model.tinyai.get("reference") is None:
        return CheckResult([])
    if model.contract is None:
        why = "the sidecar names a reference but declares no contract to draw shapes from"
        return CheckResult([Finding(model.id, "parity", why)])
    spec = model.tinyai["reference"]
    if not within_roots(spec, context.reference_roots):
        roots = ", ".join(context.reference_roots) or "none configured"
        why = f"reference '{spec}' is outside the trusted roots ({roots}: the tinyai_reference_roots ini option)"
        raise NotRun(model.id, "parity", why)
    contract = model.contract
    tolerance = parity_tolerance(model.tinyai)
    try:
        require_torch()
        from pytest_tinyai.parity.compare import measure
        from pytest_tinyai.parity.prepare import parity_kind, prepared_reference
        from pytest_tinyai.parity.threads import torch_threads

        kind = parity_kind(model)
        with torch_threads(model.threads):
            reference = prepared_reference(model)
            cases = parity_cases(model, contract, context)
            measurements = measure(reference, contract, model.ort_session, cases, list(OPT_LEVELS))
    except ParityError as error:
        return CheckResult([Finding(model.id, "parity", problem) for problem in error.problems])
    findings = []
    for output in dict.fromkeys(measurement.output for measurement in measurements):
        mine = [measurement for measurement in measurements if measurement.output == output]
        over = [measurement for measurement in mine if not measurement.max_abs <= tolerance]
        if over:
            worst = max(over, key=lambda measurement: (math.isnan(measurement.max_abs), measurement.max_abs))
            findings.append(
                Finding(
                    model.id,
                    "parity",
                    f"output '{output}': PyTorch vs onnxruntime max-abs-diff {worst.max_abs:.3g} > tolerance "
                    f"{tolerance:.3g} (max-rel {worst.max_rel:.3g}), worst at {worst.where}; "
                    f"{len(over)} of {len(mine)} comparisons over tolerance",
                )
            )
    worst = _worst(m.max_abs for m in measurements)
    by_input = {case: _worst(m.max_abs for m in measurements if m.case.kind == case) for case in _kinds(measurements)}
    record = {"model": model.id, "parity": kind, "max_abs_diff": worst, "tolerance": tolerance, "by_input": by_input}
    return CheckResult(findings, record, {keys.MAX_ABS_DIFF: worst})


def _worst(values: Iterable[float]) -> float:
    """The largest difference, a NaN above all (0.0 of none)."""
    return max(values, key=lambda value: (math.isnan(value), value), default=0.0)


def _kinds(measurements: list[Measurement]) -> list[str]:
    return list(dict.fromkeys(measurement.case.kind for measurement in measurements))


def parity_cases(model: ModelUnderTest, contract: Contract, context: CheckContext) -> list[Case]:
    """Random-normal cases at contract shapes, plus images of the eval fold when the gate names one that exists."""
    cases = random_cases(contract)
    fold = model.tinyai.get("gate", {}).get("fold", {}).get("name")
    if fold is not None and (root := _fold_root(model, fold, context)) is not None:
        cases += image_cases(contract, root)
    return cases


def _fold_root(model: ModelUnderTest, fold: str, context: CheckContext) -> Path | None:
    """The gate's fold if it is there to draw images from (one that escapes the folder fails the gate instead)."""
    try:
        root = context.fold_path(model, fold)
    except FoldEscape:
        return None
    return root if root.is_dir() else None
