"""Metrics by name: what the gate measures a model with on its fold (torch-free, numpy only).

A metric takes the predictions and truths a model kind produced for every sample of a fold and returns one
number, higher is better. Plugins and conftests add metrics through the `pytest_tinyai_metrics` hook (see
`hookspec`); a sidecar's `tinyai.gate.metric` must name a registered one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np


def foreground(prob: np.ndarray, mask: np.ndarray, threshold: float = 0.5) -> tuple[np.ndarray, np.ndarray]:
    """The predicted (``prob > threshold``) and true (``mask > 0.5``) foreground of one image, as bool maps."""
    prob, mask = np.asarray(prob), np.asarray(mask)
    if prob.shape != mask.shape:
        raise ValueError(f"prediction shape {prob.shape} differs from mask shape {mask.shape}")
    return prob > threshold, mask > 0.5


def image_iou(prob: np.ndarray, mask: np.ndarray, threshold: float = 0.5) -> float:
    """IoU of ``prob > threshold`` against ``mask > 0.5``; an empty prediction on an empty mask scores 1.0."""
    predicted, truth = foreground(prob, mask, threshold)
    union = np.logical_or(predicted, truth).sum()
    if union == 0:
        return 1.0
    return float(np.logical_and(predicted, truth).sum() / union)


def mean_iou(probs: Iterable[np.ndarray], masks: Iterable[np.ndarray], threshold: float = 0.5) -> float:
    """Mean of the per-image IoUs of paired maps and masks (not one IoU over the pooled pixels)."""
    scores = [image_iou(prob, mask, threshold) for prob, mask in zip(probs, masks, strict=True)]
    if not scores:
        raise ValueError("mean_iou of no images")
    return float(np.mean(scores))


@dataclass(frozen=True)
class Metric:
    """A named score of a fold: `score(predictions, truths)`, higher is better.

    `per_sample(prediction, truth)`, when a metric is a mean of per-sample values, gives one sample's value: the
    conformance report draws their histogram and pictures the worst samples.
    """

    name: str
    description: str
    score: Callable[[Sequence[Any], Sequence[Any]], float]
    per_sample: Callable[[Any, Any], float] | None = None


BUILTIN_METRICS: tuple[Metric, ...] = (
    Metric("mean_iou@0.5", "per-image IoU of the map thresholded at 0.5, averaged over the fold", mean_iou, image_iou),
)
