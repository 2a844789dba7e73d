"""Contract check: graph I/O against the sidecar's declared tensors, the ONNX checker, and one run at nominal shape."""

from __future__ import annotations

import numpy as np
import onnx

from pytest_tinyai.context import CheckContext
from pytest_tinyai.findings import Finding, NotRunnable, first_line
from pytest_tinyai.model import ModelGraph, ModelUnderTest
from pytest_tinyai.tensor_contract import Contract, TensorSpec


def graph_io(proto: onnx.ModelProto) -> tuple[dict[str, onnx.ValueInfoProto], dict[str, onnx.ValueInfoProto]]:
    initializers = {tensor.name for tensor in proto.graph.initializer}
    inputs = {value.name: value for value in proto.graph.input if value.name not in initializers}
    return inputs, {value.name: value for value in proto.graph.output}


def declared_names(sidecar: dict, direction: str) -> list[str] | None:
    if f"{direction}_names" in sidecar:
        return list(sidecar[f"{direction}_names"])
    if f"{direction}_name" in sidecar:
        return [sidecar[f"{direction}_name"]]
    return None


def check_contract(model: ModelUnderTest, context: CheckContext) -> list[Finding]:
    """Each graph the runtime may load (its own ONNX, and the int8 sibling its quant_mode makes it load instead)
    against the sidecar's names and contract, the ONNX checker, and one run at the nominal shape."""
    contract = model.contract
    normalisation = (
        [] if contract is None else [p for s in contract.inputs if (p := s.normalisation_problem()) is not None]
    )
    findings: list[Finding] = []
    for graph in model.graphs:
        graph_findings = _static_findings(model, graph, contract)
        if graph.file is None:  # a problem of the sidecar, reported once
            graph_findings.extend(Finding(model.id, "contract", problem) for problem in normalisation)
        if contract is not None:
            refusal = model.refusal(graph.file)
            if refusal is not None:
                graph_findings.append(graph.finding(model.id, "contract", refusal))
            elif not graph_findings and not normalisation:
                problems = _run_problems(model, contract, graph.file)
                graph_findings.extend(graph.finding(model.id, "contract", problem) for problem in problems)
        findings.extend(graph_findings)
    return findings


def _static_findings(model: ModelUnderTest, graph: ModelGraph, contract: Contract | None) -> list[Finding]:
    proto = graph.proto
    findings: list[Finding] = []

    def report(message: str) -> None:
        findings.append(graph.finding(model.id, "contract", message))

    inputs, outputs = graph_io(proto)
    for direction, actual in (("input", inputs), ("output", outputs)):
        names = declared_names(model.sidecar, direction)
        if names is not None and sorted(names) != sorted(actual):
            report(f"sidecar {direction} names {names} != graph {direction}s {sorted(actual)}")

    try:
        onnx.checker.check_model(proto, full_check=True)
    except (onnx.checker.ValidationError, onnx.shape_inference.InferenceError) as error:
        report(f"onnx.checker (full_check) fails: {first_line(error)}")

    if contract is None:
        return findings
    for direction, specs, actual in (("input", contract.inputs, inputs), ("output", contract.outputs, outputs)):
        undeclared = sorted(set(actual) - {spec.name for spec in specs})
        if undeclared:
            report(f"graph {direction}s {undeclared} are not in the contract")
        for spec in specs:
            if spec.name not in actual:
                report(f"contract {direction} '{spec.name}' is not a graph {direction} (graph has {sorted(actual)})")
                continue
            for problem in _type_problems(spec, actual[spec.name]):
                report(problem)
    return findings


def _type_problems(spec: TensorSpec, value: onnx.ValueInfoProto) -> list[str]:
    tensor_type = value.type.tensor_type
    problems = []
    if tensor_type.elem_type != spec.element_type:
        actual = onnx.helper.tensor_dtype_to_np_dtype(tensor_type.elem_type) if tensor_type.elem_type else "undefined"
        problems.append(f"'{spec.name}' element type is {actual}, the contract declares {spec.dtype}")
    if not tensor_type.HasField("shape"):
        return [*problems, f"'{spec.name}' has no shape in the graph, the contract declares {list(spec.shape)}"]
    dims = tensor_type.shape.dim
    if len(dims) != len(spec.shape):
        return [*problems, f"'{spec.name}' has rank {len(dims)}, the contract declares {list(spec.shape)}"]
    for axis, (declared, dim) in enumerate(zip(spec.shape, dims, strict=True)):
        fixed = dim.dim_value if dim.HasField("dim_value") else None
        if isinstance(declared, int) and fixed != declared:
            shown = fixed if fixed is not None else f"dynamic '{dim.dim_param}'"
            problems.append(f"'{spec.name}' axis {axis} is {shown}, the contract declares {declared}")
        elif isinstance(declared, str) and fixed is not None:
            problems.append(f"'{spec.name}' axis {axis} is fixed to {fixed}, the contract declares dynamic {declared}")
    return problems


def _run_problems(model: ModelUnderTest, contract: Contract, file: str | None = None) -> list[str]:
    if not contract.nominal:
        return ["the contract declares no nominal shape for the runtime check"]
    violations = contract.shape_violations(contract.nominal)
    if violations:
        return [f"nominal shape {contract.nominal} breaks the contract: {'; '.join(violations)}"]
    session = model.ort_session(file=file)
    try:
        results = session.run(None, contract.make_inputs(contract.nominal))
    except NotRunnable:  # the run was killed: the model is not run again
        raise
    except Exception as error:  # onnxruntime's error types are not importable in a stable way
        return [f"onnxruntime fails at the nominal shape {contract.nominal}: {first_line(error)}"]
    produced = dict(zip([output.name for output in session.get_outputs()], results, strict=True))
    problems = []
    for spec in contract.outputs:
        value = produced[spec.name]
        expected = spec.concrete_shape(contract.nominal)
        if value.shape != expected:
            problems.append(
                f"'{spec.name}' has shape {list(value.shape)} at nominal, the contract says {list(expected)}"
            )
            continue
        if value.dtype.kind == "f" and not np.isfinite(value).all():
            problems.append(f"'{spec.name}' has {int((~np.isfinite(value)).sum())} non-finite values at nominal")
        elif spec.value_range is not None:
            low, high = spec.value_range
            if value.min() < low or value.max() > high:
                problems.append(
                    f"'{spec.name}' values span [{value.min():.6g}, {value.max():.6g}], outside the declared "
                    f"range [{low}, {high}]"
                )
    return problems
