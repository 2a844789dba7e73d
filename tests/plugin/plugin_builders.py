"""Builders for the plugin's pytester tests: tiny ONNX graphs made with onnx.helper, sidecars and registries on disk.

The reference model is the shipped placeholder's shape: ``input`` float32 [1, 3, H, W] → 1x1 Conv (3→1) →
``logits`` → Sigmoid → ``saliency_map`` float32 [1, 1, H, W]. Tests replace the middle or the tail of that
graph, or the files around it, to make exactly one thing wrong.
"""

from __future__ import annotations

import glob
import hashlib
import json
import warnings
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper
from saliency_sidecar import placed
from saliency_sidecar import saliency_sidecar as shared_saliency_sidecar

OPSET = 17
FLOAT, FLOAT16, INT64, BOOL = TensorProto.FLOAT, TensorProto.FLOAT16, TensorProto.INT64, TensorProto.BOOL
IMAGE_SHAPE: tuple[int | str, ...] = (1, 3, "H", "W")
MAP_SHAPE: tuple[int | str, ...] = (1, 1, "H", "W")


# --- graphs -----------------------------------------------------------------------------------------------------


def const(name: str, value: Any, dtype: Any = np.float32) -> TensorProto:
    return numpy_helper.from_array(np.asarray(value, dtype=dtype), name)


def constant_node(name: str, value: Any, dtype: Any = np.float32) -> onnx.NodeProto:
    return helper.make_node("Constant", [], [name], name=f"{name}_const", value=const(name, value, dtype))


def saliency_model(
    middle: Sequence[onnx.NodeProto] = (),
    *,
    opset: int = OPSET,
    initializers: Iterable[TensorProto] = (),
    input_name: str = "input",
    input_shape: Sequence[int | str] = IMAGE_SHAPE,
    extra_inputs: Iterable[onnx.ValueInfoProto] = (),
    tail: Sequence[onnx.NodeProto] | None = None,
    output_dtype: int = FLOAT,
    functions: Iterable[onnx.FunctionProto] = (),
    extra_opsets: dict[str, int] | None = None,
) -> onnx.ModelProto:
    """input → Conv 'conv' → [middle: 'features' → 'logits'] → tail (default Sigmoid) → saliency_map.

    Without `middle` the Conv writes 'logits' directly.
    """
    conv_out = "features" if middle else "logits"
    nodes = [helper.make_node("Conv", [input_name, "conv_w", "conv_b"], [conv_out], name="conv"), *middle]
    nodes += tail if tail is not None else [helper.make_node("Sigmoid", ["logits"], ["saliency_map"], name="sigmoid")]
    graph = helper.make_graph(
        nodes,
        "saliency",
        [helper.make_tensor_value_info(input_name, FLOAT, list(input_shape)), *extra_inputs],
        [helper.make_tensor_value_info("saliency_map", output_dtype, list(MAP_SHAPE))],
        [const("conv_w", [[[[0.2]], [[0.3]], [[0.5]]]]), const("conv_b", [0.0]), *initializers],
    )
    opsets = [helper.make_opsetid("", opset)]
    opsets += [helper.make_opsetid(domain, version) for domain, version in sorted((extra_opsets or {}).items())]
    model = helper.make_model(graph, opset_imports=opsets, functions=list(functions), producer_name="tests")
    model.ir_version = max(8, helper.find_min_ir_version_for(opsets, ignore_unknown=True))
    return model


def body_graph(name: str, nodes: Sequence[onnx.NodeProto], output: str, inputs=()) -> onnx.GraphProto:
    """A subgraph with an untyped-shape float output (outer-scope values are read by name)."""
    return helper.make_graph(list(nodes), name, list(inputs), [helper.make_tensor_value_info(output, FLOAT, None)])


