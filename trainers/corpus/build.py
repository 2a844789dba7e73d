"""Write one fold in DUTS layout (Image/*.jpg, Mask/*.png) plus meta.json, NOTICE and CONTENT_SHA256.

Every image has its own generator, seeded from (seed, fold name, image index), so the output does not depend
on the number of worker processes, and the same inputs and seed give byte-identical files. The fold is
written to ``<fold>.partial`` and renamed into place at the end, meta.json being the last file written.
"""

from __future__ import annotations

import io
import json
import multiprocessing
import shutil
import statistics
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import PIL
from PIL import Image
from tqdm import tqdm

from pytest_tinyai.dataset import content_hash
from trainers.corpus.composite import CANVAS, compose, crop_to_alpha, opaque_photograph
from trainers.corpus.notice import notice_text
from trainers.corpus.sources import Source

JPEG_QUALITY = 95
FORMAT = "tinyai-saliency-corpus/1"


@dataclass(frozen=True)
class FoldPlan:
    """What to build: the fold's name, size and seed, its sources, and how varied its images are."""

    name: str
    count: int
    seed: int
    objects: list[Source]
    backgrounds: list[Source]
    max_objects: int = 1
    jitter: float = 0.0
    packages: dict[str, dict[str, str]] = field(default_factory=dict)


class _Renderer:
    """Per-process state: the fold's cut-outs (decoded once) and a cache of decoded backgrounds."""

    def __init__(self, plan: FoldPlan) -> None:
        self.plan = plan
        self.cutouts = [crop_to_alpha(Image.open(source.file)) for source in plan.objects]
        self.backgrounds: dict[int, Image.Image] = {}

    def background(self, index: int) -> Image.Image:
        if index not in self.backgrounds:
            with Image.open(self.plan.backgrounds[index].file) as image:
                self.backgrounds[index] = opaque_photograph(image)
        return self.backgrounds[index]

    def render(self, index: int) -> tuple[bytes, bytes, dict[str, Any]]:
        """Encoded JPEG image, PNG mask and the meta.json record of image ``index``."""
        plan = self.plan
        rng = np.random.default_rng([plan.seed, zlib.crc32(plan.name.encode()), index])
        count = int(rng.integers(1, min(plan.max_objects, len(plan.objects)) + 1))
        first = index % len(plan.objects)
        others = [i for i in range(len(plan.objects)) if i != first]
        chosen = [first, *(int(i) for i in rng.choice(others, size=count - 1, replace=False))]
        background = int(rng.integers(len(plan.backgrounds)))
        image, mask, layout = compose(self.background(background), [self.cutouts[i] for i in chosen], rng, plan.jitter)
        record = {
            "stem": stem_of(plan.name, index),
            "background": {**_short_reference(plan.backgrounds[background]), **layout["background"]},
            "objects": [
                {**_short_reference(plan.objects[i]), **placed}
                for i, placed in zip(chosen, layout["objects"], strict=True)
            ],
            "foreground_fraction": round(float((mask > 0).mean()), 4),
        }
        return _encode(image, "JPEG"), _encode(mask, "PNG"), record


_RENDERER: _Renderer | None = None


def _init_worker(plan: FoldPlan) -> None:
    global _RENDERER
    _RENDERER = _Renderer(plan)


def _render_in_worker(index: int) -> tuple[bytes, bytes, dict[str, Any]]:
    assert _RENDERER is not None, "worker not initialised"
    return _RENDERER.render(index)


def stem_of(fold: str, index: int) -> str:
    """File stem of image ``index`` of ``fold``; zero-padded so sorted stems follow the index."""
    return f"{fold}_{index:05d}"


def _short_reference(source: Source) -> dict[str, str]:
    return {"path": source.path, "license": source.license}


def _encode(pixels: np.ndarray, fmt: str) -> bytes:
    buffer = io.BytesIO()
    if fmt == "JPEG":
        Image.fromarray(pixels).save(buffer, "JPEG", quality=JPEG_QUALITY, subsampling="4:2:0")
    else:
        Image.fromarray(pixels).save(buffer, "PNG")
    return buffer.getvalue()


def _rendered(plan: FoldPlan, workers: int) -> Iterator[tuple[bytes, bytes, dict[str, Any]]]:
    """Render all images in index order, in ``workers`` processes (in this one when ``workers`` is 1)."""
    if workers <= 1:
        renderer = _Renderer(plan)
        yield from (renderer.render(index) for index in range(plan.count))
        return
    with multiprocessing.get_context().Pool(workers, initializer=_init_worker, initargs=(plan,)) as pool:
        yield from pool.imap(_render_in_worker, range(plan.count), chunksize=16)


def summarise(fractions: list[float]) -> dict[str, float]:
    """min, quartiles, max and mean of the foreground fractions."""
    q1, median, q3 = statistics.quantiles(fractions, n=4) if len(fractions) > 1 else fractions * 3
    return {
        "min": min(fractions),
        "q1": round(q1, 4),
        "median": round(median, 4),
        "q3": round(q3, 4),
        "max": max(fractions),
        "mean": round(statistics.fmean(fractions), 4),
    }


def replace_folder(partial: Path, final: Path, marker: str = "meta.json", what: str = "a corpus fold") -> None:
    """Move a finished build into place, replacing an earlier one (it holds ``marker``) but never another folder."""
    if final.exists():
        if not (final / marker).is_file() and any(final.iterdir()):
            raise FileExistsError(f"{final}: exists and is not {what} (no {marker}); not replacing it")
        shutil.rmtree(final)
    partial.rename(final)


def build_fold(plan: FoldPlan, out: Path, workers: int = 1) -> dict[str, Any]:
    """Build ``out/<plan.name>`` and return its meta.json content."""
    if not plan.objects or not plan.backgrounds:
        raise ValueError(f"fold {plan.name!r} has {len(plan.objects)} objects, {len(plan.backgrounds)} backgrounds")
    final = out / plan.name
    partial = out / f"{plan.name}.partial"
    shutil.rmtree(partial, ignore_errors=True)
    (partial / "Image").mkdir(parents=True)
    (partial / "Mask").mkdir()
    records = []
    progress = tqdm(_rendered(plan, workers), total=plan.count, desc=f"fold {plan.name}", unit="img")
    for jpeg, png, record in progress:
        (partial / "Image" / f"{record['stem']}.jpg").write_bytes(jpeg)
        (partial / "Mask" / f"{record['stem']}.png").write_bytes(png)
        records.append(record)
    digest = content_hash(partial)
    meta = {
        "format": FORMAT,
        "fold": plan.name,
        "seed": plan.seed,
        "count": plan.count,
        "image_size": CANVAS,
        "objects_per_image": [1, plan.max_objects],
        "colour_jitter": plan.jitter,
        "content_sha256": digest,
        "versions": {"pillow": PIL.__version__, "numpy": np.__version__},
        "packages": plan.packages,
        "foreground_fraction": summarise([record["foreground_fraction"] for record in records]),
        "objects": [source.reference() for source in plan.objects],
        "backgrounds": [source.reference() for source in plan.backgrounds],
        "images": records,
    }
    (partial / "NOTICE").write_text(notice_text(meta), encoding="utf-8")
    (partial / "CONTENT_SHA256").write_text(digest + "\n")
    (partial / "meta.json").write_text(json.dumps(meta, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    replace_folder(partial, final)
    return meta
