"""Builders for the dynamic checks' pytester tests (fuzz, gate, ledger, bench): graphs, sidecars, folds, ledgers.

Everything is written into pytester's directory: ``registry.json`` and ``<id>.onnx`` + ``<id>.json`` beside it,
the held-out fold under ``folds/<name>`` (the plugin's default place) and ``ledger.json``.

The fold's images encode their masks: the red channel is the mask on every image, the green channel on the
first three of four, the blue channel on the first two. A model that thresholds one channel therefore
measures a known mean IoU@0.5: red 1.0, green 0.75, blue 0.5.
"""

from __future__ import annotations

import glob
import hashlib
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper
from PIL import Image
from plugin_builders import ledger_document
from saliency_sidecar import placed, saliency_sidecar, square_dims

from pytest_tinyai.dataset import content_hash

OPSET = 17
FLOAT = TensorProto.FLOAT
FOLD = "tiny-fold"
METRIC = "mean_iou@0.5"
CHANNEL_IOU = {"red": 1.0, "green": 0.75, "blue": 0.5}
CHANNELS = ("red", "green", "blue")
FOLD_SIZE = 32
FOLD_IMAGES = 4


# --- graphs -----------------------------------------------------------------------------------------------------


def _const(name: str, value: Any) -> TensorProto:
    return numpy_helper.from_array(np.asarray(value, dtype=np.float32), name)


def _model(nodes: list[onnx.NodeProto], initializers: list[TensorProto], last: str = "map") -> onnx.ModelProto:
    """input [1, 3, H, W] → nodes → `last` → output saliency_map [1, 1, H, W]."""
    nodes = [*nodes, helper.make_node("Identity", [last], ["saliency_map"], name="out")]
    graph = helper.make_graph(
        nodes,
        "dynamic",
        [helper.make_tensor_value_info("input", FLOAT, [1, 3, "H", "W"])],
        [helper.make_tensor_value_info("saliency_map", FLOAT, [1, 1, "H", "W"])],
        initializers,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="tests")
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


def _select(source: str, channel: str, sigmoid: bool = True) -> tuple[list[onnx.NodeProto], list[TensorProto]]:
    """source → 1x1 Conv that keeps `channel` (x10) → Sigmoid → map: probability > 0.5 where the channel is bright."""
    weight = np.zeros((1, 3, 1, 1), np.float32)
    weight[0, CHANNELS.index(channel)] = 10.0
    nodes = [helper.make_node("Conv", [source, "select_w", "select_b"], ["logits" if sigmoid else "map"], name="sel")]
    if sigmoid:
        nodes.append(helper.make_node("Sigmoid", ["logits"], ["map"], name="sigmoid"))
    return nodes, [_const("select_w", weight), _const("select_b", [0.0])]


def channel_model(channel: str = "red", *, sigmoid: bool = True) -> onnx.ModelProto:
    """Thresholds one channel of the input; runs at every size. Without the Sigmoid its output leaves [0, 1]."""
    return _model(*_select("input", channel, sigmoid))


def noisy_model() -> onnx.ModelProto:
    """`channel_model`'s map replaced by fresh uniform noise in [0, 1) on every run: right shape and range, not
    deterministic."""
    nodes, weights = _select("input", "red")
    nodes.append(helper.make_node("RandomUniformLike", ["map"], ["noise"], name="noise"))
    return _model(nodes, weights, last="noise")


def _pool_and_restore(kernel: Sequence[int], times: int) -> list[onnx.NodeProto]:
    """input → MaxPool(kernel, stride=kernel) x times → Resize(nearest, 'scales') → Add input → 'restored'."""
    nodes, source = [], "input"
    for index in range(times):
        pool = helper.make_node(
            "MaxPool", [source], [f"pool{index}"], name=f"pool{index}", kernel_shape=list(kernel), strides=list(kernel)
        )
        nodes.append(pool)
        source = f"pool{index}"
    nodes += [
        helper.make_node("Resize", [source, "", "scales"], ["up"], name="up", mode="nearest"),
        helper.make_node("Add", ["up", "input"], ["restored"], name="skip"),
    ]
    return nodes


def odd_height_crash_model() -> onnx.ModelProto:
    """Halves H and doubles it back, then adds the input: fails for every odd H (2·⌊H/2⌋ ≠ H), runs any W."""
    select, weights = _select("restored", "red")
    nodes = _pool_and_restore((2, 1), 1) + select
    return _model(nodes, [_const("scales", [1.0, 1.0, 2.0, 1.0]), *weights])


