"""Images of different sizes held as one float texture per mip level and sampled in batches with ``grid_sample``.

Entries are stacked top to bottom, two zero rows and columns apart, into a (1, C, H, W) tensor per level
(level l is each entry downscaled by 2**l with area averaging). A batch item names an entry and an
axis-aligned map from output pixels to source pixels: output pixel (i, j) samples source point
``(x0 + step_x * (j + 0.5), y0 + step_y * (i + 0.5))`` in level-0 pixel units (a negative ``step_x`` mirrors).
Each item reads the coarsest level that keeps its step below 2 source pixels, so downscaling up to 2**levels
does not alias. One ``grid_sample`` call per level serves the whole batch (its cost follows the output, not the
atlas), on CPU and CUDA alike. Points outside an entry read zero, or with ``clamp`` its nearest edge pixel.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

GAP = 2
OUTSIDE = 4.0  # a normalised grid coordinate beyond the texture (which spans [-1, 1])


def to_device(tensor: torch.Tensor, device: torch.device) -> torch.Tensor:
    """``tensor`` (on the CPU) on ``device``; to a GPU through pinned memory without waiting for queued work."""
    if device.type != "cuda":
        return tensor.to(device)
    return tensor.pin_memory().to(device, non_blocking=True)


def _stacked(images: Sequence[torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
    """One (1, C, H, W) texture holding ``images`` (each (C, h, w)) top to bottom, and each one's top row."""
    width = max(image.shape[2] for image in images) + GAP
    tops = np.cumsum([0] + [image.shape[1] + GAP for image in images])
    texture = images[0].new_zeros((1, images[0].shape[0], int(tops[-1]), width))
    for image, top in zip(images, tops[:-1], strict=True):
        texture[0, :, top : top + image.shape[1], : image.shape[2]] = image
    return texture, torch.as_tensor(tops[:-1], dtype=torch.float32)


@dataclass
class Atlas:
    """Mip levels of a set of images; ``sizes`` (N, 2) holds each entry's level-0 (width, height)."""

    textures: list[torch.Tensor]
    tops: list[torch.Tensor]
    level_sizes: list[torch.Tensor]

    @classmethod
    def from_images(cls, images: Sequence[torch.Tensor], levels: int = 2) -> Atlas:
        """An atlas of float (C, H, W) images with ``levels`` mip levels."""
        level = list(images)
        textures, tops, sizes = [], [], []
        for _ in range(levels):
            texture, top = _stacked(level)
            textures.append(texture)
            tops.append(top)
            sizes.append(torch.tensor([[image.shape[2], image.shape[1]] for image in level], dtype=torch.float32))
            level = [
                F.interpolate(
                    image[None], size=(math.ceil(image.shape[1] / 2), math.ceil(image.shape[2] / 2)), mode="area"
                )[0]
                for image in level
            ]
        return cls(textures, tops, sizes)

    @property
    def sizes(self) -> torch.Tensor:
        return self.level_sizes[0]

    def __len__(self) -> int:
        return len(self.sizes)

    def to(self, device: torch.device | str) -> Atlas:
        return Atlas(*([t.to(device) for t in tensors] for tensors in (self.textures, self.tops, self.level_sizes)))

    def sample(self, ids: torch.Tensor, maps: torch.Tensor, size: int, clamp: bool = False) -> torch.Tensor:
        """(M, C, size, size) samples of entries ``ids`` (M,) through ``maps`` (M, 4): x0, y0, step_x, step_y.

        ``ids`` and ``maps`` are CPU tensors (scenes are drawn there), so grouping by level never waits on a GPU.
        """
        device = self.textures[0].device
        maps = maps.float()
        levels = torch.log2(maps[:, 2:].abs().amax(1).clamp_min(1)).floor().clamp_max(len(self.textures) - 1).long()
        groups = [(level, (levels == level).nonzero().squeeze(1)) for level in levels.unique().tolist()]
        if len(groups) == 1:
            return self._sample_level(groups[0][0], to_device(ids, device), to_device(maps, device), size, clamp)
        out = self.textures[0].new_empty((len(ids), self.textures[0].shape[1], size, size))
        for level, chosen in groups:
            sampled = self._sample_level(
                level, to_device(ids[chosen], device), to_device(maps[chosen], device), size, clamp
            )
            out.index_copy_(0, to_device(chosen, device), sampled)
        return out

    def _sample_level(self, level: int, ids: torch.Tensor, maps: torch.Tensor, size: int, clamp: bool) -> torch.Tensor:
        texture = self.textures[level]
        full, own = self.level_sizes[0][ids], self.level_sizes[level][ids]
        centres = torch.arange(size, device=texture.device, dtype=torch.float32) + 0.5
        # source coordinates in this level's pixels: x (M, size) along a row, y (M, size) down a column
        x = (maps[:, :1] + maps[:, 2:3] * centres) * (own[:, :1] / full[:, :1])
        y = (maps[:, 1:2] + maps[:, 3:4] * centres) * (own[:, 1:] / full[:, 1:])
        height, width = texture.shape[2:]
        if clamp:
            x = torch.minimum(x.clamp_min(0.5), own[:, :1] - 0.5)
            y = torch.minimum(y.clamp_min(0.5), own[:, 1:] - 0.5)
        gx = 2 * x / width - 1
        gy = 2 * (y + self.tops[level][ids][:, None]) / height - 1
        if not clamp:  # a point outside its entry reads the zero padding beyond the texture
            gx = gx.masked_fill((x < 0) | (x >= own[:, :1]), OUTSIDE)
            gy = gy.masked_fill((y < 0) | (y >= own[:, 1:]), OUTSIDE)
        grid = torch.stack(torch.broadcast_tensors(gx[:, None, :], gy[:, :, None]), dim=-1)
        sampled = F.grid_sample(texture, grid.reshape(1, -1, size, 2), mode="bilinear", align_corners=False)
        return sampled.view(texture.shape[1], len(ids), size, size).transpose(0, 1)
