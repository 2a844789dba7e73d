"""Read saliency datasets in DUTS layout: image/mask pairs matched by file stem.

Two layouts are accepted, both with one mask PNG per image, named after the image's stem:

* ours: ``root/Image/*.jpg|png`` and ``root/Mask/<stem>.png``;
* DUTS: ``root/<X>-Image`` and ``root/<X>-Mask`` (e.g. ``DUTS-TR/DUTS-TR-Image``), or ``root`` being the
  folder that holds ``DUTS-TR/``.

This module is torch-free (numpy and Pillow only) so the conformance gate and the trainers share it.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from pytest_tinyai.bounded_read import Refused, read_regular
from pytest_tinyai.tensor_contract import Normalisation

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png")
MASK_SUFFIX = ".png"
_SHOWN_STEMS = 5
# A fold can arrive in a pull request: its files are read as untrusted data, within these bounds.
MAX_SAMPLES = 50_000
MAX_FILE_BYTES = 64 * 1024 * 1024
MAX_IMAGE_PIXELS = 4096 * 4096


class DatasetLayoutError(ValueError):
    """A folder is not a dataset in DUTS layout; the message names the folder and what is wrong."""


@dataclass(frozen=True)
class Sample:
    """One image and its mask, paired by stem."""

    stem: str
    image_path: Path
    mask_path: Path


def _pair_dirs(folder: Path) -> list[tuple[Path, Path]]:
    """Image/mask folder pairs directly inside ``folder``: ``Image``+``Mask`` or ``<X>-Image``+``<X>-Mask``."""
    pairs = []
    for image_dir in sorted(p for p in folder.iterdir() if p.is_dir()):
        name = image_dir.name
        if name == "Image":
            pairs.append((image_dir, folder / "Mask"))
        elif name.endswith("-Image"):
            pairs.append((image_dir, folder / (name[: -len("Image")] + "Mask")))
    return pairs


def _locate(root: Path) -> tuple[Path, Path]:
    """Find the one image/mask folder pair in ``root`` or in one of its sub-folders."""
    pairs = _pair_dirs(root)
    if not pairs:
        children = sorted(p for p in root.iterdir() if p.is_dir())
        pairs = [pair for child in children for pair in _pair_dirs(child)]
    if not pairs:
        raise DatasetLayoutError(
            f"{root}: no image folder found; expected {root}/Image and {root}/Mask, "
            f"or <X>-Image and <X>-Mask (DUTS-TR layout), here or one level down"
        )
    if len(pairs) > 1:
        found = ", ".join(str(image_dir) for image_dir, _ in pairs)
        raise DatasetLayoutError(f"{root}: several image folders found ({found}); pass the one you mean")
    image_dir, mask_dir = pairs[0]
    if not mask_dir.is_dir():
        raise DatasetLayoutError(f"{image_dir.parent}: has {image_dir.name}/ but no {mask_dir.name}/ folder")
    return image_dir, mask_dir


def find_samples(root: str | Path) -> list[Sample]:
    """List the image/mask pairs of the dataset at ``root``, sorted by stem.

    Raises DatasetLayoutError when ``root`` is not a folder, holds no image folder (or several), the mask
    folder is missing, the image folder is empty, two images share a stem, or images lack masks.
    Masks without an image are ignored.
    """
    root = Path(root)
    if not root.is_dir():
        raise DatasetLayoutError(f"{root}: not a folder")
    image_dir, mask_dir = _locate(root)
    images: dict[str, Path] = {}
    for path in sorted(image_dir.iterdir()):
        if path.suffix.lower() not in IMAGE_SUFFIXES:
            continue
        if path.stem in images:
            raise DatasetLayoutError(f"{image_dir}: two images share the stem {path.stem!r}")
        images[path.stem] = path
    if not images:
        raise DatasetLayoutError(f"{image_dir}: no images ({', '.join(IMAGE_SUFFIXES)})")
    if len(images) > MAX_SAMPLES:
        raise DatasetLayoutError(f"{image_dir}: {len(images):,} images, over the cap of {MAX_SAMPLES:,}")
    inside = root.resolve()
    for path in [*images.values(), *(mask_dir / (stem + MASK_SUFFIX) for stem in images)]:
        if not path.resolve().is_relative_to(inside):
            raise DatasetLayoutError(f"{path}: leads outside the dataset folder {root}")
    missing = [stem for stem in images if not (mask_dir / (stem + MASK_SUFFIX)).is_file()]
    if missing:
        shown = ", ".join(missing[:_SHOWN_STEMS]) + (", ..." if len(missing) > _SHOWN_STEMS else "")
        raise DatasetLayoutError(
            f"{image_dir}: {len(missing)} of {len(images)} images have no mask <stem>{MASK_SUFFIX} "
            f"in {mask_dir}: {shown}"
        )
    return [Sample(stem, images[stem], mask_dir / (stem + MASK_SUFFIX)) for stem in sorted(images)]


@contextmanager
def open_image(path: str | Path) -> Iterator[Image.Image]:
    """Open an image file as untrusted data: a regular file (never a FIFO or device) of at most MAX_FILE_BYTES,
    whose header declares at most MAX_IMAGE_PIXELS, checked before anything is decoded.

    Raises DatasetLayoutError naming the file otherwise, and for files Pillow cannot identify.
    """
    try:
        data = read_regular(Path(path), MAX_FILE_BYTES, "image")
    except Refused as refused:
        raise DatasetLayoutError(f"{path}: {refused}") from None
    try:
        image = Image.open(io.BytesIO(data))
    except (OSError, Image.DecompressionBombError) as error:
        raise DatasetLayoutError(f"{path}: not a readable image ({error})") from None
    with image:
        width, height = image.size
        if width * height > MAX_IMAGE_PIXELS:
            raise DatasetLayoutError(f"{path}: {width}x{height} pixels, over the cap of {MAX_IMAGE_PIXELS:,}")
        yield image


def load_image(path: str | Path, size: tuple[int, int] | None = None) -> np.ndarray:
    """Load an image as RGB uint8, shape (H, W, 3); ``size`` is (width, height), resized bilinearly."""
    with open_image(path) as image:
        rgb = image.convert("RGB")
    if size is not None and rgb.size != tuple(size):
        rgb = rgb.resize(size, Image.Resampling.BILINEAR)
    return np.asarray(rgb, dtype=np.uint8)


def load_mask(path: str | Path, size: tuple[int, int] | None = None) -> np.ndarray:
    """Load a mask as float32 (H, W) in {0, 1}, binarised at > 0.5 of full scale (> 127 for 8-bit).

    ``size`` is (width, height); the grey mask is resized bilinearly before binarising.
    """
    grey = _grey(Path(path))
    if size is not None and grey.size != tuple(size):
        grey = grey.resize(size, Image.Resampling.BILINEAR)
    return (np.asarray(grey) > 127).astype(np.float32)


def _grey(path: Path) -> Image.Image:
    with open_image(path) as image:
        return image.convert("L")


def normalise(image: np.ndarray) -> np.ndarray:
    """Turn an RGB uint8 (H, W, 3) image into float32 (3, H, W), scaled to [0, 1] and ImageNet-normalised."""
    return np.ascontiguousarray(Normalisation().apply(image).transpose(2, 0, 1))


def content_hash(root: str | Path) -> str:
    """sha256 hex over the decoded pixels of all images and masks of ``root``, in sorted stem order.

    Each sample contributes its stem, the shapes and the raw decoded bytes (RGB image, 8-bit grey mask), so
    re-encoding a file losslessly keeps the hash while renaming, reordering or editing a sample changes it.
    """
    digest = hashlib.sha256()
    for sample in find_samples(root):
        rgb = load_image(sample.image_path)
        grey = np.asarray(_grey(sample.mask_path))
        digest.update(f"{sample.stem}\0{rgb.shape}\0{grey.shape}\0".encode())
        digest.update(rgb.tobytes())
        digest.update(grey.tobytes())
    return digest.hexdigest()
