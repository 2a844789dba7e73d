"""Composite batches of training images on the fly from a source pack, on the device its tensors live on.

The pack's cut-outs (alpha-premultiplied RGBA) and backgrounds are held as two :class:`Atlas` textures in
memory (CPU RAM or GPU memory). :meth:`Compositor.render` turns a batch of :class:`Scenes` into images and
masks with a handful of batched tensor operations (no per-image Python work but drawing the scene), so on a GPU
the whole pipeline runs there, and on a CPU it runs on torch's intra-op threads (all cores busy).
Output: images float32 (B, 3, S, S), ImageNet-normalised, channels-last; masks float32 (B, 1, S, S) in {0, 1},
the accumulated alpha of the cut-outs >= 0.5 (as the corpus builder's masks: alpha >= 128).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch

from pytest_tinyai.tensor_contract import IMAGENET_MEAN, IMAGENET_STD
from trainers.corpus.pack_format import entries, load_pixels, read_manifest
from trainers.saliency_student.atlas import Atlas, to_device
from trainers.saliency_student.photometric import gaussian_blur, jitter_colour
from trainers.saliency_student.scene import Scenes

MASK_THRESHOLD = 0.5


def _channels_first(pixels: np.ndarray) -> torch.Tensor:
    """float (C, H, W) in [0, 1] of uint8 (H, W, C) pixels."""
    return torch.from_numpy(pixels.copy()).permute(2, 0, 1).float() / 255


def _premultiplied(rgba: np.ndarray) -> torch.Tensor:
    tensor = _channels_first(rgba)
    return torch.cat([tensor[:3] * tensor[3:], tensor[3:]])


class Compositor:
    """Renders scenes from a set of cut-outs and backgrounds held in memory."""

    def __init__(self, objects: Atlas, backgrounds: Atlas) -> None:
        self.objects = objects
        self.backgrounds = backgrounds
        self.device = objects.textures[0].device
        # (N, 2) and (M, 2) (width, height), for draw_scenes: read back from the device once, not every batch
        self.object_sizes: np.ndarray = objects.sizes.cpu().numpy()
        self.background_sizes: np.ndarray = backgrounds.sizes.cpu().numpy()
        shape = (1, 3, 1, 1)
        self.mean = torch.tensor(IMAGENET_MEAN, device=self.device).view(shape)
        self.std = torch.tensor(IMAGENET_STD, device=self.device).view(shape)

    @classmethod
    def from_pack(
        cls, root: str | Path, split: str, device: torch.device | str = "cpu", manifest: dict[str, Any] | None = None
    ) -> Compositor:
        """The ``split`` ('train' or 'val') of the pack at ``root``; its files are verified against the manifest
        unless the caller gives the manifest it has already read and verified."""
        root = Path(root)
        manifest = manifest if manifest is not None else read_manifest(root)
        cutouts = [_premultiplied(load_pixels(root, e, "objects")) for e in entries(manifest, "objects", split)]
        photos = [_channels_first(load_pixels(root, e, "backgrounds")) for e in entries(manifest, "backgrounds", split)]
        return cls(Atlas.from_images(cutouts).to(device), Atlas.from_images(photos).to(device))

    def _tensor(self, array: np.ndarray) -> torch.Tensor:
        return to_device(torch.from_numpy(array), self.device)

    def render(self, scenes: Scenes, size: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Images and masks of ``scenes`` at ``size`` x ``size`` px."""
        background = torch.from_numpy(scenes.background)
        image = self.backgrounds.sample(background, torch.from_numpy(scenes.background_map), size, clamp=True)
        image = jitter_colour(image, self._tensor(scenes.background_colour))
        rows, slots = np.nonzero(scenes.present)
        order = np.argsort(slots, kind="stable")  # slot by slot: later slots are drawn over earlier ones
        rows, slots = rows[order], slots[order]
        rgba = self.objects.sample(
            torch.from_numpy(scenes.objects[rows, slots]), torch.from_numpy(scenes.object_map[rows, slots]), size
        )
        alpha = rgba[:, 3:]
        premultiplied = jitter_colour(rgba[:, :3], self._tensor(scenes.object_colour[rows, slots]), alpha)
        cover = torch.zeros_like(image[:, :1])
        for slot in range(int(slots.max()) + 1):
            drawn = np.nonzero(slots == slot)[0]
            where, which = self._tensor(rows[drawn]), self._tensor(drawn)
            over = alpha[which]
            image[where] = image[where] * (1 - over) + premultiplied[which]
            cover[where] = cover[where] + over * (1 - cover[where])
        blurred = np.nonzero(scenes.blur)[0]
        if len(blurred):
            where = self._tensor(blurred)
            image[where] = gaussian_blur(image[where], self._tensor(scenes.blur[blurred]))
        normalised = image.sub_(self.mean).div_(self.std).contiguous(memory_format=torch.channels_last)
        return normalised, (cover >= MASK_THRESHOLD).float()
