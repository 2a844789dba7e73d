"""Batched photometric jitter on float RGB in [0, 1]: per-item brightness, contrast, saturation; per-image blur.

Brightness scales the values; contrast blends with the mean grey; saturation blends with the pixel's grey (ITU-R
601 luma), in that order, as Pillow's ImageEnhance does. All three are linear in the pixel, so each item's
jitter is one 3x3 colour matrix plus an offset, applied in one batched matmul: y = b c (s I + (1 - s) 1 L^T) x +
(1 - c) b m, with m the mean grey. Alpha-premultiplied input (an object's colour times its alpha) is jittered as
the colour would be, with the mean grey taken over the object: y_p = M x_p + t alpha. A factor of 1 leaves the
image as it was. The blur is a separable Gaussian with one sigma per image, run as one grouped convolution.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

LUMA = (0.299, 0.587, 0.114)
BLUR_RADIUS = 3


def jitter_colour(rgb: torch.Tensor, factors: torch.Tensor, alpha: torch.Tensor | None = None) -> torch.Tensor:
    """Scale brightness, contrast and saturation of each item of ``rgb`` (N, 3, H, W) by ``factors`` (N, 3).

    With ``alpha`` (N, 1, H, W), ``rgb`` is premultiplied by it and the result is too (clamped to [0, alpha]).
    """
    batch, _, height, width = rgb.shape
    flat = rgb.reshape(batch, 3, -1)
    brightness, contrast, saturation = (factors[:, i].to(rgb).view(-1, 1, 1) for i in range(3))
    luma = torch.tensor(LUMA, device=rgb.device, dtype=rgb.dtype)
    eye = torch.eye(3, device=rgb.device, dtype=rgb.dtype)
    matrix = brightness * contrast * (saturation * eye + (1 - saturation) * luma.expand(3, 3))
    total = torch.einsum("c,nci->n", luma, flat).view(-1, 1, 1)
    if alpha is None:
        offset = (1 - contrast) * brightness * total / (height * width)
        return (torch.bmm(matrix, flat) + offset).clamp(0, 1).view_as(rgb)
    coverage = alpha.reshape(batch, 1, -1)
    offset = (1 - contrast) * brightness * total / coverage.sum(2, keepdim=True).clamp_min(1e-6)
    return torch.minimum(torch.baddbmm(offset * coverage, matrix, flat).clamp_min(0), coverage).view_as(rgb)


def gaussian_blur(images: torch.Tensor, sigma: torch.Tensor) -> torch.Tensor:
    """Blur each image of ``images`` (B, C, H, W) with its own Gaussian ``sigma`` (B,) in pixels; 0 keeps it."""
    batch, channels, height, width = images.shape
    taps = torch.arange(-BLUR_RADIUS, BLUR_RADIUS + 1, device=images.device, dtype=images.dtype)
    kernel = torch.exp(-(taps**2) / (2 * sigma.to(images).clamp_min(1e-3)[:, None] ** 2))
    kernel = (kernel / kernel.sum(1, keepdim=True)).repeat_interleave(channels, 0)
    flat = F.pad(images.reshape(1, batch * channels, height, width), [BLUR_RADIUS] * 4, mode="reflect")
    flat = F.conv2d(flat, kernel.view(-1, 1, 1, len(taps)), groups=batch * channels)
    flat = F.conv2d(flat, kernel.view(-1, 1, len(taps), 1), groups=batch * channels)
    return flat.view(batch, channels, height, width)
