"""The training recipe and its profiles, as data.

``full`` is the recipe as written (meant for a GPU); ``cpu`` is the same recipe cut down to fit a 2-core
machine in about 15 minutes per model (smaller crops and batches, fewer epochs), measured on one;
``smoke`` runs the whole pipeline on a handful of images in seconds (tests, quick checks).
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
    resize_margin: int = 32
    lr: float = 1e-3
    seed: int = 42
    val_fraction: float = 0.05
    min_val_images: int = 64
    workers: int = 0
    loss: str = "bce+dice"
    optimiser: str = "adam"
    schedule: str = "cosine(T_max=epochs), per epoch"

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


PROFILES: dict[str, Recipe] = {
    "full": Recipe(epochs=50, batch_size=32, crop=256, workers=4),
    "cpu": Recipe(epochs=12, batch_size=16, crop=128),
    "smoke": Recipe(epochs=2, batch_size=4, crop=32, min_val_images=2),
}
