"""IoU@0.5 of a registry's saliency models on a held-out fold at several square sizes, with a reference's delta.

    python benchmarks/eval_scales.py model/tiny/registry.json [--fold DIR] [--sizes 128 160 256 384] \\
        [--reference upstream.onnx] [--threads 2]

Images and masks are resized to each size by :func:`pytest_tinyai.fold_eval.evaluate_fold` (the gate's reader and
metric, bilinear, masks binarised after resizing) and run through onnxruntime on the CPU. A model is scored
when it is not a smoke model and its sidecar's `tinyai` blocks declare the saliency role or a mean-IoU gate. With
``--reference`` the reference ONNX is scored too and every cell shows the model's delta to it and that delta's 95 %
interval from a paired bootstrap over the fold's images (a delta whose interval holds 0 is not shown to be one).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import onnxruntime as ort

from pytest_tinyai.fold_eval import FoldScore, evaluate_fold, session_runner
from pytest_tinyai.ort_sandbox import session_options
from pytest_tinyai.paired import bootstrap_interval
from pytest_tinyai.registry import load_registry
from pytest_tinyai.sidecar import namespace
from pytest_tinyai.strict_json import JsonProblem, load_json_file
from pytest_tinyai.trust import confined

DEFAULT_SIZES = (128, 160, 256, 384)
DEFAULT_FOLD = "folds/saliency-eval-v1"
BOOTSTRAP_ROUNDS = 5000


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


def scores(onnx_path: Path, fold: Path, sizes: tuple[int, ...], threads: int) -> dict[int, FoldScore]:
    """IoU@0.5 of one ONNX model on ``fold`` at each size x size (the mean and each image's)."""
    session = ort.InferenceSession(str(onnx_path), session_options("all", threads), providers=["CPUExecutionProvider"])
    return {size: evaluate_fold(session_runner(session), fold, (size, size)) for size in sizes}


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

    width = max(len(name) for name in [*rows, "model"]) + 2
    cells = {name: [cell(name, size) for size in sizes] for name in rows}
    column = max(len(text) for row in cells.values() for text in row) + 2
    lines = ["model".ljust(width) + "".join(f"{size}x{size}".rjust(column) for size in sizes)]
    lines += [name.ljust(width) + "".join(text.rjust(column) for text in row) for name, row in cells.items()]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("registry", type=Path)
    parser.add_argument("--fold", type=Path, help=f"held-out fold (default: <registry folder>/{DEFAULT_FOLD})")
    parser.add_argument("--sizes", type=int, nargs="+", default=list(DEFAULT_SIZES))
    parser.add_argument("--reference", type=Path, help="an ONNX model (same contract) to compare every model with")
    parser.add_argument("--threads", type=int, default=2, help="onnxruntime intra-op threads")
    args = parser.parse_args(argv)
    fold = args.fold or args.registry.parent / DEFAULT_FOLD
    sizes = tuple(args.sizes)
    rows = {name: scores(path, fold, sizes, args.threads) for name, path in saliency_models(args.registry).items()}
    reference = scores(args.reference, fold, sizes, args.threads) if args.reference else None
    if reference:
        rows["reference"] = reference
    print(f"mean IoU@0.5 on {fold} ({'reference: ' + str(args.reference) if reference else 'no reference'})")
    print(table(rows, sizes, reference))
    return 0


if __name__ == "__main__":
    sys.exit(main())
