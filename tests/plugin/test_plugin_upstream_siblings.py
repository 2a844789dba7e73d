"""The vendored upstream registry's quantised models: their real int8 siblings are checked as models, and their absent
Sigstore bundles are reported, not failed. Each model is copied unmodified (registry entry, ONNX, sibling, sidecar)
into a registry of its own, so the test sees these four and nothing the other upstream models find."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from plugin_builders import item_outcomes, lines
from upstream_data import UPSTREAM

QUANTISED = ("learned_filter_v1", "nr_metric_v1", "vmaf_tiny_v3", "vmaf_tiny_v4")


def copy_quantised(folder: Path) -> Path:
    entries = json.loads((UPSTREAM / "registry.json").read_text())["models"]
    chosen = [entry for entry in entries if entry["id"] in QUANTISED]
    folder.mkdir()
    for entry in chosen:
        stem = Path(entry["onnx"]).stem
        for name in (entry["onnx"], f"{stem}.int8.onnx", f"{stem}.json"):
            shutil.copyfile(UPSTREAM / name, folder / name)
    registry = folder / "registry.json"
    registry.write_text(json.dumps({"schema_version": 1, "models": chosen}))
    return registry


def test_upstream_int8_siblings_are_screened_and_their_absent_bundles_reported(pytester, run_tinyai):
    registry = copy_quantised(pytester.path / "upstream")
    assert {entry["quant_mode"] for entry in json.loads(registry.read_text())["models"]} == {"dynamic"}
    result = run_tinyai(registry)
    outcomes = item_outcomes(result)
    assert {model: outcomes[f"registry[{model}]"] for model in QUANTISED} == dict.fromkeys(QUANTISED, "passed")
    assert {model: outcomes[f"allowlist[{model}]"] for model in QUANTISED} == dict.fromkeys(QUANTISED, "failed")
    assert outcomes["opset[nr_metric_v1]"] == "failed"
    result.stdout.fnmatch_lines(
        lines(
            "learned_filter_v1: learned_filter_v1.int8.onnx: DynamicQuantizeLinear 'degraded_QuantizeLinear': op "
            "'DynamicQuantizeLinear' is not on the allowlist (allowlist.config)",
            "learned_filter_v1: learned_filter_v1.int8.onnx: ConvInteger 'node_conv2d_quant': op 'ConvInteger' is not "
            "on the allowlist (allowlist.config)",
        )
    )
    result.stdout.fnmatch_lines(
        lines("vmaf_tiny_v3: vmaf_tiny_v3.int8.onnx: MatMulInteger 'node_linear_MatMul_quant': op 'MatMulInteger'")
    )
    result.stdout.fnmatch_lines(
        lines("nr_metric_v1: nr_metric_v1.int8.onnx: registry opset 17 != graph default-domain opset_import 18")
    )
    summary = result.stdout.str()[result.stdout.str().index("tinyai conformance") :]
    assert (
        "4 models' signatures NOT verified: bundle absent:\n"
        "  learned_filter_v1, nr_metric_v1, vmaf_tiny_v3, vmaf_tiny_v4\n" in summary
    ), summary
