"""The one sidecar the project's tests start from: a saliency model's names, opset and tensor contract.

The runtime's fields lie at the top level, pytest-tinyai's blocks in the `tinyai` namespace; `placed` puts a
change where it belongs.
"""

from __future__ import annotations

import copy
from typing import Any

from pytest_tinyai.sidecar import BLOCKS, NAMESPACE


def square_dims(minimum: int, maximum: int, multiple_of: int = 1) -> dict[str, dict[str, int]]:
    """The same rule for H and W."""
    rule = {"min": minimum, "max": maximum, "multiple_of": multiple_of}
    return {"H": dict(rule), "W": dict(rule)}


def saliency_sidecar(
    model_id: str, *, opset: int = 17, dims: dict[str, dict[str, int]] | None = None, nominal: int = 32
) -> dict[str, Any]:
    """`input` float32 [1,3,H,W] → `saliency_map` float32 [1,1,H,W] in [0, 1], H and W by `dims` (default 1..512)."""
    return {
        "name": model_id,
        "kind": "nr",
        "input_name": "input",
        "output_name": "saliency_map",
        "onnx_opset": opset,
        NAMESPACE: {
            "contract": {
                "inputs": [{"name": "input", "dtype": "float32", "shape": [1, 3, "H", "W"], "layout": "NCHW"}],
                "outputs": [
                    {"name": "saliency_map", "dtype": "float32", "shape": [1, 1, "H", "W"], "range": [0.0, 1.0]}
                ],
                "dims": dims if dims is not None else square_dims(1, 512),
                "nominal": {"H": nominal, "W": nominal},
            }
        },
    }


def placed(document: dict[str, Any], **changes: Any) -> dict[str, Any]:
    """A copy of `document` with keys set, a value of None removing one: pytest-tinyai's built-in blocks (contract,
    gate, ...) in the `tinyai` namespace, any other key (the runtime's fields) at the top level."""
    document = copy.deepcopy(document)
    blocks = document.setdefault(NAMESPACE, {})
    for key, value in changes.items():
        target = blocks if key in BLOCKS else document
        if value is None:
            target.pop(key, None)
        else:
            target[key] = value
    return document
