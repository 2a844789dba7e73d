"""The one sidecar the project's tests start from: a saliency model's names, opset and tensor contract."""

from __future__ import annotations

from typing import Any


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
        "contract": {
            "inputs": [{"name": "input", "dtype": "float32", "shape": [1, 3, "H", "W"], "layout": "NCHW"}],
            "outputs": [{"name": "saliency_map", "dtype": "float32", "shape": [1, 1, "H", "W"], "range": [0.0, 1.0]}],
            "dims": dims if dims is not None else square_dims(1, 512),
            "nominal": {"H": nominal, "W": nominal},
        },
    }
