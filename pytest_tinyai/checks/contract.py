"""Contract check: graph I/O against the sidecar's declared tensors, the ONNX checker, and one run at nominal shape.

A model whose sidecar declares no contract is held to the one derived from its graph and its owner's fields (see
`derived_contract`): the owner's names and shapes against the graph, the checker, and one run at the derived shape.
A derived contract with a symbolic dim that has no value is not run at a shape: the item is skipped, saying so,
and the summary lists it with the other checks not run (a pass would claim a run that never happened)."""

from __future__ import annotations

import numpy as np
import onnx

from pytest_tinyai.context import CheckContext
from pytest_tinyai.findings import CheckResult, Finding, NotRun, NotRunnable, first_line
from pytest_tinyai.graph import graph_io
from pytest_tinyai.model import ModelGraph, ModelUnderTest
from pytest_tinyai.tensor_contract import Contract, TensorSpec

DERIVED = "derived"  # the record's `contract` for a model held to the contract derived from its graph


def declared_names(sidecar: dict, direction: str) -> list[str] | None:
    if f"{direction}_names" in sidecar:
        return list(sidecar[f"{direction}_names"])
    if f"{direction}_name" in sidecar:
        return [sidecar[f"{direction}_name"]]
    return None


def name_problem(sidecar: dict, direction: str, actual: list[str]) -> str | None:
    """Why the owner's names disagree with the graph's, or None. `<direction>_names` lists every tensor; the C
    runtime reads `<direction>_name` as the one it binds by name, which a graph with several holds among them (a
    two-input model binds its others by name at run time: upstream's lpips_sq declares input_name 'ref' of 'ref',
    'dist')."""
    names = declared_names(sidecar, direction)
    if names is None or sorted(names) == sorted(actual):
        return None
    if f"{direction}_names" not in sidecar and len(actual) > 1 and names[0] in actual:
        return None
    return f"sidecar {direction} names {names} != graph {direction}s {sorted(actual)}"


def check_contract(model: ModelUnderTest, context: CheckContext) -> list[Finding] | CheckResult:
    """Each graph the runtime may load (its own ONNX, and the int8 sibling its quant_mode makes it load instead)
    against the sidecar's names and tinyai.contract (or, declaring none, the contract derived from that graph), the
    ONNX checker, and one run at the nominal shape. A derived contract with a dim that has no value is not run: the
    item is skipped (NotRun) once no graph has a finding."""
    contract = model.contract
    normalisation = (
        [] if contract is None else [p for s in contract.inputs if (p := s.normalisation_problem()) is not None]
    )
    findings: list[Finding] = []
    not_run: list[str] = []
    record = None
    for graph in model.graphs:
        graph_findings = _static_findings(model, graph, contract)
        if graph.file is None:  # a problem of the sidecar, reported once
            graph_findings.extend(Finding(model.id, "contract", problem) for problem in normalisation)
        if contract is not None:
            refusal = model.refusal(graph.file)
            if refusal is not None:
                graph_findings.append(graph.finding(model.id, "contract", refusal))
            elif not graph_findings and not normalisation:
                problems = _run_problems(model, contract, context, graph.file)
                graph_findings.extend(graph.finding(model.id, "contract", problem) for problem in problems)
        else:
            graph_findings, why_not, graph_record = _check_derived(model, context, graph, graph_findings)
            if why_not is not None:
                not_run.append(why_not if graph.file is None else f"{graph.file}: {why_not}")
            record = record or graph_record
        findings.extend(graph_findings)
    if not findings and not_run:
        raise NotRun(model.id, "contract", f"graph names and checker pass, but {'; '.join(not_run)}")
    return findings if record is None else CheckResult(findings, record)


def _static_findings(model: ModelUnderTest, graph: ModelGraph, contract: Contract | None) -> list[Finding]:
    proto = graph.proto
    findings: list[Finding] = []

    def report(message: str) -> None:
        findings.append(graph.finding(model.id, "contract", message))

    inputs, outputs = graph_io(proto)
    for direction, actual in (("input", inputs), ("output", outputs)):
        if (problem := name_problem(model.sidecar, direction, list(actual))) is not None:
            report(problem)

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


