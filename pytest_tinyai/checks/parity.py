"""Parity check: the sidecar's PyTorch reference, carrying the graph's own weights, against ONNX Runtime.

The reference is rebuilt in the graph's form (BatchNorm folded where the exporter folded it), its weights are
imported by graph structure (pytest_tinyai.parity.structure), then both run on seeded random-normal inputs at
contract shapes and on images of the eval fold, under every ORT opt level. The torch-dependent modules are
imported inside the check, after require_torch, so the plugin itself loads without torch.
"""

from __future__ import annotations

import math

from pytest_tinyai.context import CheckContext
from pytest_tinyai.contract import Contract
from pytest_tinyai.findings import Finding
from pytest_tinyai.model import ModelUnderTest
from pytest_tinyai.ort_sandbox import OPT_LEVELS
from pytest_tinyai.parity import ParityError, require_torch
from pytest_tinyai.parity.cases import Case, image_cases, random_cases

DEFAULT_TOLERANCE = 1e-5


def check_parity(model: ModelUnderTest, context: CheckContext) -> list[Finding]:
    """One finding per output whose worst max-abs difference exceeds the tolerance (sidecar parity.tolerance,
    default 1e-5), or one per reason the reference could not be built, imported or run."""
    if model.sidecar.get("reference") is None:
        return []
    if model.contract is None:
        return [
            Finding(model.id, "parity", "the sidecar names a reference but declares no contract to draw shapes from")
        ]
    contract = Contract.from_sidecar(model.contract)
    tolerance = model.sidecar.get("parity", {}).get("tolerance", DEFAULT_TOLERANCE)
    try:
        require_torch()
        from pytest_tinyai.parity.compare import measure
        from pytest_tinyai.parity.prepare import prepared_reference

        reference = prepared_reference(model)
        cases = parity_cases(model, contract, context)
        measurements = measure(reference, contract, model.session, cases, list(OPT_LEVELS))
    except ParityError as error:
        return [Finding(model.id, "parity", problem) for problem in error.problems]
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
    return findings


def parity_cases(model: ModelUnderTest, contract: Contract, context: CheckContext) -> list[Case]:
    """Random-normal cases at contract shapes, plus images of the eval fold when the gate names one that exists."""
    cases = random_cases(contract)
    fold = model.sidecar.get("gate", {}).get("fold", {}).get("name")
    if fold is not None and context.fold_path(model, fold).is_dir():
        cases += image_cases(contract, context.fold_path(model, fold))
    return cases
