"""IoU@0.5 of a registry's saliency models on a held-out fold at several square sizes, with a reference's delta.

    python benchmarks/eval_scales.py model/tiny/registry.json [--fold DIR] [--sizes 128 160 256 384] \\
        [--reference upstream.onnx] [--threads 2] [--errors]

Images and masks are resized to each size by :func:`pytest_tinyai.fold_eval.evaluate_fold` (the gate's reader and
metric, bilinear, masks binarised after resizing) and run through onnxruntime on the CPU. A model is scored
when it is not a smoke model and its sidecar's `tinyai` blocks declare the saliency role or a mean-IoU gate. With
``--reference`` the reference ONNX is scored too and every cell shows the model's delta to it and that delta's 95 %
interval from a paired bootstrap over the fold's images (a delta whose interval holds 0 is not shown to be one).
With ``--errors`` a second table says where the pixels go wrong, pooled over the fold (:class:`ErrorShares`):
hits, missed object, false positives near the object (a halo: the edge is off) and far from it (the model
takes part of the background for an object).
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import numpy as np
import onnxruntime as ort

from pytest_tinyai.fold_eval import FoldScore, evaluate_fold, session_runner
from pytest_tinyai.metrics import foreground
from pytest_tinyai.ort_sandbox import session_options
from pytest_tinyai.paired import bootstrap_interval
from pytest_tinyai.registry import load_registry
from pytest_tinyai.sidecar import namespace
from pytest_tinyai.strict_json import JsonProblem, load_json_file
from pytest_tinyai.trust import confined

DEFAULT_SIZES = (128, 160, 256, 384)
DEFAULT_FOLD = "folds/saliency-eval-v1"
BOOTSTRAP_ROUNDS = 5000
NEAR_FRACTION = 1 / 64  # a false positive within this share of the image's width of the object is "near" it


def near_radius(size: int) -> int:
    """How close to the object (px) a false positive in a ``size``-wide image is "near" it."""
    return max(2, round(size * NEAR_FRACTION))


def dilated(mask: np.ndarray, radius: int) -> np.ndarray:
    """``mask`` (H, W) bool grown by ``radius`` px in every direction (a square structuring element)."""
    window = 2 * radius + 1
    grown = np.pad(mask, radius)
    for axis in (0, 1):
        grown = np.lib.stride_tricks.sliding_window_view(grown, window, axis=axis).max(-1)
    return grown


@dataclass
class ErrorShares:
    """Pixel counts pooled over a fold: hits (predicted and true), missed (true only), and false positives within
    ``radius`` px of the object (near) or farther (far)."""

    hit: int = 0
    missed: int = 0
    near: int = 0
    far: int = 0

    def add(self, prob: np.ndarray, mask: np.ndarray, radius: int) -> None:
        """Count one image's pixels, thresholded as the IoU is (:func:`pytest_tinyai.metrics.foreground`)."""
        predicted, true = foreground(prob, mask)
        false = predicted & ~true
        close = dilated(true, radius)
        self.hit += int((predicted & true).sum())
        self.missed += int((true & ~predicted).sum())
        self.near += int((false & close).sum())
        self.far += int((false & ~close).sum())

    def shares(self) -> tuple[float, float, float, float]:
        """Each count's share of their sum (the union of predicted and true foreground)."""
        total = max(self.hit + self.missed + self.near + self.far, 1)
        return self.hit / total, self.missed / total, self.near / total, self.far / total


def saliency_models(registry: Path) -> dict[str, Path]:
    """Model id -> ONNX path of the registry's scored models (see the module docstring)."""
    models = {}
    for entry in load_registry(registry).entries:
        if entry.smoke or entry.problems:
            continue
        onnx_path = confined(entry.folder, entry.raw["onnx"], f"{entry.id} onnx")
        try:
            sidecar = load_json_file(onnx_path.with_suffix(".json"), f"{entry.id} sidecar")
        except JsonProblem:
            continue
        blocks = namespace(sidecar)
        metric = (blocks.get("gate") or {}).get("metric", "")
        if blocks.get("role") == "saliency" or metric.startswith("mean_iou"):
            models[entry.id] = onnx_path
    return models


