"""Tiny generated saliency datasets (our Image/Mask layout) for the trainer tests."""

from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from source_pack_fixtures import write_source_pack


def write_dataset(root: Path, n: int, size: tuple[int, int] = (48, 40), seed: int = 0) -> Path:
    """``n`` noisy images (width, height = ``size``) each with a bright ellipse, and its mask."""
    rng = np.random.default_rng(seed)
    (root / "Image").mkdir(parents=True)
    (root / "Mask").mkdir()
    width, height = size
    yy, xx = np.mgrid[:height, :width]
    for i in range(n):
        cy, cx = rng.uniform(0.3, 0.7) * height, rng.uniform(0.3, 0.7) * width
        ry, rx = rng.uniform(0.15, 0.3) * height, rng.uniform(0.15, 0.3) * width
        inside = ((yy - cy) / ry) ** 2 + ((xx - cx) / rx) ** 2 <= 1
        image = rng.integers(0, 120, (height, width, 3))
        image[inside] = rng.integers(150, 255, 3)
        Image.fromarray(image.astype(np.uint8)).save(root / "Image" / f"s{i:03d}.png")
        Image.fromarray((inside * 255).astype(np.uint8)).save(root / "Mask" / f"s{i:03d}.png")
    return root


@pytest.fixture(scope="session")
def tiny_dataset(tmp_path_factory) -> Path:
    """Twelve 48x40 images: enough for a 2-image validation split and a few batches of 4 at crop 32."""
    return write_dataset(tmp_path_factory.mktemp("tiny") / "data", 12)


@pytest.fixture(scope="session")
def tiny_pack(tmp_path_factory) -> Path:
    """A source pack of twelve generated cut-outs and eight backgrounds (train and val splits non-empty)."""
    return write_source_pack(tmp_path_factory.mktemp("pack"))
