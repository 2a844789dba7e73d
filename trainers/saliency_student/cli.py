"""Command line: train a student, then export, check and register it.

    python -m trainers.saliency_student.cli train --variant v2 --data data/source-pack \\
        --eval-fold model/tiny/folds/saliency-eval-v1 --registry model/tiny/registry.json

``--data`` is a source pack (``tinyai-corpus pack``), composited on the fly, or a folder of image/mask pairs
(our folds, DUTS-TR). ``--profile auto`` (the default) is ``full`` where CUDA is available, else ``cpu``.

Under ``torchrun --nproc-per-node N`` every process trains and rank 0 publishes.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch
import torch.distributed as dist

from pytest_tinyai.dataset import DatasetLayoutError, find_samples
from trainers.corpus.pack_format import PackError
from trainers.saliency_student.loop import TrainResult, train
from trainers.saliency_student.model import VARIANTS, param_count
from trainers.saliency_student.provenance import provenance
from trainers.saliency_student.recipe import PROFILES, Recipe
from trainers.saliency_student.register import Artefact, contract, publish
from trainers.saliency_student.sources import data_identity

MODEL_MODULE = "trainers.saliency_student.model"
AUTO = "auto"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tinyai-train-student", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("train", help="train, export, check parity, register")
    run.add_argument("--variant", choices=sorted(VARIANTS), required=True)
    run.add_argument("--profile", choices=[AUTO, *sorted(PROFILES)], default=AUTO, help="auto: full on CUDA, else cpu")
    run.add_argument(
        "--data", type=Path, required=True, help="source pack, or a dataset in Image/Mask or DUTS-TR layout"
    )
    run.add_argument("--eval-fold", type=Path, help="held-out fold scored for the sidecar (never for selection)")
    run.add_argument("--registry", type=Path, default=Path("model/tiny/registry.json"))
    run.add_argument("--model-dir", type=Path, help="where the ONNX and sidecar go (default: the registry's folder)")
    run.add_argument("--stem", help="artefact name (default: saliency_student_<variant>)")
    run.add_argument("--run-dir", type=Path, help="checkpoints (default: runs/<stem>-<profile>)")
    run.add_argument("--resume", action="store_true", help="continue from the run dir's last checkpoint")
    run.add_argument("--epochs", type=int, help="override the profile's epoch count")
    run.add_argument("--samples-per-epoch", type=int, help="override the profile's composites per epoch (pack)")
    run.add_argument("--workers", type=int, help="override the profile's DataLoader workers")
    run.add_argument("--seed", type=int, help="override the profile's seed (a second seed measures run-to-run noise)")
    run.add_argument("--crop", type=int, help="override the profile's training crop (pack: a window of the 256² frame)")
    run.add_argument(
        "--publish-mean-of", type=int, help="publish the mean of the last N epochs' weights, whatever validation picks"
    )
    run.add_argument("--device", help="cpu or cuda[:i] (default: cuda when available)")
    run.add_argument(
        "--threads",
        type=int,
        help="CPU intra-op threads (default: cores / local processes; "
        "1 is faster on a machine whose other cores are busy)",
    )
    run.add_argument("--no-progress", action="store_true", help="no progress bars")
    return parser


def training_record(result: TrainResult, recipe: Recipe, profile: str, data: Path, data_sha: str) -> dict[str, Any]:
    """The sidecar's ``training`` block, before export adds parity, op set and eval-fold facts."""
    return {
        "param_count": param_count(result.net),
        "recipe": recipe.as_dict(),
        "profile": profile,
        "dataset": {
            "name": data.resolve().name,
            "root": str(data),
            "content_sha256": data_sha,
            "n_train": result.n_train,
            "n_val": result.n_val,
            "source": result.data,
        },
        "best_val_iou": result.best_val_iou,
        "best_epoch": result.best_epoch,
        "published_val_iou": result.published_val_iou,
        "averaged_epochs": list(result.averaged_epochs) if result.averaged_epochs else None,
        "wall_clock_s": round(result.wall_clock_s, 1),
        "device": result.device,
        "world_size": result.world_size,
        "epochs_run": result.epochs_run,
    }


def chosen(record: dict[str, Any]) -> str:
    """Which weights were published: an epoch's, or the mean of a run of epochs'."""
    if record.get("averaged_epochs"):
        first, last = record["averaged_epochs"]
        return f"mean of epochs {first}-{last}"
    return f"epoch {record['best_epoch']}"


def resolved_profile(profile: str, device: str | None) -> str:
    """``auto`` becomes ``full`` when training will run on CUDA, else ``cpu``; other names stay."""
    if profile != AUTO:
        return profile
    cuda = torch.cuda.is_available() if device is None else device.startswith("cuda")
    return "full" if cuda else "cpu"


def _train(args: argparse.Namespace) -> None:
    if args.eval_fold:
        find_samples(args.eval_fold)  # a wrong path fails now, not after training
    data_sha = data_identity(args.data)  # so does a wrong --data
    args.profile = resolved_profile(args.profile, args.device)
    overrides = {
        key: value
        for key, value in {
            "epochs": args.epochs,
            "workers": args.workers,
            "samples_per_epoch": args.samples_per_epoch,
            "seed": args.seed,
            "crop": args.crop,
            "publish_mean_of": args.publish_mean_of,
        }.items()
        if value is not None
    }
    recipe = dataclasses.replace(PROFILES[args.profile], **overrides)
    stem = args.stem or f"saliency_student_{args.variant}"
    origin = provenance(args.data, data_sha)
    result = train(
        args.variant,
        recipe,
        args.data,
        args.run_dir or Path("runs") / f"{stem}-{args.profile}",
        resume=args.resume,
        device=args.device,
        threads=args.threads,
        progress=not args.no_progress,
    )
    if result.world_size > 1:
        rank = dist.get_rank()
        dist.destroy_process_group()
        if rank:
            return
    artefact = Artefact(
        stem=stem,
        model=result.net,
        reference=f"{MODEL_MODULE}:saliency_student_{args.variant}",
        contract=contract(min_size=8, multiple_of=8),
        training=training_record(result, recipe, args.profile, args.data, data_sha),
        description=f"TinyUNet saliency student {args.variant} ({args.profile} profile)",
        metrics={
            "history": result.history,
            "provenance": {**origin, "device": result.device, "torch_threads": torch.get_num_threads()},
        },
    )
    registry = args.registry
    published = publish(artefact, args.model_dir or registry.parent, registry, eval_fold=args.eval_fold)
    record = published.sidecar["training"]
    print(
        f"{stem}: val IoU {record['published_val_iou']:.4f} ({chosen(record)}; "
        f"validation's pick {record['best_val_iou']:.4f}), "
        f"eval IoU {record.get('eval_fold', {}).get('iou', float('nan')):.4f}, "
        f"parity {record['pt_onnx_max_abs_diff']:.2e}, wrote {published.onnx_path}"
    )
    print(*published.golden, sep="\n")


def main(argv: Sequence[str] | None = None) -> None:
    args = _parser().parse_args(argv)
    try:
        _train(args)
    except (DatasetLayoutError, PackError) as error:
        sys.exit(f"error: {error}")


if __name__ == "__main__":
    main()