def if_node(name: str, then_nodes, then_out: str, else_nodes, else_out: str, output: str, cond: str = "cond"):
    """An If on the outer-scope boolean `cond` (see `true_cond`)."""
    return helper.make_node(
        "If",
        [cond],
        [output],
        name=name,
        then_branch=body_graph(f"{name}_then", then_nodes, then_out),
        else_branch=body_graph(f"{name}_else", else_nodes, else_out),
    )


def true_cond() -> TensorProto:
    return const("cond", True, np.bool_)


def loop_node(name: str, trip_count: str, carried_in: str, body: Sequence[onnx.NodeProto], output: str):
    """A Loop carrying one float tensor: its body maps '<name>_x' to '<name>_y' with `body` (loop cond is empty)."""
    graph = helper.make_graph(
        [helper.make_node("Identity", [f"{name}_c"], [f"{name}_c_out"], name=f"{name}_keep_going"), *body],
        f"{name}_body",
        [
            helper.make_tensor_value_info(f"{name}_i", INT64, []),
            helper.make_tensor_value_info(f"{name}_c", BOOL, []),
            helper.make_tensor_value_info(f"{name}_x", FLOAT, None),
        ],
        [
            helper.make_tensor_value_info(f"{name}_c_out", BOOL, []),
            helper.make_tensor_value_info(f"{name}_y", FLOAT, None),
        ],
    )
    return helper.make_node("Loop", [trip_count, "", carried_in], [output], name=name, body=graph)


def resize_middle(
    *, scales: str = "scales", sizes: str | None = None, **attributes: Any
) -> tuple[list[onnx.NodeProto], list[TensorProto]]:
    """features → Resize 'up' (x2) → AveragePool 2x2/2 → logits, and the initializer of constant scales x2."""
    inputs = ["features", "", scales] if sizes is None else ["features", "", "", sizes]
    nodes = [
        helper.make_node("Resize", inputs, ["upsampled"], name="up", **attributes),
        helper.make_node("AveragePool", ["upsampled"], ["logits"], name="down", kernel_shape=[2, 2], strides=[2, 2]),
    ]
    return nodes, [const("scales", [1.0, 1.0, 2.0, 2.0])]


# --- files --------------------------------------------------------------------------------------------------------


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def saliency_sidecar(model_id: str, opset: int = OPSET) -> dict[str, Any]:
    """A sidecar in the shipped placeholder's format with a full tensor contract."""
    return {**shared_saliency_sidecar(model_id, opset=opset), "training": {"param_count": 4}}


_DEFAULT = object()


def ledger_document(
    gates: dict[str, Any] | None = None, thresholds: dict[str, Any] | None = None, registry: str = "registry.json"
) -> dict[str, Any]:
    """A ledger (schema 3) governing one registry, named by its path from the ledger's folder."""
    return {"schema_version": 3, "registries": {registry: {"gates": gates or {}, "thresholds": thresholds or {}}}}


class RegistryDir:
    """A registry folder being written: models, sidecars and, on `write()`, registry.json."""

    def __init__(self, folder: Path, schema_version: int = 1) -> None:
        self.folder = folder
        self.folder.mkdir(parents=True, exist_ok=True)
        self.schema_version = schema_version
        self.entries: list[dict[str, Any]] = []

    @property
    def path(self) -> Path:
        return self.folder / "registry.json"

    def add(
        self,
        model_id: str,
        model: onnx.ModelProto | None = None,
        *,
        sidecar: Any = _DEFAULT,
        onnx_bytes: bytes | None = None,
        onnx_path: str | None = None,
        drop: Sequence[str] = (),
        **entry: Any,
    ) -> dict[str, Any]:
        """Write `<id>.onnx` (or `onnx_path`) and its sidecar, and record a valid entry for it.

        `sidecar`: a dict, raw text, or None for no sidecar (default: `saliency_sidecar`).
        `onnx_bytes` replaces the serialised model; the entry's sha256 is always that of the bytes written unless
        `sha256=` is given. `drop` removes keys from the entry; other keywords set them.
        """
        model = model if model is not None else saliency_model()
        opset = next((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), OPSET)
        relative = onnx_path or f"{model_id}.onnx"
        data = onnx_bytes if onnx_bytes is not None else model.SerializeToString()
        target = self.folder / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        if onnx_bytes is not None or not target.is_symlink():
            target.write_bytes(data)
        sidecar = saliency_sidecar(model_id, opset) if sidecar is _DEFAULT else sidecar
        if sidecar is not None:
            text = sidecar if isinstance(sidecar, str) else json.dumps(sidecar, indent=2)
            target.with_suffix(".json").write_text(text)
        record = {
            "id": model_id,
            "kind": "nr",
            "onnx": relative,
            "sha256": sha256_bytes(data),
            "opset": opset,
            "license": "Apache-2.0",
        }
        record.update(entry)
        for key in drop:
            record.pop(key, None)
        self.entries.append(record)
        return record

    def write(self, **top_level: Any) -> Path:
        document = {"schema_version": self.schema_version, "models": self.entries, **top_level}
        self.path.write_text(json.dumps(document, indent=2))
        return self.path


