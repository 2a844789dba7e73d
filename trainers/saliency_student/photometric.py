"""Batched photometric jitter on float RGB in [0, 1]: per-item brightness, contrast, saturation; per-image blur.

Brightness scales the values; contrast blends with the (alpha-weighted) mean grey; saturation blends with the
pixel's grey (ITU-R 601 luma), as Pillow's ImageEnhance does. A factor of 1 leaves the image as it was.
The blur is a separable Gaussian with one sigma per image (0: none), run as one grouped convolution.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

LUMA = (0.299, 0.587, 0.114)
BLUR_RADIUS = 3


def grey(rgb: torch.Tensor) -> torch.Tensor:
    """(N, 1, H, W) luma of (N, 3, H, W) RGB."""
    weights = torch.tensor(LUMA, device=rgb.device, dtype=rgb.dtype).view(1, 3, 1, 1)
    return (rgb * weights).sum(1, keepdim=True)


def jitter_colour(rgb: torch.Tensor, factors: torch.Tensor, weight: torch.Tensor | None = None) -> torch.Tensor:
    """Scale brightness, contrast and saturation of each item of ``rgb`` (N, 3, H, W) by ``factors`` (N, 3).

    ``weight`` (N, 1, H, W), e.g. an object's alpha, restricts the mean grey the contrast pivots on.
    """
    brightness, contrast, saturation = (factors[:, i].view(-1, 1, 1, 1) for i in range(3))
    rgb = rgb * brightness
    luma = grey(rgb)
    if weight is None:
        mean = luma.mean((2, 3), keepdim=True)
    else:
        mean = (luma * weight).sum((2, 3), keepdim=True) / weight.sum((2, 3), keepdim=True).clamp_min(1e-6)
    rgb = mean + (rgb - mean) * contrast
    luma = grey(rgb)
    return (luma + (rgb - luma) * saturation).clamp(0, 1)


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
