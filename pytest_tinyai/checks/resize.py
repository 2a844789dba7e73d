"""Resize check: each Resize node's attributes (ONNX defaults filled in) and scales within the runtime's contract."""

from __future__ import annotations

from typing import Any

import onnx
from onnx import helper

from pytest_tinyai.context import CheckContext
from pytest_tinyai.findings import Finding
from pytest_tinyai.graph import NodeSite, walk
from pytest_tinyai.model import ModelGraph, ModelUnderTest

# What Resize did before an attribute existed: the behaviour its later default (or opset 11's) names.
BEHAVIOUR_BEFORE_ATTRIBUTE = {
    "antialias": 0,
    "keep_aspect_ratio_policy": "stretch",
    "exclude_outside": 0,
    "coordinate_transformation_mode": "asymmetric",
}


def first_opset(op_type: str) -> int | None:
    """The first default-domain opset that has `op_type`, or None if ONNX has no such op."""
    for version in range(1, onnx.defs.onnx_opset_version() + 1):
        if onnx.defs.has(op_type, version, ""):
            return version
    return None


def resolved_attributes(site: NodeSite) -> dict[str, Any] | None:
    """The node's attributes with every default of its opset's schema filled in (strings decoded).

    Attributes that Resize gained in later opsets take the value of the behaviour the node's opset has. None when
    the op does not exist at the node's opset.
    """
    try:
        schema = onnx.defs.get_schema(site.node.op_type, site.opset or onnx.defs.onnx_opset_version(), "")
    except onnx.defs.SchemaError:
        return None
    values: dict[str, Any] = {}
    if site.node.op_type == "Resize":
        values.update({k: v for k, v in BEHAVIOUR_BEFORE_ATTRIBUTE.items() if k not in schema.attributes})
    for name, attribute in schema.attributes.items():
        if attribute.default_value.type != onnx.AttributeProto.UNDEFINED:
            values[name] = helper.get_attribute_value(attribute.default_value)
    for attribute in site.node.attribute:
        values[attribute.name] = helper.get_attribute_value(attribute)
    return {name: value.decode() if isinstance(value, bytes) else value for name, value in values.items()}


def check_resize(model: ModelUnderTest, context: CheckContext) -> list[Finding]:
    """Every Resize of every graph the runtime may load (the int8 sibling's too) within the Resize contract."""
    declared = (model.sidecar.get("training") or {}).get("resize_attributes") or {}
    return [finding for graph in model.graphs for finding in _graph_findings(model.id, graph, context, declared)]


def _graph_findings(model_id: str, graph: ModelGraph, context: CheckContext, declared: dict[str, Any]) -> list[Finding]:
    contract = context.resize_contract
    findings: list[Finding] = []
    for site in walk(graph.proto):
        if site.node.op_type != "Resize":
            continue

        def report(message: str, site: NodeSite = site) -> None:
            findings.append(graph.finding(model_id, "resize", f"Resize '{site.node.name}' {message}", site.where))

        attributes = resolved_attributes(site)
        if attributes is None:
            added = first_opset(site.node.op_type)
            report(f"does not exist at opset {site.opset} (ONNX added Resize in opset {added})")
            continue
        for name, allowed in contract.allowed.items():
            if name in attributes and attributes[name] not in allowed:
                shown = ", ".join(map(str, allowed))
                report(f"{name}={attributes[name]!r} (allowed: {shown})")
        for name in contract.forbidden_attributes:
            if any(attribute.name == name for attribute in site.node.attribute):
                report(f"sets '{name}', which the runtime does not support")
        for name, value in sorted(declared.items()):
            if name in attributes and attributes[name] != value:
                report(f"{name}={attributes[name]!r} but the sidecar declares {value!r}")
            elif name not in attributes:
                report(f"has no attribute '{name}' at opset {site.opset}, but the sidecar declares {value!r}")
        for problem in _scales_problems(site, contract.scales_must_be_constant, contract.sizes_forbidden):
            report(problem)
    return findings


def _scales_problems(site: NodeSite, must_be_constant: bool, sizes_forbidden: bool) -> list[str]:
    inputs = list(site.node.input)
    scales_index = 1 if (site.opset or 11) < 11 else 2
    scales = inputs[scales_index] if len(inputs) > scales_index else ""
    sizes = inputs[3] if len(inputs) > 3 and scales_index == 2 else ""
    problems = []
    if sizes and sizes_forbidden:
        problems.append(f"takes 'sizes' ('{sizes}'); only constant 'scales' are supported")
    if not scales:
        if not sizes:
            problems.append("has neither scales nor sizes")
    elif must_be_constant and site.constant(scales) is None:
        problems.append(f"scales '{scales}' are computed at run time; they must be an initializer or Constant")
    return problems
