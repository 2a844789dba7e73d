"""Allowlist check: every op the runtime must execute is on its allowlist, within its Loop and nesting limits."""

from __future__ import annotations

import numpy as np
import onnx

from pytest_tinyai.context import CheckContext
from pytest_tinyai.findings import Finding
from pytest_tinyai.graph import DEFAULT_DOMAINS, NodeSite, mistyped, walk
from pytest_tinyai.model import ModelGraph, ModelUnderTest


def check_allowlist(model: ModelUnderTest, context: CheckContext) -> list[Finding]:
    """Every graph of the model (its int8 sibling too: the runtime screens what it loads) against the allowlist.
    The verdict per graph is also that graph's execution gate."""
    return [finding for graph in model.graphs for finding in graph_allowlist_findings(model.id, graph, context)]


def graph_allowlist_findings(model_id: str, graph: ModelGraph, context: CheckContext) -> list[Finding]:
    proto = graph.proto
    allowlist = context.allowlist
    local_functions = {(function.domain, function.name) for function in proto.functions}
    findings: list[Finding] = []

    def report(message: str, site: NodeSite | None = None) -> None:
        findings.append(graph.finding(model_id, "allowlist", message, site.where if site else None))

    loops = 0
    off_list: dict[str, list[NodeSite]] = {}  # op → its nodes off the allowlist, reported once per op
    reported_opsets: set[int | None] = set()
    for site in walk(proto):
        node = site.node
        for attr, problem in mistyped(node.attribute):
            report(f"{site.label}.{attr.name}: {problem}", site)
        if site.depth > context.max_nesting_depth:
            report(f"{site.label} is nested {site.depth} subgraphs deep (limit {context.max_nesting_depth})", site)
        if (node.domain, node.op_type) in local_functions:
            continue  # a call of a model-local function: its body is walked and checked
        default_domain = node.domain in DEFAULT_DOMAINS
        if default_domain and site.opset is not None and not allowlist.covers_opset(node.domain, site.opset):
            if site.opset not in reported_opsets:  # once, not once per node
                reported_opsets.add(site.opset)
                report(f"opset {site.opset} of domain 'ai.onnx' is not covered by the allowlist")
            continue
        opset = site.node_opset
        if node.op_type == "Scan" and default_domain:
            report(f"{site.label}: Scan is refused (the runtime has no Scan)", site)
        elif opset is None or not allowlist.allowed(node.domain, opset, node.op_type):
            op = f"'{node.op_type}'" if default_domain else f"'{node.domain}.{node.op_type}' (opset {opset})"
            off_list.setdefault(op, []).append(site)
        if node.op_type == "Loop":
            loops += 1
            problem = _trip_count_problem(site, context.max_loop_trip_count)
            if problem:
                report(f"{site.label}: {problem}", site)
    for op, sites in off_list.items():
        more = f" (and {len(sites) - 1} more {op} nodes)" if len(sites) > 1 else ""
        report(f"{sites[0].label}: op {op} is not on the allowlist ({allowlist.source.name}){more}", sites[0])
    for function in proto.functions:
        for attr, problem in mistyped(function.attribute_proto):
            report(f"function {function.domain}.{function.name} default '{attr.name}': {problem}")
    if loops > context.max_loops:
        report(f"{loops} Loop nodes in the model (limit {context.max_loops})")
    return findings


def _trip_count_problem(site: NodeSite, limit: int) -> str | None:
    name = site.node.input[0] if site.node.input else ""
    if not name:
        return "trip count is absent; it must be a Constant scalar INT64"
    value = site.constant(name)
    if value is None:
        return f"trip count '{name}' is computed at run time; it must be a Constant scalar INT64"
    tensor = site.constants[name]
    if tensor.data_type != onnx.TensorProto.INT64 or np.ndim(value) != 0:
        kind = onnx.TensorProto.DataType.Name(tensor.data_type)
        return f"trip count '{name}' is {kind} of shape {list(np.shape(value))}; it must be a scalar INT64"
    if not 0 <= int(value) <= limit:
        return f"trip count {int(value)} is outside [0, {limit}]"
    return None