def multiple_of_8_model() -> onnx.ModelProto:
    """Three 2x2/2 MaxPools, Resize x8 and an Add with the input: runs exactly when H and W are multiples of 8."""
    select, weights = _select("restored", "red")
    nodes = _pool_and_restore((2, 2), 3) + select
    return _model(nodes, [_const("scales", [1.0, 1.0, 8.0, 8.0]), *weights])


def heavy_model(layers: int = 12, width: int = 16) -> onnx.ModelProto:
    """Same I/O as `channel_model`, but `layers` chained 3x3 convolutions of `width` channels: far slower."""
    rng = np.random.default_rng(0)
    nodes, inits, source = [], [], "input"
    channels = 3
    for index in range(layers):
        w, b = f"w{index}", f"b{index}"
        inits += [_const(w, rng.normal(0, 0.1, (width, channels, 3, 3))), _const(b, np.zeros(width))]
        nodes.append(helper.make_node("Conv", [source, w, b], [f"c{index}"], name=f"conv{index}", pads=[1, 1, 1, 1]))
        source, channels = f"c{index}", width
    inits += [_const("head_w", rng.normal(0, 0.1, (1, width, 1, 1))), _const("head_b", [0.0])]
    nodes += [
        helper.make_node("Conv", [source, "head_w", "head_b"], ["logits"], name="head"),
        helper.make_node("Sigmoid", ["logits"], ["map"], name="sigmoid"),
    ]
    return _model(nodes, inits)


# --- sidecars -----------------------------------------------------------------------------------------------------


def dims(minimum: int = 1, maximum: int = 64, multiple_of: int = 1) -> dict[str, dict[str, int]]:
    return square_dims(minimum, maximum, multiple_of)


def sidecar(model_id: str, *, dim_rules: dict[str, Any] | None = None, nominal: int = 32, **blocks: Any) -> dict:
    """A valid sidecar with a contract (output range [0, 1]) and the given blocks (gate, status, ...) in its
    `tinyai` namespace (a value of None leaves a block out)."""
    document = saliency_sidecar(
        model_id, opset=OPSET, dims=dim_rules if dim_rules is not None else dims(), nominal=nominal
    )
    return placed(document, **{key: value for key, value in blocks.items() if value is not None})


def gate(
    claimed: float,
    *,
    fold_hash: str,
    floor: float | None = None,
    baseline: str | None = None,
    gate_failed: str | None = None,
    fold: str = FOLD,
) -> dict[str, Any]:
    block: dict[str, Any] = {"fold": {"name": fold, "content_sha256": fold_hash}, "metric": METRIC, "claimed": claimed}
    for key, value in (("floor", floor), ("baseline", baseline), ("gate_failed", gate_failed)):
        if value is not None:
            block[key] = value
    return block


def ledger_record(block: dict[str, Any], **changes: Any) -> dict[str, Any]:
    """What the ledger pins of a gate block (metric, fold, floor, baseline), with fields replaced."""
    record = {
        "metric": block["metric"],
        "fold": dict(block["fold"]),
        "floor": block.get("floor"),
        "baseline": block.get("baseline"),
    }
    record.update(changes)
    return record


# --- files --------------------------------------------------------------------------------------------------------


