"""Model kinds: how a fold's samples become a model's feeds, and its outputs what a metric reads.

A kind is looked up by the name a sidecar's contract declares (`tinyai.contract.kind`, default `saliency_map`);
plugins and conftests add kinds through the `pytest_tinyai_model_kinds` hook (see `hookspec`). Example: a
full-reference quality model takes a reference and a distorted image and gives one score; its kind reads a
fold of image pairs with their mean opinion scores, feeds both images, and hands the metric the score.

Built in: `saliency_map` (one image in, a probability map out) and `fr_pair` (two inputs in, one score per item
out; the kind a contract derived from such a graph takes, see `derived_contract`).

A kind may also show a sample as a picture (`image(sample)`, RGB uint8 (H, W, 3)): when its truths and
predictions are maps of that size, the conformance report pictures a gate's worst samples with them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from pytest_tinyai.dataset import Sample, content_hash, find_samples, load_image, load_mask
from pytest_tinyai.derived_contract import FR_PAIR, per_item_score
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
        """The model's inputs for one sample, as the contract declares them (normalisation, layout, dtype).

        `feeds` and `truth` are called on a worker thread, one call at a time, a few samples ahead of the run."""
        ...

    def truth(self, sample: Any) -> Any:
        """What the sample says the right answer is (a mask, a score)."""
        ...

    def prediction(self, outputs: dict[str, np.ndarray], contract: Contract) -> Any:
        """What the metric compares with the truth, from the model's outputs by name."""
        ...

    # Optional: `output_problems(outputs, contract, dims) -> list[str]`, what the kind requires of any run's
    # outputs at `dims` beyond the contract's shapes (e.g. one score per item); the contract check's run asks it.


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


class FullReferencePair:
    """Two inputs (a reference and a distorted signal, or features and a side block) in, one score per item out:
    an output of rank 0, [N] or [N, 1], N the batch the inputs carry.

    A sample is a mapping from each input's name to its array (a batch of one, or one item the batch axis is added
    to); its feeds are those arrays at the contract's dtypes and shapes, its prediction the score. The kind reads
    no fold: no fold format is published for such models, so a gate on it is not evaluated (a plugin kind that reads
    one, e.g. a subclass with `samples`, `content_hash` and `truth`, can gate it).
    """

    name = FR_PAIR

    def samples(self, fold_root: Path) -> Sequence[Mapping[str, np.ndarray]]:
        raise ValueError(f"the {self.name} kind reads no fold (register a kind that does to gate this model)")

    def content_hash(self, fold_root: Path) -> str:
        raise ValueError(f"the {self.name} kind reads no fold (register a kind that does to gate this model)")

    def feeds(self, sample: Mapping[str, np.ndarray], contract: Contract) -> dict[str, np.ndarray]:
        feeds = {}
        for spec in contract.inputs:
            array = np.asarray(sample[spec.name], dtype=spec.dtype)
            if array.ndim == len(spec.shape) - 1:
                array = array[np.newaxis]
            if array.ndim != len(spec.shape) or any(
                isinstance(dim, int) and dim != size for dim, size in zip(spec.shape, array.shape, strict=True)
            ):
                raise ValueError(f"'{spec.name}' sample of shape {list(array.shape)} is not {list(spec.shape)}")
            feeds[spec.name] = np.ascontiguousarray(array)
        return feeds

    def truth(self, sample: Mapping[str, np.ndarray]) -> Any:
        raise ValueError(f"the {self.name} kind reads no fold, so no sample carries a truth")

    def prediction(self, outputs: dict[str, np.ndarray], contract: Contract) -> float:
        """The first output's score of the first item."""
        return float(np.asarray(outputs[contract.outputs[0].name]).reshape(-1)[0])

    def output_problems(self, outputs: dict[str, np.ndarray], contract: Contract, dims: dict[str, int]) -> list[str]:
        """Each declared output holds one score per item of the run's batch: shape [], [N] or [N, 1]."""
        batch = {spec.concrete_shape(dims)[0] for spec in contract.inputs if spec.shape}
        problems = []
        for spec in contract.outputs:
            shape = tuple(np.shape(outputs[spec.name]))
            if not per_item_score(shape, batch or {1}):
                sizes = "/".join(map(str, sorted(batch or {1})))
                problems.append(
                    f"'{spec.name}' has shape {list(shape)}: a {self.name} model gives one score per item "
                    f"([], [N] or [N, 1], N={sizes})"
                )
        return problems


BUILTIN_KINDS: tuple[ModelKind, ...] = (SaliencyMap(), FullReferencePair())
