"""Opset check: one default-domain opset declared identically in registry, sidecar and graph; no foreign ops."""

from __future__ import annotations

from pytest_tinyai.context import CheckContext
from pytest_tinyai.findings import Finding
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
        findings.extend(_graph_findings(model.id, graph, registry_opset, sidecar_opset))
    return findings


def _graph_findings(
    model_id: str, graph: ModelGraph, registry_opset: int | None, sidecar_opset: int | None
) -> list[Finding]:
    proto = graph.proto
    findings: list[Finding] = []

    def report(message: str, scope: str | None = None) -> None:
        findings.append(graph.finding(model_id, "opset", message, scope))

    graph_opset = default_opset(proto.opset_import)
    if graph_opset is None:
        report("the graph imports no default-domain (ai.onnx) opset")
    if registry_opset is not None and registry_opset != graph_opset:
        report(f"registry opset {registry_opset} != graph default-domain opset_import {graph_opset}")
    if sidecar_opset is not None and sidecar_opset != graph_opset:
        report(f"sidecar onnx_opset {sidecar_opset} != graph default-domain opset_import {graph_opset}")

    local_functions = {(function.domain, function.name) for function in proto.functions}
    for site in walk(proto):
        node = site.node
        if node.domain in DEFAULT_DOMAINS or (node.domain, node.op_type) in local_functions:
            continue
        report(f"{site.label} is in domain '{node.domain}', not the default ONNX domain", site.where)
    return findings
