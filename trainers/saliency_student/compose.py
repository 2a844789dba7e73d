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

import numpy as np
import torch

from pytest_tinyai.dataset import IMAGENET_MEAN, IMAGENET_STD
from trainers.corpus.pack_format import entries, load_pixels, read_manifest
from trainers.saliency_student.atlas import Atlas
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
        shape = (1, 3, 1, 1)
        self.mean = torch.tensor(IMAGENET_MEAN, device=self.device).view(shape)
        self.std = torch.tensor(IMAGENET_STD, device=self.device).view(shape)

    @classmethod
    def from_pack(cls, root: str | Path, split: str, device: torch.device | str = "cpu") -> Compositor:
        """The ``split`` ('train' or 'val') of the pack at ``root`` (files verified against the manifest)."""
        root = Path(root)
        manifest = read_manifest(root)
        cutouts = [_premultiplied(load_pixels(root, e, "objects")) for e in entries(manifest, "objects", split)]
        photos = [_channels_first(load_pixels(root, e, "backgrounds")) for e in entries(manifest, "backgrounds", split)]
        return cls(Atlas.from_images(cutouts).to(device), Atlas.from_images(photos).to(device))

    @property
    def object_sizes(self) -> np.ndarray:
        """(N, 2) (width, height) of the cut-outs, for :func:`~trainers.saliency_student.scene.draw_scenes`."""
        return self.objects.sizes.cpu().numpy()

    @property
    def background_sizes(self) -> np.ndarray:
        """(M, 2) (width, height) of the backgrounds."""
        return self.backgrounds.sizes.cpu().numpy()

    def _tensor(self, array: np.ndarray) -> torch.Tensor:
        return torch.from_numpy(array).to(self.device)

    def render(self, scenes: Scenes, size: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Images and masks of ``scenes`` at ``size`` x ``size`` px."""
        batch, slots = scenes.objects.shape
        image = self.backgrounds.sample(
            self._tensor(scenes.background), self._tensor(scenes.background_map), size, True
        )
        image = jitter_colour(image, self._tensor(scenes.background_colour))
        rgba = self.objects.sample(
            self._tensor(scenes.objects.reshape(-1)), self._tensor(scenes.object_map.reshape(-1, 4)), size
        ).view(batch, slots, 4, size, size)
        present = self._tensor(scenes.present).float().view(batch, slots, 1, 1, 1)
        colours = self._tensor(scenes.object_colour)
        cover = image.new_zeros((batch, 1, size, size))
        for slot in range(slots):
            alpha = rgba[:, slot, 3:] * present[:, slot]
            rgb = jitter_colour(rgba[:, slot, :3] / rgba[:, slot, 3:].clamp_min(1 / 255), colours[:, slot], alpha)
            image = image + (rgb - image) * alpha
            cover = cover + alpha * (1 - cover)
        image = gaussian_blur(image, self._tensor(scenes.blur))
        normalised = ((image - self.mean) / self.std).contiguous(memory_format=torch.channels_last)
        return normalised, (cover >= MASK_THRESHOLD).float()
