"""Score a saliency model on a dataset fold: mean per-image IoU at 0.5 of whatever callable runs the model.

The model is any ``run(x) -> y`` with x float32 (1, 3, H, W) ImageNet-normalised and y (1, 1, H, W)
probabilities, so an onnxruntime session and a PyTorch module are scored by the same code.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from pytest_tinyai.dataset import find_samples, load_image, load_mask, normalise
from pytest_tinyai.metrics import image_iou

if TYPE_CHECKING:
    import onnxruntime

Runner = Callable[[np.ndarray], np.ndarray]


@dataclass(frozen=True)
class FoldScore:
    """Mean per-image IoU at threshold 0.5 over ``n`` images."""

    iou: float
    n: int


def evaluate_fold(run: Runner, fold_root: str | Path, size: tuple[int, int] | None = None) -> FoldScore:
    """Run every image of the fold at ``fold_root`` through ``run`` and score it against its mask.

    ``size`` is (width, height) to resize images and masks to; None keeps each image's own size.
    """
    scores = []
    for sample in find_samples(fold_root):
        x = normalise(load_image(sample.image_path, size))[np.newaxis]
        prob = np.asarray(run(x), dtype=np.float32)
        scores.append(image_iou(prob.reshape(prob.shape[-2:]), load_mask(sample.mask_path, size)))
    return FoldScore(iou=float(np.mean(scores)), n=len(scores))


def session_runner(session: onnxruntime.InferenceSession) -> Runner:
    """A ``run`` callable over an onnxruntime InferenceSession with one input and the map as first output."""
    input_name = session.get_inputs()[0].name
    return lambda x: session.run(None, {input_name: x})[0]