def _check_derived(
    model: ModelUnderTest, context: CheckContext, graph: ModelGraph, findings: list[Finding]
) -> tuple[list[Finding], str | None, dict | None]:
    """One graph held to the contract derived from it: the owner's shapes against the graph, then one run at the
    derived shape. Returns the findings, why it is not run at a shape (or None), and what it records of the model's
    own graph (None for the sibling)."""
    derivation = model.derivation(graph.file)
    contract = derivation.contract
    findings = findings + [graph.finding(model.id, "contract", problem) for problem in derivation.problems]
    refusal = model.refusal(graph.file)
    ran = False
    if refusal is not None:
        findings.append(graph.finding(model.id, "contract", refusal))
    elif not findings and derivation.not_run_reason is None:
        problems = contract.cap_problems("derived shape", contract.nominal, model.limits.max_pixels)
        if not problems:
            problems, ran = _run_problems(model, contract, context, graph.file), True
        findings.extend(graph.finding(model.id, "contract", problem) for problem in problems)
    why_not = derivation.not_run_reason if not findings else None
    record = {"contract": DERIVED, "kind": contract.kind, "nominal": dict(contract.nominal), "ran": ran}
    return findings, why_not, record if graph.file is None else None


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


def _run_problems(
    model: ModelUnderTest, contract: Contract, context: CheckContext, file: str | None = None
) -> list[str]:
    """One run of the graph `file` (None: the model's own) at the contract's nominal shape: every output finite, of
    its shape, in its range, and what the model kind requires of its outputs."""
    if not contract.nominal and contract.symbols and not contract.derived:
        return ["the contract declares no nominal shape for the runtime check"]
    violations = contract.shape_violations(contract.nominal)
    if violations:
        return [f"nominal shape {contract.nominal} breaks the contract: {'; '.join(violations)}"]
    feeds = contract.make_inputs(contract.nominal)
    at = _described_shape(contract, feeds)
    session = model.ort_session(file=file)
    try:
        results = session.run(None, feeds)
    except NotRunnable:  # the run was killed: the model is not run again
        raise
    except Exception as error:  # onnxruntime's error types are not importable in a stable way
        where = at if contract.derived else f"the nominal shape {contract.nominal}"
        return [f"onnxruntime fails at {where}: {first_line(error)}"]
    produced = dict(zip([output.name for output in session.get_outputs()], results, strict=True))
    specs = {spec.name: spec for spec in contract.outputs}
    source = "the graph" if contract.derived else "the contract"
    problems = []
    for name, value in produced.items():
        spec = specs.get(name)
        if spec is not None and not spec.admits_shape(value.shape, contract.nominal):
            expected = ["?" if size is None else size for size in spec.expected_shape(contract.nominal)]
            problems.append(f"'{name}' has shape {list(value.shape)} at {at}, {source} says {expected}")
            continue
        if value.dtype.kind == "f" and not np.isfinite(value).all():
            problems.append(f"'{name}' has {int((~np.isfinite(value)).sum())} non-finite values at {at}")
        elif spec is not None and spec.value_range is not None:
            low, high = spec.value_range
            if value.min() < low or value.max() > high:
                problems.append(
                    f"'{name}' values span [{value.min():.6g}, {value.max():.6g}], outside the declared "
                    f"range [{low}, {high}]"
                )
    kind = context.kinds.get(contract.kind) if contract.kind is not None else None
    output_problems = getattr(kind, "output_problems", None)
    if not problems and output_problems is not None:
        problems.extend(output_problems(produced, contract, contract.nominal))
    return problems


def _described_shape(contract: Contract, feeds: dict) -> str:
    """'nominal' for a declared contract; the input shapes for a derived one (the graph chose them)."""
    if not contract.derived:
        return "nominal"
    return "the derived shape " + ", ".join(f"'{name}' {list(feed.shape)}" for name, feed in feeds.items())
