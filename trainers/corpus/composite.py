"""Paste cut-outs onto a background crop: one 256x256 RGB image and its exact mask, from a seeded generator.

Background: a random square crop (30-100 % of the short side) resized to the canvas, randomly flipped (a
photograph with transparency is first cut to its opaque part, ``opaque_photograph``).
Each object: cropped to its alpha box (done once, by ``crop_to_alpha``), randomly flipped, resized so its long
side is 35-85 % of the canvas, placed fully inside the frame and alpha-composited over what is there.
Mask: the accumulated alpha >= 128 (for one object exactly its alpha >= 128), stored as {0, 255}.
With ``jitter`` > 0, brightness, contrast and saturation of the background and of each object are scaled by
independent factors drawn from [1 - jitter, 1 + jitter].
"""

from __future__ import annotations

from typing import Any

import numpy as np
from PIL import Image, ImageEnhance

CANVAS = 256
CROP_RANGE = (0.3, 1.0)
LONG_SIDE_RANGE = (0.35, 0.85)
MASK_THRESHOLD = 128
_ENHANCERS = (ImageEnhance.Brightness, ImageEnhance.Contrast, ImageEnhance.Color)


def crop_to_alpha(image: Image.Image) -> Image.Image:
    """The RGBA image cropped to the bounding box of its non-zero alpha."""
    rgba = image.convert("RGBA")
    box = rgba.getchannel("A").getbbox()
    return rgba.crop(box) if box else rgba


def opaque_photograph(image: Image.Image) -> Image.Image:
    """The RGB photograph; one with transparency cropped to its tallest band of fully opaque rows.

    Panorama strips (the ground under a transparent sky) become the ground alone: no invented sky, and no
    colour of the transparent pixels leaks in. An image without a fully opaque row is no photograph to use.
    """
    if "A" not in image.getbands() and "transparency" not in image.info:
        return image.convert("RGB")
    opaque = (np.asarray(image.convert("RGBA").getchannel("A")) == 255).all(axis=1)
    edges = np.flatnonzero(np.diff(np.concatenate(([0], opaque.astype(np.int8), [0]))))
    if edges.size == 0:
        raise ValueError("no row of the image is fully opaque")
    starts, stops = edges[::2], edges[1::2]
    tallest = int(np.argmax(stops - starts))
    return image.crop((0, int(starts[tallest]), image.width, int(stops[tallest]))).convert("RGB")


def _jittered(rgb: Image.Image, rng: np.random.Generator, jitter: float) -> tuple[Image.Image, list[float]]:
    """Scale brightness, contrast and saturation of an RGB image by random factors; return them too."""
    factors = [round(float(rng.uniform(1 - jitter, 1 + jitter)), 4) for _ in _ENHANCERS]
    for enhancer, factor in zip(_ENHANCERS, factors, strict=True):
        rgb = enhancer(rgb).enhance(factor)
    return rgb, factors


def _background(source: Image.Image, rng: np.random.Generator, jitter: float) -> tuple[Image.Image, dict[str, Any]]:
    """Random square crop of ``source`` resized to the canvas, maybe flipped and jittered."""
    width, height = source.size
    side = max(1, round(float(rng.uniform(*CROP_RANGE)) * min(width, height)))
    left = int(rng.integers(0, width - side + 1))
    top = int(rng.integers(0, height - side + 1))
    flip = bool(rng.random() < 0.5)
    canvas = source.convert("RGB").resize(
        (CANVAS, CANVAS), Image.Resampling.LANCZOS, box=(left, top, left + side, top + side), reducing_gap=3.0
    )
    if flip:
        canvas = canvas.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    record: dict[str, Any] = {"crop": [left, top, side], "flip": flip}
    if jitter > 0:
        canvas, record["jitter"] = _jittered(canvas, rng, jitter)
    return canvas, record


def _placed_object(cutout: Image.Image, rng: np.random.Generator, jitter: float) -> tuple[Image.Image, dict[str, Any]]:
    """Flip, jitter and resize an RGBA cut-out; choose where it goes; ``box`` is [left, top, right, bottom]."""
    flip = bool(rng.random() < 0.5)
    if flip:
        cutout = cutout.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    long_side = round(float(rng.uniform(*LONG_SIDE_RANGE)) * CANVAS)
    scale = long_side / max(cutout.size)
    size = (max(1, round(cutout.width * scale)), max(1, round(cutout.height * scale)))
    resized = cutout.resize(size, Image.Resampling.LANCZOS)
    left = int(rng.integers(0, CANVAS - size[0] + 1))
    top = int(rng.integers(0, CANVAS - size[1] + 1))
    record: dict[str, Any] = {"box": [left, top, left + size[0], top + size[1]], "flip": flip}
    if jitter > 0:
        rgb, record["jitter"] = _jittered(resized.convert("RGB"), rng, jitter)
        rgb.putalpha(resized.getchannel("A"))
        resized = rgb
    return resized, record


def compose(
    background: Image.Image, cutouts: list[Image.Image], rng: np.random.Generator, jitter: float = 0.0
) -> tuple[np.ndarray, np.ndarray, dict[str, Any]]:
    """Composite ``cutouts`` (in order, later ones on top) over a crop of ``background``.

    Returns the RGB uint8 image (H, W, 3), the mask uint8 (H, W) in {0, 255}, and a record of the random
    choices: ``{"background": {...}, "objects": [{...}, ...]}``.
    """
    canvas_image, background_record = _background(background, rng, jitter)
    canvas = np.asarray(canvas_image, dtype=np.float32).copy()
    coverage = np.zeros((CANVAS, CANVAS), dtype=np.float32)
    object_records = []
    for cutout in cutouts:
        placed, record = _placed_object(cutout, rng, jitter)
        left, top, right, bottom = record["box"]
        pixels = np.asarray(placed, dtype=np.float32)
        alpha = pixels[..., 3]
        region = canvas[top:bottom, left:right]
        region += (pixels[..., :3] - region) * (alpha[..., None] / 255)
        cover = coverage[top:bottom, left:right]
        cover += alpha * (1 - cover / 255)
        object_records.append(record)
    image = np.clip(np.rint(canvas), 0, 255).astype(np.uint8)
    mask = np.where(coverage >= MASK_THRESHOLD, 255, 0).astype(np.uint8)
    return image, mask, {"background": background_record, "objects": object_records}
