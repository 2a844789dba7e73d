"""A gate's fold as the conformance report shows it: every sample's score, and the worst samples pictured.

The gate attaches this only when a report is asked for, so that the process writing the report never runs a
model. Each of the `count` samples with the lowest score gets four small tiles, each at most TILE_SIDE pixels a
side and base64-encoded: the image (JPEG), its truth (1-bit PNG), the model's prediction and the baseline's on
the same sample (PNG, the probability in PROBABILITY_LEVELS levels). Only a kind that can show a sample's image
(`image(sample)`) and whose truths and predictions are maps of that image's size is pictured. Pictures decide
nothing: when one cannot be made, the attachment says why and the gate's verdict is untouched.
"""

from __future__ import annotations

import base64
import io
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from PIL import Image

from pytest_tinyai.findings import NotChecked, first_line, printable
from pytest_tinyai.fold_eval import FoldScore
from pytest_tinyai.gate.evaluation import runner
from pytest_tinyai.kinds import ModelKind
from pytest_tinyai.model import ModelUnderTest

TILE_SIDE = 192
PROBABILITY_LEVELS = 16
JPEG_QUALITY = 85
SCORE_DIGITS = 6
MAX_LABEL = 120  # characters of a sample's label

Predict = Callable[[Any], np.ndarray]  # sample → prediction map


@dataclass(frozen=True)
class Pictured:
    """A model whose predictions are pictured: how it predicts a sample, and its per-sample scores."""

    predict: Predict
    scores: Sequence[float] | None


def worst_indices(scores: Sequence[float], count: int) -> list[int]:
    """The positions of the `count` lowest scores, lowest first, ties by position; a NaN counts as the lowest."""
    return sorted(range(len(scores)), key=lambda i: (-math.inf if math.isnan(scores[i]) else scores[i], i))[:count]


def rounded(values: Sequence[float]) -> list[float | None]:
    """Scores as they travel: rounded, a NaN or infinity as None (JSON has no NaN)."""
    return [round(value, SCORE_DIGITS) if math.isfinite(value) else None for value in values]


def tile_size(height: int, width: int) -> tuple[int, int]:
    """(width, height) of a tile: the picture cut down to TILE_SIDE on its long side, never enlarged."""
    scale = min(1.0, TILE_SIDE / max(height, width, 1))
    return max(1, round(width * scale)), max(1, round(height * scale))


def _encoded(image: Image.Image, format: str, **options: Any) -> str:
    buffer = io.BytesIO()
    image.save(buffer, format=format, **options)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def encode_image(rgb: np.ndarray) -> str:
    """An RGB uint8 (H, W, 3) image as a base64 JPEG tile."""
    image = Image.fromarray(np.ascontiguousarray(rgb, dtype=np.uint8), "RGB")
    return _encoded(image.resize(tile_size(*rgb.shape[:2]), Image.Resampling.BILINEAR), "JPEG", quality=JPEG_QUALITY)


def encode_mask(mask: np.ndarray) -> str:
    """A truth mask (> 0.5 is foreground) as a base64 1-bit PNG tile."""
    pixels = np.where(np.asarray(mask) > 0.5, 255, 0).astype(np.uint8)
    image = Image.fromarray(pixels, "L").resize(tile_size(*pixels.shape), Image.Resampling.NEAREST)
    return _encoded(image.convert("1"), "PNG", optimize=True)


def encode_probability(prob: np.ndarray) -> str:
    """A probability map as a base64 grey PNG tile: clipped to [0, 1] (NaN as 0), in PROBABILITY_LEVELS levels."""
    values = np.nan_to_num(np.asarray(prob, dtype=np.float32), nan=0.0, posinf=1.0, neginf=0.0).clip(0.0, 1.0)
    image = Image.fromarray(values, "F").resize(tile_size(*values.shape), Image.Resampling.BILINEAR)
    steps = PROBABILITY_LEVELS - 1
    levels = (np.round(np.asarray(image).clip(0.0, 1.0) * steps) * (255 // steps)).astype(np.uint8)
    return _encoded(Image.fromarray(levels, "L"), "PNG", optimize=True)


def picture_samples(
    kind: ModelKind,
    samples: Sequence[Any],
    indices: Sequence[int],
    labels: Sequence[str],
    model: Pictured,
    baseline: Pictured | None,
) -> list[dict[str, Any]]:
    """The tiles and scores of the samples at `indices`. Raises ValueError when the kind cannot picture them."""
    image_of = getattr(kind, "image", None)
    if not callable(image_of):
        raise ValueError(f"model kind '{kind.name}' cannot show a sample as an image")
    pictured = []
    for index in indices:
        sample = samples[index]
        image = np.asarray(image_of(sample))
        truth, prediction = np.asarray(kind.truth(sample)), np.asarray(model.predict(sample))
        if image.ndim != 3 or image.shape[2] != 3 or not truth.shape == prediction.shape == image.shape[:2]:
            raise ValueError(
                f"truth {list(truth.shape)} and prediction {list(prediction.shape)} are not maps of the image "
                f"{list(image.shape)}"
            )
        entry: dict[str, Any] = {
            "label": printable(labels[index], MAX_LABEL),
            "score": _score_at(model.scores, index),
            "image": encode_image(image),
            "truth": encode_mask(truth),
            "prediction": encode_probability(prediction),
        }
        if baseline is not None:
            theirs = np.asarray(baseline.predict(sample))
            entry["baseline_score"] = _score_at(baseline.scores, index)
            entry["baseline_prediction"] = encode_probability(theirs) if theirs.shape == truth.shape else None
        pictured.append(entry)
    return pictured


def _score_at(scores: Sequence[float] | None, index: int) -> float | None:
    if scores is None or index >= len(scores):
        return None
    return rounded([scores[index]])[0]


def _predictor(model: ModelUnderTest, kind: ModelKind) -> Predict:
    run, contract = runner(model), model.contract
    assert contract is not None  # the model was scored through it
    return lambda sample: kind.prediction(run(kind.feeds(sample, contract)), contract)


def gate_attachment(
    model: ModelUnderTest,
    score: FoldScore,
    kind: ModelKind,
    fold_samples: Callable[[], Sequence[Any]],
    baseline: tuple[ModelUnderTest, FoldScore] | None,
    count: int,
) -> dict[str, Any]:
    """What the report shows of a gate's fold: every sample's score (the baseline's beside them when it was scored
    on the same samples), and the `count` worst samples pictured with the model's and the baseline's predictions."""
    attachment: dict[str, Any] = {"samples": score.n}
    if score.per_sample is None:
        attachment["pictures_error"] = "the metric gives no per-sample score"
        return attachment
    attachment["scores"] = rounded(score.per_sample)
    theirs = baseline[1] if baseline is not None and baseline[1].labels == score.labels else None
    if theirs is not None and theirs.per_sample is not None:
        attachment["baseline_scores"] = rounded(theirs.per_sample)
    indices = worst_indices(score.per_sample, count)
    try:
        other = None
        if baseline is not None:
            other = Pictured(_predictor(baseline[0], kind), theirs.per_sample if theirs is not None else None)
        mine = Pictured(_predictor(model, kind), score.per_sample)
        attachment["worst"] = picture_samples(kind, fold_samples(), indices, score.labels, mine, other)
    except NotChecked as refused:
        attachment["pictures_error"] = printable(refused.reason)
    except Exception as error:  # a picture decides nothing: whatever stops one is said, never raised
        attachment["pictures_error"] = printable(f"{type(error).__name__}: {first_line(error)}")
    return attachment
