"""Torch view of a saliency dataset: the train/validation split and the recipe's augmentation.

Images and masks are read by :mod:`pytest_tinyai.dataset`. Random choices (crop offset, flip) are drawn
from a generator seeded by (seed, epoch, index), so a sample's augmentation does not depend on the
order, the process or the DataLoader worker that produces it: runs and resumed runs see the same data.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence

import numpy as np
import torch
from PIL import Image
from torch.utils.data import Dataset

from pytest_tinyai.dataset import Sample, load_image, load_mask, normalise


def split_samples(
    samples: Sequence[Sample], val_fraction: float, min_val: int, seed: int
) -> tuple[list[Sample], list[Sample]]:
    """Seeded shuffle, then the first max(ceil(fraction * n), min_val) samples for validation."""
    shuffled = sorted(samples, key=lambda sample: sample.stem)
    random.Random(seed).shuffle(shuffled)
    n_val = max(math.ceil(val_fraction * len(shuffled)), min_val)
    if n_val >= len(shuffled):
        raise ValueError(f"{len(shuffled)} samples are too few for a validation split of {n_val}")
    return shuffled[n_val:], shuffled[:n_val]


def short_side_size(size: tuple[int, int], short: int) -> tuple[int, int]:
    """(width, height) scaled so that the shorter side is ``short``."""
    width, height = size
    scale = short / min(width, height)
    return max(short, round(width * scale)), max(short, round(height * scale))


class SaliencyDataset(Dataset):
    """(image, mask) tensors: float32 (3, crop, crop) normalised, float32 (1, crop, crop) in {0, 1}.

    Training: resize the short side to crop + margin, random crop, random horizontal flip.
    Validation: resize the short side to crop, centre crop.
    """

    def __init__(self, samples: Sequence[Sample], crop: int, train: bool, seed: int, margin: int = 32) -> None:
        self.samples = list(samples)
        self.crop = crop
        self.train = train
        self.seed = seed
        self.short = crop + margin if train else crop
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        """Choose the epoch whose augmentation the next items get."""
        self.epoch = epoch

    def __len__(self) -> int:
        return len(self.samples)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        sample = self.samples[index]
        with Image.open(sample.image_path) as header:
            size = short_side_size(header.size, self.short)
        image, mask = load_image(sample.image_path, size), load_mask(sample.mask_path, size)
        height, width = mask.shape
        if self.train:
            rng = np.random.default_rng((self.seed, self.epoch, index))
            top, left = rng.integers(0, height - self.crop + 1), rng.integers(0, width - self.crop + 1)
            flip = rng.random() < 0.5
        else:
            top, left, flip = (height - self.crop) // 2, (width - self.crop) // 2, False
        window = np.s_[top : top + self.crop, left : left + self.crop]
        image, mask = image[window], mask[window]
        if flip:
            image, mask = image[:, ::-1], mask[:, ::-1]
        return torch.from_numpy(normalise(image)), torch.from_numpy(np.ascontiguousarray(mask)[np.newaxis])
