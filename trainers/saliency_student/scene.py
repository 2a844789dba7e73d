"""What each composite shows, drawn from a generator seeded by (seed, epoch, index): the per-image random choices.

The defaults centre on how the gate's eval fold ``model/tiny/folds/saliency-eval-v1`` shows objects, measured
from its meta.json (300 images, 256x256, one object each): the object's long side is uniform in 35-85 % of
the frame (measured: min 0.352, quartiles 0.469 / 0.590 / 0.704, max 0.848; 90 to 218 px), its box covers 3.6-65 %
of the frame (median 22 %), its foreground 1.3-50 % (quartiles 7.3 / 11.4 / 17.6 %, mean 14 %), and the background
is a square crop of 30-100 % of the photograph's short side. Training draws the long side the same way in
pixels of that 256 reference frame, then scales it by a log-uniform factor in [1/scale_jitter, scale_jitter]
(with 1.3: 27-110 % of 256 px); a ``canvas`` smaller than ``reference`` is a window of the reference frame, so
objects keep the gate's pixel size at any crop. Up to ``max_objects`` distinct cut-outs are drawn (k of them
with probability proportional to ``count_decay`` ** (k - 1), so one object is the most common), later ones
partly covering earlier ones; each may overhang the frame by ``overhang`` of its size; background and objects
are mirrored at random and their brightness, contrast and saturation scaled by factors in [1 - j, 1 + j]; with
``blur_probability`` the image is blurred (Gaussian, sigma in ``blur_sigma`` px). :func:`eval_like` is the eval
fold's own process (one object inside the frame, no jitter, no blur), used for honest validation.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class SceneConfig:
    """The distribution composites are drawn from; sizes in pixels of the rendered ``canvas``."""

    canvas: int = 256
    reference: int = 256
    max_objects: int = 3
    count_decay: float = 0.5
    long_side: tuple[float, float] = (0.35, 0.85)
    scale_jitter: float = 1.3
    background_crop: tuple[float, float] = (0.3, 1.0)
    overhang: float = 0.15
    colour_jitter: float = 0.2
    blur_probability: float = 0.3
    blur_sigma: tuple[float, float] = (0.4, 1.2)


def eval_like(size: int = 256) -> SceneConfig:
    """The eval fold's process, whole frames of ``size`` px: one object fully inside, no jitter, no blur."""
    return SceneConfig(
        canvas=size,
        reference=size,
        max_objects=1,
        scale_jitter=1.0,
        overhang=0.0,
        colour_jitter=0.0,
        blur_probability=0.0,
    )


@dataclass(frozen=True)
class Scenes:
    """The random choices of a batch of B composites with up to K objects each.

    A map is (x0, y0, step_x, step_y): output pixel (i, j) shows source point (x0 + step_x (j + .5),
    y0 + step_y (i + .5)) in pixels of the pack's image (see :class:`~trainers.saliency_student.atlas.Atlas`).
    """

    background: np.ndarray  # (B,) int64 background index
    background_map: np.ndarray  # (B, 4) float32
    background_colour: np.ndarray  # (B, 3) float32 brightness, contrast, saturation factors
    objects: np.ndarray  # (B, K) int64 object index
    object_map: np.ndarray  # (B, K, 4) float32
    object_colour: np.ndarray  # (B, K, 3) float32
    present: np.ndarray  # (B, K) bool: slot k holds an object
    blur: np.ndarray  # (B,) float32 sigma in px, 0 for none


def _map(rng: np.random.Generator, x0: float, y0: float, step: float, centre: float) -> list[float]:
    """The map reading ``step`` source px per output px from (x0, y0); half the time mirrored about x = ``centre``."""
    return [2 * centre - x0, y0, -step, step] if rng.random() < 0.5 else [x0, y0, step, step]


def _colour(rng: np.random.Generator, jitter: float) -> list[float]:
    return rng.uniform(1 - jitter, 1 + jitter, 3).tolist()


def _background(rng: np.random.Generator, config: SceneConfig, size: np.ndarray) -> list[float]:
    width, height = (float(v) for v in size)
    side = rng.uniform(*config.background_crop) * min(width, height) * config.canvas / config.reference
    side = min(side, width, height)
    left, top = rng.uniform(0, width - side), rng.uniform(0, height - side)
    return _map(rng, left, top, side / config.canvas, left + side / 2)


def _place(rng: np.random.Generator, extent: float, config: SceneConfig) -> float:
    """Offset of an object of ``extent`` px along one axis: inside the frame but for ``overhang`` of it."""
    low, high = -config.overhang * extent, config.canvas - (1 - config.overhang) * extent
    return rng.uniform(min(low, high), max(low, high))


def _object(rng: np.random.Generator, config: SceneConfig, size: np.ndarray) -> list[float]:
    width, height = (float(v) for v in size)
    jitter = math.log(config.scale_jitter)
    long_side = rng.uniform(*config.long_side) * config.reference * math.exp(rng.uniform(-jitter, jitter))
    scale = long_side / max(width, height)
    left, top = _place(rng, width * scale, config), _place(rng, height * scale, config)
    # output pixel u shows source x = (u - left) / scale; mirroring keeps the object where it is
    return _map(rng, -left / scale, -top / scale, 1 / scale, width / 2)


def draw_scenes(
    config: SceneConfig,
    seed: int,
    epoch: int,
    indices: Sequence[int],
    object_sizes: np.ndarray,
    background_sizes: np.ndarray,
) -> Scenes:
    """The scenes of images ``indices`` of ``epoch``; each depends on (seed, epoch, index) only.

    ``object_sizes`` (N, 2) and ``background_sizes`` (M, 2) are the pack images' (width, height).
    """
    slots = min(config.max_objects, len(object_sizes))
    rows: dict[str, list] = {name: [] for name in Scenes.__dataclass_fields__}
    weights = config.count_decay ** np.arange(slots)
    count_odds = weights / weights.sum()
    for index in indices:
        rng = np.random.default_rng((seed, epoch, index))
        background = int(rng.integers(len(background_sizes)))
        rows["background"].append(background)
        rows["background_map"].append(_background(rng, config, background_sizes[background]))
        rows["background_colour"].append(_colour(rng, config.colour_jitter))
        count = int(rng.choice(slots, p=count_odds)) + 1
        chosen = rng.permutation(len(object_sizes))[:slots]
        rows["objects"].append(chosen)
        rows["object_map"].append([_object(rng, config, object_sizes[i]) for i in chosen])
        rows["object_colour"].append([_colour(rng, config.colour_jitter) for _ in chosen])
        rows["present"].append(np.arange(slots) < count)
        blurred = rng.random() < config.blur_probability
        rows["blur"].append(rng.uniform(*config.blur_sigma) if blurred else 0.0)
    types = {"background": np.int64, "objects": np.int64, "present": bool}
    return Scenes(**{name: np.asarray(values, dtype=types.get(name, np.float32)) for name, values in rows.items()})
