"""Score a model on a dataset fold: its kind turns samples into feeds and outputs into predictions, its metric
turns predictions and truths into one number.

`score_fold` is what the gate uses (any kind, any metric, through onnxruntime); `evaluate_fold` is the
trainers' saliency shortcut over any ``run(x) -> y`` (an onnxruntime session or a PyTorch module alike), at
the images' own size or resized.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

import numpy as np

from pytest_tinyai.dataset import find_samples, load_image, load_mask
from pytest_tinyai.kinds import ModelKind
from pytest_tinyai.metrics import Metric, image_iou
from pytest_tinyai.tensor_contract import Contract, TensorSpec

if TYPE_CHECKING:
    import onnxruntime

Runner = Callable[[np.ndarray], np.ndarray]
READ_AHEAD = 4  # samples read ahead of the run: enough to keep the run waiting on nothing but the model
T = TypeVar("T")
R = TypeVar("R")
IMAGENET_IMAGE = TensorSpec("x", "float32", (1, 3, "H", "W"))  # the trainers' input: ImageNet-normalised NCHW


@dataclass(frozen=True)
class FoldScore:
    """A metric's value over ``n`` samples, and each sample's own value when the metric gives one (in sample
    order, beside the samples' labels)."""

    value: float
    n: int
    per_sample: tuple[float, ...] | None = None
    labels: tuple[str, ...] = ()


def score_fold(
    run: Callable[[dict[str, np.ndarray]], dict[str, np.ndarray]],
    kind: ModelKind,
    metric: Metric,
    contract: Contract,
    fold_root: Path,
) -> FoldScore:
    """Run every sample of the fold through ``run`` (feeds → outputs by name) and score the predictions."""
    samples = kind.samples(fold_root)
    predictions, truths = [], []
    for feeds, truth in read_ahead(samples, lambda sample: (kind.feeds(sample, contract), kind.truth(sample))):
        predictions.append(kind.prediction(run(feeds), contract))
        truths.append(truth)
    per_sample = None
    if metric.per_sample is not None:
        per_sample = tuple(float(metric.per_sample(p, t)) for p, t in zip(predictions, truths, strict=True))
    labels = tuple(sample_label(sample, index) for index, sample in enumerate(samples))
    return FoldScore(metric.score(predictions, truths), len(samples), per_sample, labels)


def read_ahead(items: Sequence[T], read: Callable[[T], R], depth: int = READ_AHEAD) -> Iterator[R]:
    """``read(item)`` of each item in order, computed in one worker thread up to ``depth`` items ahead of the
    consumer, so reading and decoding the next samples overlaps the model's run (which waits on the sandbox
    process); a read's exception is raised where its value would have been yielded."""
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="tinyai-read-ahead")
    pending: deque[Future[R]] = deque()
    try:
        for item in items:
            pending.append(pool.submit(read, item))
            if len(pending) > depth:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def sample_label(sample: object, index: int) -> str:
    """How a report names a sample: its `stem` when it has one (our folds, DUTS), else its position."""
    stem = getattr(sample, "stem", None)
    return stem if isinstance(stem, str) else f"#{index}"


def evaluate_fold(
    run: Runner,
    fold_root: str | Path,
    size: tuple[int, int] | None = None,
    observe: Callable[[np.ndarray, np.ndarray], None] | None = None,
) -> FoldScore:
    """Run every image of the fold at ``fold_root`` through ``run`` and score it against its mask (the mean IoU@0.5,
    and each image's IoU in sample order).

    ``size`` is (width, height) to resize images and masks to; None keeps each image's own size. ``observe``, when
    given, sees each image's (H, W) probability map and mask (diagnostics beyond the score).
    """
    samples = find_samples(fold_root)  # never empty: a fold without images is a DatasetLayoutError
    per_sample = []
    for sample in samples:
        prob = np.asarray(run(IMAGENET_IMAGE.image_feed(load_image(sample.image_path, size))), dtype=np.float32)
        prob, mask = prob.reshape(prob.shape[-2:]), load_mask(sample.mask_path, size)
        if observe is not None:
            observe(prob, mask)
        per_sample.append(image_iou(prob, mask))
    labels = tuple(sample_label(sample, index) for index, sample in enumerate(samples))
    return FoldScore(float(np.mean(per_sample)), len(per_sample), tuple(per_sample), labels)


def session_runner(ort_session: onnxruntime.InferenceSession) -> Runner:
    """A ``run`` callable over an onnxruntime InferenceSession with one input and the map as first output."""
    input_name = ort_session.get_inputs()[0].name
    return lambda x: ort_session.run(None, {input_name: x})[0]
