"""Model kinds: how a fold's samples become a model's feeds, and its outputs what a metric reads.

A kind is looked up by the name a sidecar's contract declares (`tinyai.contract.kind`, default `saliency_map`);
plugins and conftests add kinds through the `pytest_tinyai_model_kinds` hook (see `hookspec`). Example: a
full-reference quality model takes a reference and a distorted image and gives one score; its kind reads a
fold of image pairs with their mean opinion scores, feeds both images, and hands the metric the score.

A kind may also show a sample as a picture (`image(sample)`, RGB uint8 (H, W, 3)): when its truths and
predictions are maps of that size, the conformance report pictures a gate's worst samples with them.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from pytest_tinyai.dataset import Sample, content_hash, find_samples, load_image, load_mask
from pytest_tinyai.tensor_contract import DEFAULT_KIND, Contract


class ModelKind(Protocol):
    """What the gate needs to know of a family of models to score one on a fold."""

    name: str

    def samples(self, fold_root: Path) -> Sequence[Any]:
        """The fold's samples in a stable order (raise ValueError or OSError for a fold that cannot be read)."""
        ...

    def content_hash(self, fold_root: Path) -> str:
        """A hash of what the samples contain, pinned by gates: any relabel or edit changes it."""
        ...

    def feeds(self, sample: Any, contract: Contract) -> dict[str, np.ndarray]:
        """The model's inputs for one sample, as the contract declares them (normalisation, layout, dtype)."""
        ...

    def truth(self, sample: Any) -> Any:
        """What the sample says the right answer is (a mask, a score)."""
        ...

    def prediction(self, outputs: dict[str, np.ndarray], contract: Contract) -> Any:
        """What the metric compares with the truth, from the model's outputs by name."""
        ...


class SaliencyMap:
    """One image in, one probability map of the same height and width out; folds in DUTS layout (Image/, Mask/)."""

    name = DEFAULT_KIND

    def samples(self, fold_root: Path) -> Sequence[Sample]:
        return find_samples(fold_root)

    def content_hash(self, fold_root: Path) -> str:
        return content_hash(fold_root)

    def feeds(self, sample: Sample, contract: Contract) -> dict[str, np.ndarray]:
        (spec,) = contract.inputs
        return {spec.name: spec.image_feed(load_image(sample.image_path))}

    def truth(self, sample: Sample) -> np.ndarray:
        return load_mask(sample.mask_path)

    def prediction(self, outputs: dict[str, np.ndarray], contract: Contract) -> np.ndarray:
        produced = np.asarray(outputs[contract.outputs[0].name], dtype=np.float32)
        return produced.reshape(produced.shape[-2:])

    def image(self, sample: Sample) -> np.ndarray:
        return load_image(sample.image_path)


BUILTIN_KINDS: tuple[ModelKind, ...] = (SaliencyMap(),)