def scores(
    onnx_path: Path, fold: Path, sizes: tuple[int, ...], threads: int, errors: dict[int, ErrorShares] | None = None
) -> dict[int, FoldScore]:
    """IoU@0.5 of one ONNX model on ``fold`` at each size x size (the mean and each image's); with ``errors``, each
    size's :class:`ErrorShares` are filled in too (same pass)."""
    session = ort.InferenceSession(str(onnx_path), session_options("all", threads), providers=["CPUExecutionProvider"])
    result = {}
    for size in sizes:
        observe = (
            None if errors is None else partial(errors.setdefault(size, ErrorShares()).add, radius=near_radius(size))
        )
        result[size] = evaluate_fold(session_runner(session), fold, (size, size), observe)
    return result


def paired_delta(model: FoldScore, reference: FoldScore, rounds: int = BOOTSTRAP_ROUNDS) -> tuple[float, float, float]:
    """The mean per-image difference model - reference and its 95 % paired bootstrap interval."""
    if model.labels != reference.labels:
        raise ValueError("the model and the reference were scored on different images")
    differences = np.subtract(model.per_sample, reference.per_sample)
    low, high = bootstrap_interval(differences, np.mean, resamples=rounds)
    return float(differences.mean()), low, high


def table(rows: dict[str, dict[int, FoldScore]], sizes: tuple[int, ...], reference: dict[int, FoldScore] | None) -> str:
    """The IoU table, one row per model; cells hold ``iou (delta [95 % interval])`` against a reference."""

    def cell(name: str, size: int) -> str:
        score = rows[name][size]
        if reference is None or name == "reference":
            return f"{score.value:.4f}"
        delta, low, high = paired_delta(score, reference[size])
        return f"{score.value:.4f} ({delta:+.4f} [{low:+.4f}, {high:+.4f}])"

    return grid({name: [cell(name, size) for size in sizes] for name in rows}, sizes)


def error_table(errors: dict[str, dict[int, ErrorShares]], sizes: tuple[int, ...]) -> str:
    """One row per model; each cell holds hit / missed / near / far in percent of the pooled union."""
    shares = {name: [errors[name][size].shares() for size in sizes] for name in errors}
    return grid(
        {name: ["/".join(f"{100 * v:.0f}" for v in cell) for cell in row] for name, row in shares.items()}, sizes
    )


def grid(cells: dict[str, list[str]], sizes: tuple[int, ...]) -> str:
    """Rows of ``cells`` under a header of the sizes, the model names left and each column right-aligned."""
    headers = [f"{size}x{size}" for size in sizes]
    width = max(len(name) for name in [*cells, "model"]) + 2
    column = max(len(text) for text in [*headers, *(text for row in cells.values() for text in row)]) + 2
    lines = ["model".ljust(width) + "".join(header.rjust(column) for header in headers)]
    lines += [name.ljust(width) + "".join(text.rjust(column) for text in row) for name, row in cells.items()]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("registry", type=Path)
    parser.add_argument("--fold", type=Path, help=f"held-out fold (default: <registry folder>/{DEFAULT_FOLD})")
    parser.add_argument("--sizes", type=int, nargs="+", default=list(DEFAULT_SIZES))
    parser.add_argument("--reference", type=Path, help="an ONNX model (same contract) to compare every model with")
    parser.add_argument("--threads", type=int, default=2, help="onnxruntime intra-op threads")
    parser.add_argument("--errors", action="store_true", help="also print where the pixels go wrong")
    args = parser.parse_args(argv)
    fold = args.fold or args.registry.parent / DEFAULT_FOLD
    sizes = tuple(args.sizes)
    models = saliency_models(args.registry)
    if args.reference:
        models["reference"] = args.reference
    errors: dict[str, dict[int, ErrorShares]] = {name: {} for name in models}
    rows = {
        name: scores(path, fold, sizes, args.threads, errors[name] if args.errors else None)
        for name, path in models.items()
    }
    reference = rows.get("reference")
    print(f"mean IoU@0.5 on {fold} ({'reference: ' + str(args.reference) if reference else 'no reference'})")
    print(table(rows, sizes, reference))
    if args.errors:
        radii = ", ".join(f"{near_radius(size)} px at {size}" for size in sizes)
        print(f"\nwhere the pixels go wrong, % of predicted or true foreground: hit/missed/near/far (near: {radii})")
        print(error_table(errors, sizes))
    return 0


if __name__ == "__main__":
    sys.exit(main())
