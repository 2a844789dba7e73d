"""The static suite on the upstream C runtime's own registry (tests/data/upstream-vmaf-tiny, vendored unmodified but
for the `tinyai` blocks and golden sets its NOTICE lists), run as a new user would: every model is collected, every
healthy model passes, and each real upstream defect fails in lines naming the model, the file and the problem
(README: "What it finds in the upstream registry"). Copies with one defect repaired pass, so each finding is that
defect and nothing else."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import onnx
import pytest
from plugin_builders import item_outcomes, run_in_process
from upstream_data import UNTRUSTED, UPSTREAM, copy_of_upstream, failure_lines, not_checked, upstream_ids

STATIC = ("registry", "opset", "allowlist", "resize", "contract")
STATIC_MARKERS = " or ".join(f"tinyai_{check}" for check in STATIC)

# The registry declares opset 17; the graph and its int8 sibling import opset 18.
OPSET = {
    "nr_metric_v1": [
        "nr_metric_v1: registry opset 17 != graph default-domain opset_import 18 of 'nr_metric_v1.onnx'",
        "nr_metric_v1: nr_metric_v1.int8.onnx: registry opset 17 != graph default-domain opset_import 18",
    ]
}
# quant_mode "dynamic" makes the runtime load <stem>.int8.onnx, whose dynamic-quantisation ops are not on the
# runtime's allowlist (it admits the QDQ pair QuantizeLinear/DequantizeLinear only): the sibling fails the allowlist
# once per node, and so is never run (its contract item fails with that refusal).
OFF_THE_ALLOWLIST = {
    "learned_filter_v1": {"DynamicQuantizeLinear", "ConvInteger"},
    "nr_metric_v1": {"DynamicQuantizeLinear", "ConvInteger", "MatMulInteger"},
    "vmaf_tiny_v3": {"DynamicQuantizeLinear", "MatMulInteger"},
    "vmaf_tiny_v4": {"DynamicQuantizeLinear", "MatMulInteger"},
}
# Symbolic H and W, which only the `tinyai.contract.nominal` this project declares in their sidecars gives a value
# (H=W=256): without it the contract is checked statically and not run at a shape.
# model -> (its symbolic inputs, the kind derived from its graph)
DECLARED_NOMINAL = {
    "dists_sq_placeholder_v0": ("'ref', 'dist'", "fr_pair"),
    "lpips_sq_v1": ("'ref', 'dist'", "fr_pair"),
    "mobilesal_placeholder_v0": ("'input'", "-"),
    "saliency_student_v1": ("'input'", "-"),
    "saliency_student_v2": ("'input'", "-"),
}
FR_PAIR = {f"fr_regressor_v2{suffix}" for suffix in ("", *(f"_ensemble_v1_seed{seed}" for seed in range(5)))}
FR_PAIR |= {"fr_regressor_v3"}


def expected_outcome(model: str, check: str) -> str:
    if model in UNTRUSTED:
        return "failed"
    if model in OPSET and check == "opset":
        return "failed"
    if model in OFF_THE_ALLOWLIST and check in ("allowlist", "contract"):
        return "failed"
    return "passed"


def run_static(pytester, registry: Path):
    return run_in_process(pytester, "--tinyai-registry", str(registry), "-m", STATIC_MARKERS, "-p", "no:randomly")


@pytest.fixture
def upstream_run(pytester):
    result = run_static(pytester, UPSTREAM / "registry.json")
    output = result.stdout.str() + result.stderr.str()
    assert "INTERNALERROR" not in output and "Traceback" not in output, output
    return result


def test_all_24_models_are_collected_and_each_healthy_model_passes_every_static_item(upstream_run):
    models = upstream_ids()
    assert len(models) == 24
    expected = {f"{check}[{model}]": expected_outcome(model, check) for model in models for check in STATIC}
    assert item_outcomes(upstream_run) == expected, upstream_run.stdout.str()
    healthy = [model for model in models if all(expected[f"{check}[{model}]"] == "passed" for check in STATIC)]
    assert len(healthy) == 17
    upstream_run.stdout.fnmatch_lines(["*models checked: 24*"])


def test_an_untrusted_entry_fails_every_item_in_the_one_line_naming_its_file(upstream_run):
    for model, line in UNTRUSTED.items():
        assert failure_lines(upstream_run, f"registry[{model}]") == [line]
        for check in STATIC[1:]:
            assert failure_lines(upstream_run, f"{check}[{model}]") == [not_checked(model)]


def test_an_opset_the_graphs_do_not_import_fails_naming_each_graphs_file(upstream_run):
    for model, lines in OPSET.items():
        assert failure_lines(upstream_run, f"opset[{model}]") == lines


def test_int8_siblings_off_the_runtimes_allowlist_fail_once_per_op_naming_the_sibling_the_op_and_a_node(upstream_run):
    for model, ops in OFF_THE_ALLOWLIST.items():
        pattern = re.compile(
            rf"{model}: {model}\.int8\.onnx: (\w+) '[^']+': op '\1' is not on the allowlist \(allowlist\.config\)"
            r"( \(and \d+ more '\1' nodes\))?"
        )
        lines = failure_lines(upstream_run, f"allowlist[{model}]")
        matches = [pattern.fullmatch(line) for line in lines]
        assert all(matches), lines
        assert sorted(match.group(1) for match in matches if match) == sorted(ops)
        [refused] = failure_lines(upstream_run, f"contract[{model}]")
        assert refused.startswith(f"{model}: {model}.int8.onnx: not run: allowlist failed: DynamicQuantizeLinear ")


def summary_of(result) -> str:
    output = result.stdout.str()
    return output[output.index("tinyai conformance") :]


def test_the_summary_says_what_was_not_verified_and_derived(upstream_run):
    summary = summary_of(upstream_run)
    assert "24 models' signatures NOT verified: bundle absent:" in summary
    assert "checks NOT run" not in summary
    for model, (_, kind) in DECLARED_NOMINAL.items():
        assert f"  {model}: kind {kind}, run at H=256, W=256" in summary
    for model in FR_PAIR:
        assert f"  {model}: kind fr_pair, run at batch=1" in summary
    assert "  vmaf_tiny_v2: kind -, run at N=1" in summary


# --- copies with one defect repaired pass ------------------------------------------------------------------------


def reregister(folder: Path, model_id: str, drop: tuple[str, ...] = (), **changes) -> None:
    """Change the model's registry entry in a copy, its sha256 set to its ONNX file's bytes."""
    registry = folder / "registry.json"
    document = json.loads(registry.read_text())
    for entry in document["models"]:
        if entry["id"] == model_id:
            entry.update(changes)
            for key in drop:
                entry.pop(key)
            entry["sha256"] = hashlib.sha256((folder / entry["onnx"]).read_bytes()).hexdigest()
    registry.write_text(json.dumps(document, indent=2))


def static_outcomes(pytester, folder: Path, model: str) -> dict[str, str]:
    outcomes = item_outcomes(run_static(pytester, folder / "registry.json"))
    return {check: outcomes[f"{check}[{model}]"] for check in STATIC}


def test_vmaf_tiny_v1_medium_passes_once_its_graph_names_the_data_file_that_ships(pytester, tmp_path):
    """The defect is the name alone: pointed at the data file that ships beside it, the model passes every check,
    its contract run included."""
    folder = copy_of_upstream(tmp_path)
    onnx_path = folder / "vmaf_tiny_v1_medium.onnx"
    model = onnx.load(onnx_path, load_external_data=False)
    for tensor in model.graph.initializer:
        for entry in tensor.external_data:
            if entry.key == "location":
                entry.value = "vmaf_tiny_v1_medium.onnx.data"
    onnx_path.write_bytes(model.SerializeToString())
    reregister(folder, "vmaf_tiny_v1_medium")
    assert static_outcomes(pytester, folder, "vmaf_tiny_v1_medium") == dict.fromkeys(STATIC, "passed")


@pytest.mark.parametrize("model", sorted(OFF_THE_ALLOWLIST))
def test_a_quantised_model_passes_once_the_runtime_loads_its_fp32_graph(pytester, tmp_path, model):
    """Without quant_mode (fp32: the runtime loads the ONNX itself) each quantised model passes every check, its
    contract run included; nr_metric_v1 also needs the registry to declare the opset its graph imports."""
    folder = copy_of_upstream(tmp_path)
    reregister(folder, model, drop=("quant_mode",), **({"opset": 18} if model in OPSET else {}))
    assert static_outcomes(pytester, folder, model) == dict.fromkeys(STATIC, "passed")


def test_without_the_declared_nominal_a_model_with_symbolic_h_and_w_is_not_run_at_a_shape_and_says_so(
    pytester, tmp_path
):
    """The upstream sidecars as upstream ships them (the `tinyai` member removed): the contract of each of the five
    is checked statically, its run skipped, and the summary lists why."""
    folder = copy_of_upstream(tmp_path)
    for path in folder.glob("*.json"):
        sidecar = json.loads(path.read_text())
        if isinstance(sidecar, dict) and sidecar.pop("tinyai", None) is not None:
            path.write_text(json.dumps(sidecar, indent=2))
    result = run_static(pytester, folder / "registry.json")
    outcomes = item_outcomes(result)
    assert {model: outcomes[f"contract[{model}]"] for model in DECLARED_NOMINAL} == dict.fromkeys(
        DECLARED_NOMINAL, "skipped"
    )
    summary = summary_of(result)
    assert f"{len(DECLARED_NOMINAL)} checks NOT run:" in summary
    for model, (inputs, _) in DECLARED_NOMINAL.items():
        assert (
            f"{model}: contract not run: graph names and checker pass, but symbolic dims H, W of {inputs} have no "
            "nominal value: declare tinyai.contract.nominal"
        ) in summary
