"""Builders of models that are hostile when run: graph middles (`features` → `logits`) that spin, allocate or call
an unknown op, and a gate on a two-image fold that the healthy default model scores 1.0 on.

Every middle computes a side value, multiplies it by zero and adds it to `features`, so the model's output is the
healthy one and only the side computation's cost (time, memory, loadability) makes it hostile.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import onnx
from onnx import helper
from PIL import Image
from plugin_builders import constant_node, loop_node, with_sidecar

from pytest_tinyai.dataset import content_hash

FOLD = "bright-dark"


def _merged(side: str, nodes: list[onnx.NodeProto]) -> list[onnx.NodeProto]:
    """`nodes` computing the tensor `side`, then logits = features + 0 * max(side)."""
    return [
        *nodes,
        helper.make_node("ReduceMax", [side], ["side_max"], name="side_max", keepdims=0),
        constant_node("zero", 0.0),
        helper.make_node("Mul", ["side_max", "zero"], ["side_zero"], name="side_zero"),
        helper.make_node("Add", ["features", "side_zero"], ["logits"], name="merge"),
    ]


def busy_loop_middle(trips: int, side: int = 1024) -> list[onnx.NodeProto]:
    """A Loop of `trips` (side x side) MatMuls of a matrix that is its own square (every entry 1/side): finite,
    allowlisted for trips <= 1024, and about 2 GFLOP per trip at the default side (tens of seconds for 1000)."""
    return _merged(
        "busy",
        [
            constant_node("busy_shape", [side, side], np.int64),
            helper.make_node(
                "ConstantOfShape",
                ["busy_shape"],
                ["busy_seed"],
                name="busy_seed",
                value=helper.make_tensor("fill", onnx.TensorProto.FLOAT, [1], [1.0 / side]),
            ),
            constant_node("busy_trips", trips, np.int64),
            loop_node(
                "busy_loop",
                "busy_trips",
                "busy_seed",
                [helper.make_node("MatMul", ["busy_loop_x", "busy_loop_x"], ["busy_loop_y"], name="square")],
                "busy",
            ),
        ],
    )


def memory_bomb_middle(shape: list[int]) -> list[onnx.NodeProto]:
    """An Expand of a scalar to `shape` (float32): allowlisted ops only, as much memory as the shape says."""
    return _merged(
        "bomb",
        [
            constant_node("bomb_scalar", 1.0),
            constant_node("bomb_shape", shape, np.int64),
            helper.make_node("Expand", ["bomb_scalar", "bomb_shape"], ["bomb"], name="bomb"),
        ],
    )


def wide_middle(channels: int) -> list[onnx.NodeProto]:
    """`features` broadcast to `channels` channels: channels x H x W float32 of working memory that depends on the
    input (nothing constant-folds it away): 192 MiB at 192 channels and 512 x 512."""
    return _merged(
        "wide",
        [
            constant_node("wide_shape", [1, channels, 1, 1], np.int64),
            helper.make_node("Expand", ["features", "wide_shape"], ["wide"], name="wide"),
        ],
    )


def quadratic_bomb_middle() -> list[onnx.NodeProto]:
    """A (H*W) x (H*W) float32 tensor of zeros: 4 MiB at 32 x 32, 2.4 GiB at 156 x 156."""
    return _merged(
        "square",
        [
            helper.make_node("Shape", ["features"], ["square_dims"], name="square_dims"),
            constant_node("h_axis", 2, np.int64),
            constant_node("w_axis", 3, np.int64),
            helper.make_node("Gather", ["square_dims", "h_axis"], ["square_h"], name="square_h"),
            helper.make_node("Gather", ["square_dims", "w_axis"], ["square_w"], name="square_w"),
            helper.make_node("Mul", ["square_h", "square_w"], ["square_hw"], name="square_hw"),
            constant_node("square_axes", [0], np.int64),
            helper.make_node("Unsqueeze", ["square_hw", "square_axes"], ["square_side"], name="square_side"),
            helper.make_node("Concat", ["square_side", "square_side"], ["square_shape"], name="square_shape", axis=0),
            helper.make_node("ConstantOfShape", ["square_shape"], ["square"], name="square"),
        ],
    )


def custom_op_middle(domain: str, op_type: str) -> list[onnx.NodeProto]:
    """An op of a custom domain that no onnxruntime build registers."""
    return _merged("custom", [helper.make_node(op_type, ["features"], ["custom"], name="custom", domain=domain)])


def write_fold(root: Path) -> str:
    """`root/folds/<FOLD>`: a white image with a full mask and a black one with an empty mask; its content hash.

    The default model (a positive-weight 1x1 Conv, then Sigmoid) is above 0.5 exactly where the image is white.
    """
    fold = root / "folds" / FOLD
    (fold / "Image").mkdir(parents=True)
    (fold / "Mask").mkdir()
    for stem, value in (("bright", 255), ("dark", 0)):
        Image.fromarray(np.full((16, 16, 3), value, np.uint8), "RGB").save(fold / "Image" / f"{stem}.png")
        Image.fromarray(np.full((16, 16), value, np.uint8), "L").save(fold / "Mask" / f"{stem}.png")
    return content_hash(fold)


def gated_sidecar(model_id: str, fold_hash: str, **changes: Any) -> dict[str, Any]:
    """The default sidecar with a gate on the fold, claiming the 1.0 the default model measures there."""
    gate = {"fold": {"name": FOLD, "content_sha256": fold_hash}, "metric": "mean_iou@0.5", "floor": 0.9, "claimed": 1.0}
    return with_sidecar(model_id, gate=gate, **changes)
