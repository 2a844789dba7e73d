"""Publish an exported model into the model folder: ONNX, trained weights, sidecar, metrics JSON and registry entry.

Everything is prepared and checked in a temporary folder first (export, parity, eval-fold score, sidecar
and registry validation); only then are the files written, each atomically, the registry last. A failed
check leaves the model folder exactly as it was.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import onnx
import onnxruntime as ort
from torch import nn

from pytest_tinyai.dataset import content_hash
from pytest_tinyai.fold_eval import evaluate_fold, session_runner
from pytest_tinyai.golden_record import record as record_golden
from pytest_tinyai.registry_writer import atomic_write_bytes, dump_json, updated_registry, write_registry
from pytest_tinyai.sidecar import NAMESPACE, misplaced_blocks, namespace, sidecar_problems
from pytest_tinyai.tensor_contract import IMAGENET_MEAN, IMAGENET_STD
from pytest_tinyai.trust import sha256_of
from trainers.saliency_student.export import (
    INPUT_NAME,
    ONNX_OPSET,
    OUTPUT_NAME,
    PARITY_SIZES,
    PARITY_TOLERANCE,
    check_parity,
    export_onnx,
    op_types,
    resize_attributes,
    save_weights,
)

LICENSE = "Apache-2.0"
KIND = "nr"
HUMAN_KEYS = ("notes",)  # the owner fields a person declares, kept when a model is re-published
HUMAN_BLOCKS = ("status", "role", "gate", "latency", "parity", "golden")  # likewise, in the tinyai namespace
NOMINAL_SIZE = 256
MAX_SIZE = 2048


class SidecarError(ValueError):
    """The sidecar would not validate against the packaged sidecar schema; nothing was written."""


def contract(min_size: int, multiple_of: int) -> dict[str, Any]:
    """The tensor contract of a saliency map model: RGB NCHW ImageNet-normalised in, [0,1] map out."""
    dim = {"min": min_size, "max": MAX_SIZE, "multiple_of": multiple_of}
    return {
        "inputs": [
            {
                "name": INPUT_NAME,
                "dtype": "float32",
                "shape": [1, 3, "H", "W"],
                "layout": "NCHW",
                "normalisation": {"mean": list(IMAGENET_MEAN), "std": list(IMAGENET_STD), "scale": 255},
            }
        ],
        "outputs": [{"name": OUTPUT_NAME, "dtype": "float32", "shape": [1, 1, "H", "W"], "range": [0.0, 1.0]}],
        "dims": {"H": dict(dim), "W": dict(dim)},
        "nominal": {"H": NOMINAL_SIZE, "W": NOMINAL_SIZE},
    }


@dataclass
class Artefact:
    """A model to publish as ``<stem>.onnx``: its module, sidecar facts and registry entry extras."""

    stem: str
    model: nn.Module
    reference: str
    contract: dict[str, Any]
    training: dict[str, Any]
    entry: dict[str, Any] = field(default_factory=dict)
    description: str = ""
    metrics: dict[str, Any] | None = None


@dataclass(frozen=True)
class Published:
    """What publish wrote: the paths, the sidecar, and what recording the golden set said."""

    onnx_path: Path
    weights_path: Path
    sidecar_path: Path
    sidecar: dict[str, Any]
    golden: list[str] = field(default_factory=list)


def eval_fold_record(onnx_path: Path, fold_root: Path) -> dict[str, Any]:
    """Score the ONNX file on the held-out fold at each image's own size: name, content hash, IoU, n."""
    session = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    score = evaluate_fold(session_runner(session), fold_root)
    return {"name": fold_root.name, "content_sha256": content_hash(fold_root), "iou": score.value, "n": score.n}


