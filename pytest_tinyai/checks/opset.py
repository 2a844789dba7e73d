"""Opset check: one default-domain opset declared identically in registry, sidecar and graph; no foreign ops."""

from __future__ import annotations

from pytest_tinyai.context import CheckContext
from pytest_tinyai.findings import Finding, printable
from pytest_tinyai.graph import DEFAULT_DOMAINS, default_opset, walk
from pytest_tinyai.model import ModelGraph, ModelUnderTest


def check_opset(model: ModelUnderTest, context: CheckContext) -> list[Finding]:
    """The declared opsets agree with each other and with every graph the runtime may load (the int8 sibling's
    too); no graph holds a foreign op."""
    registry_opset = model.entry.raw.get("opset")
    sidecar_opset = model.sidecar.get("onnx_opset")
    findings: list[Finding] = []
    if registry_opset is not None and sidecar_opset is not None and registry_opset != sidecar_opset:
        findings.append(
            Finding(model.id, "opset", f"registry opset {registry_opset} != sidecar onnx_opset {sidecar_opset}")
        )
    for graph in model.graphs:
        findings.extend(_graph_findings(model, graph, registry_opset, sidecar_opset))
    return findings


def _graph_findings(
    model: ModelUnderTest, graph: ModelGraph, registry_opset: int | None, sidecar_opset: int | None
) -> list[Finding]:
    """A graph's opset against the declared ones, and its foreign ops; a line about the model's own graph names its
    file in the message (one about the int8 sibling is prefixed with the sibling's)."""
    proto = graph.proto
    findings: list[Finding] = []
    model_id = model.id
    of_file = "" if graph.file is not None else f" of '{printable(model.onnx_path.name)}'"

    def report(message: str, scope: str | None = None) -> None:
        findings.append(graph.finding(model_id, "opset", message, scope))

    graph_opset = default_opset(proto.opset_import)
    declared_graph = f"graph default-domain opset_import {graph_opset}{of_file}"
    if graph_opset is None:
        report(f"the graph{of_file} imports no default-domain (ai.onnx) opset")
    if registry_opset is not None and registry_opset != graph_opset:
        report(f"registry opset {registry_opset} != {declared_graph}")
    if sidecar_opset is not None and sidecar_opset != graph_opset:
        report(f"sidecar onnx_opset {sidecar_opset} != {declared_graph}")

    local_functions = {(function.domain, function.name) for function in proto.functions}
    for site in walk(proto):
        node = site.node
        if node.domain in DEFAULT_DOMAINS or (node.domain, node.op_type) in local_functions:
            continue
        report(f"{site.label} is in domain '{node.domain}', not the default ONNX domain", site.where)
    return findings