def with_sidecar(model_id: str, opset: int = OPSET, **changes: Any) -> dict[str, Any]:
    """The default sidecar with keys replaced (a value of None removes the key): pytest-tinyai's blocks in the
    `tinyai` namespace, the runtime's fields at the top level (see `saliency_sidecar.placed`)."""
    return placed(saliency_sidecar(model_id, opset), **changes)


# --- runs ---------------------------------------------------------------------------------------------------------

CHECKS = ("registry", "opset", "allowlist", "resize", "contract")
# The core checks under test here; later checks (fuzz, parity, gate, bench) have their own tests.
CORE_CHECKS = " or ".join(f"tinyai_{check}" for check in CHECKS)


def run_in_process(pytester, *args: str):
    """pytester.runpytest without the cache and without pytest-benchmark's xdist warning leaking out."""
    with warnings.catch_warnings():
        # pytest-benchmark warns at configure time when the outer run uses xdist; not these tests' business
        warnings.filterwarnings("ignore", message="Benchmarks are automatically disabled")
        return pytester.runpytest("-p", "no:cacheprovider", *args)


# --- results ------------------------------------------------------------------------------------------------------


def lines(*fragments: str) -> list[str]:
    """fnmatch patterns, one per fragment, for consecutive lines each containing its fragment literally ('[' too)."""
    return [f"*{glob.escape(fragment)}*" for fragment in fragments]


def item_outcomes(result) -> dict[str, str]:
    """Item name (e.g. 'resize[m]') → outcome, from an in-process run's recorded reports."""
    outcomes: dict[str, str] = {}
    for report in result.reprec.getreports("pytest_runtest_logreport"):
        name = report.nodeid.split("::")[-1]
        if report.when == "call" or report.outcome != "passed":
            outcomes[name] = report.outcome
    return outcomes


def assert_only_failing(result, model_id: str, *failing: str) -> None:
    """The model's items failed exactly for the checks named, and passed for the others."""
    outcomes = item_outcomes(result)
    expected = {f"{check}[{model_id}]": "failed" if check in failing else "passed" for check in CHECKS}
    assert {name: outcomes.get(name) for name in expected} == expected


def assert_usage_error(result, fragment: str) -> None:
    """The run stopped before any item ran (exit 4) with one `ERROR:` line containing `fragment` (fnmatch)."""
    output = result.stdout.str() + result.stderr.str()
    assert result.ret == 4, output
    assert "INTERNALERROR" not in output and "Traceback" not in output
    result.stderr.fnmatch_lines([f"ERROR: {fragment}"])


def assert_clean_failure(result) -> None:
    """Failed tests (exit 1), no INTERNALERROR, no traceback into the plugin's own modules."""
    output = result.stdout.str() + result.stderr.str()
    assert result.ret == 1, output
    assert "INTERNALERROR" not in output
    assert "pytest_tinyai/" not in output
    assert "Traceback" not in output
