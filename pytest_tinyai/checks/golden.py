"""Golden check: the model, run in the sandbox on each stored set's inputs, reproduces the stored outputs.

Each set the sidecar's `tinyai.golden` declares is read as registry data (see pytest_tinyai.golden), its inputs are
held to the contract and the pixel cap, the model runs on them, and every output is compared with the stored one
within the declared tolerance (ratcheted by the ledger as "golden tolerance"). A failure names the set, the output,
the max-abs difference and where it lies, and the onnxruntime version that recorded the set when it is not this one.
A model with no contract of its own is held to the one derived from its graph. In a registry whose models carry
sets, a model with none is not run and says so (an untrusted one fails with its registry trust problem).
"""

from __future__ import annotations

import math

import numpy as np
import onnxruntime as ort

from pytest_tinyai.context import CheckContext
from pytest_tinyai.findings import Finding, NotRun, NotRunnable, first_line, printable
from pytest_tinyai.golden import GoldenError, StoredSet, by_model_names, difference, read_set
from pytest_tinyai.model import ModelUnderTest
from pytest_tinyai.tensor_contract import Contract
from pytest_tinyai.thresholds import GOLDEN_TOLERANCE, golden_tolerance

NO_SET = "no golden set declared, while other models of its registry carry one (record it: tinyai-golden record)"


def check_golden(model: ModelUnderTest, context: CheckContext) -> list[Finding]:
    block = model.tinyai.get("golden")
    if block is None:
        ledger = context.ledger
        recorded = ledger.recorded_thresholds(model.entry.registry_path, model.id) if ledger is not None else {}
        if GOLDEN_TOLERANCE in recorded:
            value = recorded[GOLDEN_TOLERANCE]
            why = f"the ledger records a {GOLDEN_TOLERANCE} of {value:g} but the sidecar declares no golden sets"
            return [Finding(model.id, "golden", why)]
        raise NotRun(model.id, "golden", NO_SET)
    tolerance = golden_tolerance(model.tinyai)
    findings: list[Finding] = []
    for declared in block["sets"]:
        try:
            stored = read_set(model.entry.folder, declared)
            findings += [Finding(model.id, "golden", line) for line in _compare(model, stored, tolerance)]
        except GoldenError as error:
            findings.append(Finding(model.id, "golden", str(error)))
    return findings


def _compare(model: ModelUnderTest, stored: StoredSet, tolerance: float) -> list[str]:
    label = f"golden set '{printable(stored.path)}'"
    ort_session = model.ort_session()
    input_names = [info.name for info in ort_session.get_inputs()]
    output_names = [info.name for info in ort_session.get_outputs()]
    inputs = by_model_names(stored.inputs, input_names, "input", stored.path)
    outputs = by_model_names(stored.outputs, output_names, "output", stored.path)
    feeds = {name: tensor.array for name, tensor in inputs.items()}
    contract = model.contract or model.derivation().contract
    if problems := _input_problems(contract, feeds, model):
        return [f"{label}: {problem}" for problem in problems]
    try:
        produced = dict(zip(output_names, ort_session.run(None, feeds), strict=True))
    except NotRunnable:
        raise
    except Exception as error:  # the sandbox's OrtError: onnxruntime refused these inputs
        return [f"{label}: onnxruntime fails on the stored inputs: {first_line(error)}"]
    recorded_with = stored.onnxruntime
    version_note = (
        f"; recorded with onnxruntime {printable(recorded_with)}, now {ort.__version__}"
        if recorded_with is not None and recorded_with != ort.__version__
        else ""
    )
    problems = []
    for name, tensor in outputs.items():
        value = np.asarray(produced[name])
        where = f"{label} output '{printable(name)}' ({tensor.file})"
        if value.shape != tensor.array.shape:
            problems.append(f"{where}: shape {list(value.shape)} now, {list(tensor.array.shape)} stored{version_note}")
            continue
        gap = difference(tensor.array, value)
        if not gap.max_abs <= tolerance:
            problems.append(
                f"{where}: max-abs-diff {gap.max_abs:.3g} > tolerance {tolerance:.3g} at {list(gap.where)} "
                f"(stored {gap.stored:.6g}, now {gap.produced:.6g}){version_note}"
            )
    return problems


def _input_problems(contract: Contract, feeds: dict[str, np.ndarray], model: ModelUnderTest) -> list[str]:
    """Why the stored inputs do not fit the contract (element type, rank, fixed dims, symbolic dims, pixel cap)."""
    problems: list[str] = []
    bound: dict[str, int] = {}
    for spec in contract.inputs:
        array = feeds.get(spec.name)
        if array is None:
            continue  # matched by position to another name: the run reports it
        shown = f"input '{printable(spec.name)}'"
        if array.dtype != np.dtype(spec.dtype):
            problems.append(f"{shown} is {array.dtype}, the contract declares {spec.dtype}")
        if array.ndim != len(spec.shape):
            problems.append(f"{shown} has shape {list(array.shape)}, the contract declares {list(spec.shape)}")
            continue
        for axis, (size, dim) in enumerate(zip(array.shape, spec.shape, strict=True)):
            if isinstance(dim, int) and size != dim:
                problems.append(f"{shown} axis {axis} is {size}, the contract fixes it to {dim}")
            elif isinstance(dim, str) and bound.setdefault(dim, size) != size:
                problems.append(f"{shown} binds {dim}={size}, another input {dim}={bound[dim]}")
    if problems:
        return problems
    dims = {**contract.nominal, **bound}
    problems = [f"stored inputs break the contract: {why}" for why in contract.shape_violations(dims)]
    pixels = math.prod(bound.values())
    if pixels > model.limits.max_pixels:
        problems.append(f"stored inputs are {pixels:,} pixels, over the cap of {model.limits.max_pixels:,}")
    return problems
