"""Where a run's batches come from: a source pack composited on the fly, or a folder of image/mask pairs.

:func:`open_data` picks by what the path holds: a folder with a source pack manifest (``tinyai-corpus pack``)
gives :class:`PackData`, anything else :class:`FolderData` (our folds, DUTS-TR). Both give the loop the same
thing: per-epoch training batches for this process's share, validation batches for rank 0, their sizes, and a
record for the sidecar. Every batch depends on (seed, epoch, index) only, so runs and resumed runs agree.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import torch
from torch.utils.data import DataLoader, DistributedSampler

from pytest_tinyai.dataset import content_hash, find_samples
from trainers.corpus.pack_format import is_pack, read_manifest
from trainers.saliency_student.compose import Compositor
from trainers.saliency_student.data import SaliencyDataset, split_samples
from trainers.saliency_student.recipe import Recipe
from trainers.saliency_student.scene import SceneConfig, draw_scenes, eval_like

Batch = tuple[torch.Tensor, torch.Tensor]


def data_identity(root: str | Path) -> str:
    """The content hash of a pack (its files verified) or of a folder in DUTS layout; fails early on a bad path."""
    return read_manifest(root)["content_sha256"] if is_pack(root) else content_hash(root)


class FolderData:
    """Image/mask pairs on disk: a seeded random validation split, decoded and augmented in DataLoader workers."""

    def __init__(self, root: str | Path, recipe: Recipe, device: torch.device, rank: int, world_size: int) -> None:
        train_samples, val_samples = split_samples(
            find_samples(root), recipe.val_fraction, recipe.min_val_images, recipe.seed
        )
        self.train_set = SaliencyDataset(train_samples, recipe.crop, True, recipe.seed, recipe.resize_margin)
        self.sampler = DistributedSampler(self.train_set, num_replicas=world_size, rank=rank, seed=recipe.seed)
        options = {"num_workers": recipe.workers, "pin_memory": device.type == "cuda"}
        self.train_loader = DataLoader(self.train_set, recipe.batch_size // world_size, sampler=self.sampler, **options)
        self.val_loader = DataLoader(
            SaliencyDataset(val_samples, recipe.crop, False, recipe.seed), recipe.batch_size, **options
        )
        self.n_train, self.n_val = len(self.train_set), len(val_samples)
        self.steps_per_epoch = len(self.train_loader)
        self.record: dict[str, Any] = {"kind": "folder", "validation": "random split of the same images"}

    def train_batches(self, epoch: int) -> Iterable[Batch]:
        self.sampler.set_epoch(epoch)
        self.train_set.set_epoch(epoch)
        return self.train_loader

    def val_batches(self) -> Iterable[Batch]:
        return self.val_loader


class PackData:
    """A source pack held in memory on ``device``: training composites of its train split, validation composites
    of its val split drawn as the eval fold is (:func:`~trainers.saliency_student.scene.eval_like`)."""

    def __init__(self, root: str | Path, recipe: Recipe, device: torch.device, rank: int, world_size: int) -> None:
        manifest = read_manifest(root)  # every file verified once, for both splits
        self.train = Compositor.from_pack(root, "train", device, manifest)
        self.val = Compositor.from_pack(root, "val", device, manifest)
        self.scene, self.val_scene = SceneConfig(canvas=recipe.crop), eval_like(recipe.val_size)
        self.seed, self.rank = recipe.seed, rank
        self.batch_size, self.local_batch = recipe.batch_size, recipe.batch_size // world_size
        self.steps_per_epoch = recipe.samples_per_epoch // recipe.batch_size
        self.n_train, self.n_val = self.steps_per_epoch * recipe.batch_size, recipe.val_images
        self.record = {
            "kind": "source pack, composited on the fly",
            "objects": {"train": len(self.train.objects), "val": len(self.val.objects)},
            "backgrounds": {"train": len(self.train.backgrounds), "val": len(self.val.backgrounds)},
            "scene": dataclasses.asdict(self.scene),
            "validation": dataclasses.asdict(self.val_scene),
        }

    def _rendered(self, compositor: Compositor, scene: SceneConfig, epoch: int, indices: list[int]) -> Batch:
        drawn = draw_scenes(scene, self.seed, epoch, indices, compositor.object_sizes, compositor.background_sizes)
        return compositor.render(drawn, scene.canvas)

    def train_batches(self, epoch: int) -> Iterator[Batch]:
        """Step s gives this rank images s * batch + rank * local batch + [0, local batch) of the epoch."""
        for step in range(self.steps_per_epoch):
            first = step * self.batch_size + self.rank * self.local_batch
            yield self._rendered(self.train, self.scene, epoch, list(range(first, first + self.local_batch)))

    def val_batches(self) -> Iterator[Batch]:
        """The same ``n_val`` composites every epoch."""
        for first in range(0, self.n_val, self.batch_size):
            indices = list(range(first, min(first + self.batch_size, self.n_val)))
            yield self._rendered(self.val, self.val_scene, 0, indices)


def open_data(
    root: str | Path, recipe: Recipe, device: torch.device, rank: int = 0, world_size: int = 1
) -> FolderData | PackData:
    """The data of the run: PackData for a source pack, FolderData for anything else."""
    kind = PackData if is_pack(root) else FolderData
    return kind(root, recipe, device, rank, world_size)
