"""The training recipe and its profiles, as data.

``full`` is for one GPU: crop 256, batch 32, 50 epochs of 4,096 composites (204,800 images: 96 s at the
2,128 img/s that 0.8x of an H100's bare training step, 2,660 img/s, gives; not yet run on one). ``cpu`` is the recipe
that made the shipped students: crop 192 (objects at the gate's pixel size), batch 16, 20 epochs of 4,096
composites and 512 validation composites. ``benchmarks/trainer_throughput.py`` on this 2-core machine, quiet, 2
threads: 572 ms per v2 training step, 472 ms per validation batch, so about 54 min per model (86 min at the 32
epochs it had before; the shipped runs picked epochs 19 and 13 of 20, the runs before them 8 and 15 of 32).
``smoke`` runs the whole pipeline on a handful of images in seconds (tests, quick checks). ``auto`` (the CLI's
default) is ``full`` where CUDA is available and ``cpu`` elsewhere.

``average_last`` adds candidates to checkpoint selection: for each K, the mean of the last K epochs' weights, its
BatchNorm statistics re-estimated on the first ``bn_batches`` training batches of epoch 0; each is validated as
an epoch is, and the best of all is published. ``publish_mean_of`` (N > 0; the CLI's ``--publish-mean-of``)
publishes the mean of the last N epochs (all of them in a shorter run) whatever validation says: val scores it
beside the epochs, recorded, not deciding (no profile does: session 12's pre-registered trial,
``docs/student-experiments.md``).

On a source pack, ``samples_per_epoch`` composites are drawn per epoch and validation scores ``val_images``
eval-like composites of ``val_size`` px made from the pack's val split (objects and backgrounds training never
sees). On a folder of image/mask pairs, ``val_fraction`` (at least ``min_val_images``) of it is held out, and
training crops ``crop`` from images resized to a short side of ``crop + resize_margin``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class Recipe:
    """Hyper-parameters of one training run; ``batch_size`` is global (split across DDP processes)."""

    epochs: int
    batch_size: int
    crop: int
    samples_per_epoch: int = 4096
    val_images: int = 512
    val_size: int = 256
    resize_margin: int = 32
    lr: float = 1e-3
    seed: int = 42
    val_fraction: float = 0.05
    min_val_images: int = 64
    workers: int = 0
    loss: str = "bce+dice"
    optimiser: str = "adam"
    schedule: str = "cosine(T_max=epochs), per epoch"
    average_last: tuple[int, ...] = ()
    publish_mean_of: int = 0
    bn_batches: int = 64

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


PROFILES: dict[str, Recipe] = {
    "full": Recipe(epochs=50, batch_size=32, crop=256, workers=4),
    "cpu": Recipe(epochs=20, batch_size=16, crop=192, average_last=(4, 8, 12)),
    "smoke": Recipe(epochs=2, batch_size=4, crop=32, samples_per_epoch=8, val_images=4, val_size=32, min_val_images=2),
}