class Workspace:
    """pytester's directory as a registry folder: models, sidecars, registry.json, folds and the ledger."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.entries: list[dict[str, Any]] = []
        self.recorded: dict[str, dict[str, Any]] = {}

    @property
    def ledger_path(self) -> Path:
        return self.root / "ledger.json"

    def add(self, model_id: str, model: onnx.ModelProto, document: dict[str, Any] | None = None) -> None:
        data = model.SerializeToString()
        (self.root / f"{model_id}.onnx").write_bytes(data)
        (self.root / f"{model_id}.json").write_text(json.dumps(document or sidecar(model_id), indent=2))
        self.entries.append(
            {
                "id": model_id,
                "kind": "nr",
                "onnx": f"{model_id}.onnx",
                "sha256": hashlib.sha256(data).hexdigest(),
                "opset": OPSET,
                "license": "Apache-2.0",
            }
        )
        self.write_registry()

    def add_gated(
        self,
        model_id: str,
        channel: str,
        *,
        fold_hash: str,
        claimed: float | None = None,
        status: str | None = None,
        role: str | None = None,
        model: onnx.ModelProto | None = None,
        **gate_fields: Any,
    ) -> dict[str, Any]:
        """A `channel_model` (or `model`) with a gate (claiming the channel's IoU unless told), for `write_ledger`."""
        block = gate(CHANNEL_IOU[channel] if claimed is None else claimed, fold_hash=fold_hash, **gate_fields)
        model = model if model is not None else channel_model(channel)
        self.add(model_id, model, sidecar(model_id, gate=block, status=status, role=role))
        self.recorded[model_id] = ledger_record(block)
        return block

    def write_registry(self) -> Path:
        path = self.root / "registry.json"
        path.write_text(json.dumps({"schema_version": 1, "models": self.entries}, indent=2))
        return path

    def fold(self, name: str = FOLD) -> Path:
        return self.root / "folds" / name

    def write_fold(self, name: str = FOLD, height: int = FOLD_SIZE, width: int = FOLD_SIZE) -> str:
        """Four PNG image/mask pairs (32x32 unless told; see the module docstring); returns the content hash."""
        root = self.fold(name)
        (root / "Image").mkdir(parents=True, exist_ok=True)
        (root / "Mask").mkdir(parents=True, exist_ok=True)
        for index in range(FOLD_IMAGES):
            mask = np.zeros((height, width), np.uint8)
            top, left = 2 + 3 * index, 4 + 2 * index
            mask[top : top + 10 + index, left : left + 12] = 255
            image = np.zeros((height, width, 3), np.uint8)
            image[..., 0] = mask
            if index < 3:
                image[..., 1] = mask
            if index < 2:
                image[..., 2] = mask
            Image.fromarray(image, "RGB").save(root / "Image" / f"s{index}.png")
            Image.fromarray(mask, "L").save(root / "Mask" / f"s{index}.png")
        return content_hash(root)

    def touch_mask_pixel(self, name: str = FOLD) -> None:
        """Flip one pixel of the first mask (a one-pixel relabel of the held-out fold)."""
        path = self.fold(name) / "Mask" / "s0.png"
        pixels = np.asarray(Image.open(path)).copy()
        pixels[0, 0] = 255 - pixels[0, 0]
        Image.fromarray(pixels, "L").save(path)

    def write_ledger(self, gates: dict[str, dict[str, Any]] | None = None) -> Path:
        """The ledger of ./registry.json with `gates`, by default the records of every gate added so far (in step)."""
        gates = self.recorded if gates is None else gates
        self.ledger_path.write_text(json.dumps(ledger_document(gates), indent=2))
        return self.ledger_path

    def read_ledger(self) -> dict[str, Any]:
        return json.loads(self.ledger_path.read_text())

    def read_records(self) -> dict[str, Any]:
        """The ledger's records of ./registry.json."""
        return self.read_ledger()["registries"]["registry.json"]


# --- running and results ----------------------------------------------------------------------------------------


def run_tinyai(pytester: pytest.Pytester, marker: str, *args: str) -> pytest.RunResult:
    """In-process run of one marker on ./registry.json with ./ledger.json."""
    return pytester.runpytest(
        "--tinyai-registry",
        "registry.json",
        "--tinyai-ledger",
        "ledger.json",
        "-m",
        marker,
        "-p",
        "no:cacheprovider",
        *args,
    )


def lines(*fragments: str) -> list[str]:
    """fnmatch patterns matching a line that contains each fragment literally (in order)."""
    return ["*" + "*".join(glob.escape(fragment) for fragment in fragments) + "*"]


def outcomes(result: pytest.RunResult) -> dict[str, str]:
    """Item name (e.g. 'gate[m]') → outcome ('xfailed' for an expected failure), from an in-process run.

    Every run inspected this way is also held to `assert_no_internals`.
    """
    assert_no_internals(result)
    found: dict[str, str] = {}
    for report in result.reprec.getreports("pytest_runtest_logreport"):
        if report.when == "call" or report.outcome != "passed":
            name = report.nodeid.split("::")[-1]
            found[name] = "xfailed" if hasattr(report, "wasxfail") and report.skipped else report.outcome
    return found


def assert_no_internals(result: pytest.RunResult) -> None:
    """No INTERNALERROR, and no traceback into the plugin's own modules."""
    output = result.stdout.str() + result.stderr.str()
    assert "INTERNALERROR" not in output, output
    assert "pytest_tinyai/" not in output, output
    assert "Traceback" not in output, output


def assert_clean_failure(result: pytest.RunResult) -> None:
    """Tests failed (exit 1), cleanly."""
    assert result.ret == pytest.ExitCode.TESTS_FAILED, result.stdout.str()
    assert_no_internals(result)