def build_sidecar(
    artefact: Artefact, training: dict[str, Any], existing: dict[str, Any], weights: dict[str, str] | None = None
) -> dict[str, Any]:
    """The sidecar document: the runtime's fields at the top level, pytest-tinyai's blocks under ``tinyai``. The
    human-declared keys and blocks of ``existing`` are kept, a gate's ``claimed`` follows the eval-fold IoU measured
    here when the gate pins that same fold, and ``weights`` (path, sha256) is recorded."""
    misplaced = misplaced_blocks(existing)
    if misplaced:  # an old layout: its blocks would be lost
        raise SidecarError(f"{artefact.stem}.json {'; '.join(misplaced)}; move them there to keep them")
    blocks: dict[str, Any] = {"reference": artefact.reference, "contract": artefact.contract}
    if weights is not None:
        blocks["weights"] = weights
    declared = namespace(existing)
    blocks.update({key: declared[key] for key in HUMAN_BLOCKS if key in declared})
    measured = training.get("eval_fold")
    gate = blocks.get("gate")
    if gate and measured and gate["fold"]["content_sha256"] == measured["content_sha256"]:
        blocks["gate"] = {**gate, "claimed": round(measured["iou"], 4)}
    sidecar = {
        "name": artefact.stem,
        "kind": KIND,
        "description": artefact.description,
        "input_name": INPUT_NAME,
        "output_name": OUTPUT_NAME,
        "onnx_opset": ONNX_OPSET,
        "training": training,
        **{key: existing[key] for key in HUMAN_KEYS if key in existing},
        NAMESPACE: blocks,
    }
    problems = sidecar_problems(sidecar)
    if problems:
        raise SidecarError(f"{artefact.stem}.json would be invalid: " + "; ".join(problems))
    return sidecar


def publish(
    artefact: Artefact,
    model_dir: Path,
    registry_path: Path,
    eval_fold: Path | None = None,
    tolerance: float = PARITY_TOLERANCE,
) -> Published:
    """Export, check and write ``artefact`` into ``model_dir`` (``<stem>.onnx``, ``<stem>.safetensors`` with the
    trained weights, ``<stem>.json``) and register it in ``registry_path``.

    Raises ParityError, SidecarError (also for an existing sidecar with pytest-tinyai's blocks at its top level) or
    RegistryWriteError before anything in ``model_dir`` is touched.
    """
    model_dir, registry_path = Path(model_dir), Path(registry_path)
    onnx_path, sidecar_path = model_dir / f"{artefact.stem}.onnx", model_dir / f"{artefact.stem}.json"
    weights_path = model_dir / f"{artefact.stem}.safetensors"
    with tempfile.TemporaryDirectory(prefix=f"{artefact.stem}-") as scratch:
        staged = Path(scratch) / onnx_path.name
        proto = export_onnx(artefact.model)
        onnx.save(proto, staged)
        staged_weights = Path(scratch) / weights_path.name
        save_weights(artefact.model, staged_weights)
        weights = {
            "path": Path(os.path.relpath(weights_path, registry_path.parent)).as_posix(),
            "sha256": sha256_of(staged_weights),
        }
        training = {
            **artefact.training,
            "pt_onnx_max_abs_diff": check_parity(artefact.model, staged, tolerance, PARITY_SIZES),
            "onnx_op_set": op_types(proto),
        }
        if (resize := resize_attributes(proto)) is not None:
            training["resize_attributes"] = resize
        if eval_fold is not None:
            training["eval_fold"] = eval_fold_record(staged, Path(eval_fold))
        existing = json.loads(sidecar_path.read_text()) if sidecar_path.exists() else {}
        sidecar = build_sidecar(artefact, training, existing, weights)
        relative_onnx = Path(os.path.relpath(onnx_path, registry_path.parent)).as_posix()
        entry = {
            "id": artefact.stem,
            "kind": KIND,
            "onnx": relative_onnx,
            "sha256": sha256_of(staged),
            "opset": ONNX_OPSET,
            "license": LICENSE,
            "description": artefact.description,
            **artefact.entry,
        }
        registry = updated_registry(registry_path, entry)
        atomic_write_bytes(onnx_path, staged.read_bytes())
        atomic_write_bytes(weights_path, staged_weights.read_bytes())
    atomic_write_bytes(sidecar_path, dump_json(sidecar))
    if artefact.metrics is not None:
        atomic_write_bytes(model_dir / f"{artefact.stem}.metrics.json", dump_json(artefact.metrics))
    write_registry(registry_path, registry)
    # the new model's golden set, re-recorded over the previous model's (said so in `golden`), tolerance kept
    recorded, refused = record_golden(registry_path, artefact.stem, force=True)
    return Published(onnx_path, weights_path, sidecar_path, sidecar, [*map(str, recorded), *refused])
