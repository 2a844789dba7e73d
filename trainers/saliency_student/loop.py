"""Train a saliency student: train/validate per epoch, keep the best by validation IoU, checkpoint, resume.

The recipe's ``average_last`` adds the means of the last epochs' weights to the candidates; its ``publish_mean_of``
publishes the mean of the last epochs whatever validation says (validated and recorded beside the epochs). The
epochs to average ride in the checkpoint, so a resumed run averages the same ones.

One process per device. Batches come from :mod:`.sources`: a source pack composited on the fly on the
training device, or a folder of image/mask pairs. Under ``torchrun`` (WORLD_SIZE > 1) the model is wrapped in
DistributedDataParallel (NCCL on CUDA, gloo on CPU) and each process trains on its share of every
epoch; rank 0 validates, keeps the best weights and writes the checkpoint. Tensors are
channels-last on every device (about 2x faster convolutions on CPU too, measured).

Each epoch ends with an atomic checkpoint (``last.pt``: model, optimiser, scheduler, best weights and
history). ``resume=True`` continues from it; since every batch depends on (seed, epoch, index) only, a
resumed run reaches the same weights as an uninterrupted one.
"""

from __future__ import annotations

import copy
import itertools
import os
import tempfile
import time
from collections.abc import Iterable
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch.nn.parallel import DistributedDataParallel
from tqdm import tqdm

from pytest_tinyai.metrics import image_iou
from trainers.saliency_student.model import VARIANTS, LogitsView, TinyUNet
from trainers.saliency_student.recipe import Recipe
from trainers.saliency_student.sources import Batch, open_data

CHECKPOINT = "last.pt"
PROGRESS_EVERY = 20


@dataclass
class TrainResult:
    """The published network (on CPU, eval mode) and how the run went: ``best_val_iou`` and ``best_epoch`` are
    validation's pick among the candidates, ``published_val_iou`` the published weights' (the same, unless the
    recipe publishes a mean whatever validation says)."""

    net: TinyUNet
    best_val_iou: float
    best_epoch: int
    published_val_iou: float
    history: list[dict[str, Any]]
    averaged_epochs: tuple[int, int] | None  # (first, last) when the published weights are a mean of epochs
    device: str
    world_size: int
    n_train: int
    n_val: int
    data: dict[str, Any] = field(default_factory=dict)

    @property
    def epochs_run(self) -> int:
        return len(self.history)

    @property
    def wall_clock_s(self) -> float:
        """Seconds spent in epochs (training and validation), summed over resumed segments."""
        return sum(epoch["seconds"] for epoch in self.history)


@dataclass
class _Context:
    """Process placement: rank, world size, device."""

    rank: int = 0
    world_size: int = 1
    device: torch.device = field(default_factory=lambda: torch.device("cpu"))

    @property
    def main(self) -> bool:
        return self.rank == 0


def bce_dice_loss(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """BCE on logits plus Dice 1 - (2 sum(pt) + 1) / (sum(p) + sum(t) + 1) per image, batch mean."""
    bce = F.binary_cross_entropy_with_logits(logits, target)
    prob = torch.sigmoid(logits).flatten(1)
    target = target.flatten(1)
    dice = 1 - (2 * (prob * target).sum(1) + 1) / (prob.sum(1) + target.sum(1) + 1)
    return bce + dice.mean()


def setup(device: str | None, threads: int | None) -> _Context:
    """Join the torchrun process group when there is one; pick CUDA when available, else CPU with
    ``threads`` intra-op threads (default: the cores shared out among the local processes)."""
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    cuda = torch.cuda.is_available() if device is None else device.startswith("cuda")
    if world_size > 1 and not dist.is_initialized():
        dist.init_process_group(backend="nccl" if cuda else "gloo")
    rank = dist.get_rank() if world_size > 1 else 0
    if cuda:
        local_rank = int(os.environ.get("LOCAL_RANK", "0"))
        torch.cuda.set_device(local_rank)
        torch.backends.cudnn.benchmark = True
        return _Context(rank, world_size, torch.device("cuda", local_rank))
    torch.set_num_threads(threads or max(1, (os.cpu_count() or 1) // world_size))
    return _Context(rank, world_size, torch.device("cpu"))


def _save_atomic(state: dict[str, Any], path: Path) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        torch.save(state, tmp)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _validate(net: TinyUNet, batches: Iterable[Batch], ctx: _Context) -> float:
    """Mean per-image IoU at 0.5 on the validation split."""
    net.eval()
    scores = []
    with torch.no_grad(), _autocast(ctx):
        for images, masks in batches:
            probs = net(images.to(ctx.device, memory_format=torch.channels_last)).float().cpu().numpy()
            scores.extend(image_iou(p[0], m[0]) for p, m in zip(probs, masks.cpu().numpy(), strict=True))
    return float(np.mean(scores))


def averaged(variant: str, states: list[dict[str, torch.Tensor]], batches: Iterable[Batch], ctx: _Context) -> TinyUNet:
    """The network whose weights are the mean of ``states``, its BatchNorm statistics re-estimated on ``batches``
    (their images, in training mode, with a cumulative average); in eval mode."""
    net = VARIANTS[variant]().to(ctx.device, memory_format=torch.channels_last)
    mean = {key: torch.stack([state[key].float() for state in states]).mean(0) for key in states[0]}
    net.load_state_dict({key: value.to(states[-1][key].dtype) for key, value in mean.items()})
    images = (images.to(ctx.device, memory_format=torch.channels_last) for images, _ in batches)
    with _autocast(ctx):
        torch.optim.swa_utils.update_bn(images, net, ctx.device)
    return net.eval()


def _autocast(ctx: _Context):
    return torch.autocast("cuda", dtype=torch.bfloat16) if ctx.device.type == "cuda" else nullcontext()


def train_step(
    trainee: torch.nn.Module, images: torch.Tensor, masks: torch.Tensor, optimiser: torch.optim.Optimizer, ctx: _Context
) -> torch.Tensor:
    """One optimiser step on a batch (moved to the device, channels-last); returns the loss, not synchronised."""
    images = images.to(ctx.device, non_blocking=True, memory_format=torch.channels_last)
    masks = masks.to(ctx.device, non_blocking=True)
    with _autocast(ctx):
        loss = bce_dice_loss(trainee(images).float(), masks)
    optimiser.zero_grad(set_to_none=True)
    loss.backward()
    optimiser.step()
    return loss.detach()


def _train_epoch(
    trainee: torch.nn.Module, bar: tqdm, optimiser: torch.optim.Optimizer, ctx: _Context
) -> tuple[float, int]:
    """One pass over this rank's shard (``bar`` wraps its batches); returns the mean loss and images seen.

    The loss is summed on the device and read every PROGRESS_EVERY steps only, so a GPU is never kept waiting
    for the next batch by a synchronisation.
    """
    trainee.train()
    loss_sum, seen = torch.zeros((), device=ctx.device), 0
    for step, (images, masks) in enumerate(bar, 1):
        loss_sum += train_step(trainee, images, masks, optimiser, ctx) * len(images)
        seen += len(images)
        if step % PROGRESS_EVERY == 0:
            bar.set_postfix(loss=f"{loss_sum.item() / seen:.4f}")
    return loss_sum.item() / seen, seen


def train(
    variant: str,
    recipe: Recipe,
    data_root: str | Path,
    run_dir: str | Path,
    resume: bool = False,
    device: str | None = None,
    threads: int | None = None,
    progress: bool = True,
) -> TrainResult:
    """Train ``variant`` ('v1' or 'v2') on the source pack or dataset at ``data_root`` with ``recipe``.

    Checkpoints go to ``run_dir/last.pt``. Raises DatasetLayoutError for a path that is not a dataset, PackError
    for a pack whose files differ from its manifest.
    """
    ctx = setup(device, threads)
    if recipe.batch_size % ctx.world_size:
        raise ValueError(f"batch size {recipe.batch_size} does not split over {ctx.world_size} processes")
    checkpoint = Path(run_dir) / CHECKPOINT
    checkpoint.parent.mkdir(parents=True, exist_ok=True)
    data = open_data(data_root, recipe, ctx.device, ctx.rank, ctx.world_size)

    torch.manual_seed(recipe.seed)
    net = VARIANTS[variant]().to(ctx.device, memory_format=torch.channels_last)
    trainee: torch.nn.Module = LogitsView(net)
    if ctx.world_size > 1:
        trainee = DistributedDataParallel(trainee, device_ids=None if ctx.device.index is None else [ctx.device.index])
    optimiser = torch.optim.Adam(net.parameters(), lr=recipe.lr)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimiser, T_max=recipe.epochs)
    state: dict[str, Any] = {
        "epoch": 0,
        "best_val_iou": -1.0,
        "best_epoch": 0,
        "best_model": None,
        "history": [],
        "recent": [],  # the epochs' weights to average (the last ones), on the CPU, oldest first
    }
    if resume and checkpoint.exists():
        saved = torch.load(checkpoint, map_location=ctx.device, weights_only=False)
        net.load_state_dict(saved["model"])
        optimiser.load_state_dict(saved["optimiser"])
        scheduler.load_state_dict(saved["scheduler"])
        state = {key: saved.get(key, state[key]) for key in state}
    kept = max((*recipe.average_last, recipe.publish_mean_of), default=0)

    show = progress and ctx.main
    epochs = tqdm(
        range(state["epoch"], recipe.epochs),
        desc=f"{variant} epochs",
        initial=state["epoch"],
        total=recipe.epochs,
        disable=not show,
    )
    for epoch in epochs:
        started = time.perf_counter()
        lr = optimiser.param_groups[0]["lr"]
        batches = data.train_batches(epoch)
        bar = tqdm(batches, desc=f"epoch {epoch + 1}", total=data.steps_per_epoch, leave=False, disable=not show)
        loss, seen = _train_epoch(trainee, bar, optimiser, ctx)
        scheduler.step()
        train_seconds = time.perf_counter() - started
        if ctx.main:
            val_iou = _validate(net, data.val_batches(), ctx)
            if val_iou > state["best_val_iou"]:
                state.update(best_val_iou=val_iou, best_epoch=epoch + 1, best_model=copy.deepcopy(net.state_dict()))
            if kept:
                weights = {key: value.detach().cpu().clone() for key, value in net.state_dict().items()}
                state["recent"] = [*state["recent"], weights][-kept:]
            state["history"].append(
                {
                    "epoch": epoch + 1,
                    "loss": loss,
                    "val_iou": val_iou,
                    "lr": lr,
                    "seconds": time.perf_counter() - started,
                    "img_per_s": seen * ctx.world_size / train_seconds,
                }
            )
            state["epoch"] = epoch + 1
            _save_atomic(
                {
                    **state,
                    "model": net.state_dict(),
                    "optimiser": optimiser.state_dict(),
                    "scheduler": scheduler.state_dict(),
                },
                checkpoint,
            )
            epochs.set_postfix(loss=f"{loss:.4f}", val_iou=f"{val_iou:.4f}")
        if ctx.world_size > 1:
            dist.barrier()

    averaged_epochs = None
    if ctx.main:
        last = state["epoch"]
        means: dict[int, tuple[TinyUNet, float]] = {}

        def mean_of_last(count: int) -> tuple[TinyUNet, float]:
            if count not in means:
                batches = itertools.islice(data.train_batches(0), recipe.bn_batches)
                mean = averaged(variant, state["recent"][-count:], batches, ctx)
                means[count] = mean, _validate(mean, data.val_batches(), ctx)
                state["history"][-1].setdefault("averaged_val_iou", {})[f"{last - count + 1}-{last}"] = means[count][1]
            return means[count]

        for count in sorted(recipe.average_last):
            if count > len(state["recent"]):
                continue
            mean, val_iou = mean_of_last(count)
            if val_iou > state["best_val_iou"]:
                state.update(best_val_iou=val_iou, best_epoch=last, best_model=copy.deepcopy(mean.state_dict()))
                averaged_epochs = (last - count + 1, last)
    published, published_val_iou = state["best_model"], state["best_val_iou"]
    if ctx.main and recipe.publish_mean_of and state["recent"]:
        count = min(recipe.publish_mean_of, len(state["recent"]))
        mean, published_val_iou = mean_of_last(count)
        published, averaged_epochs = mean.state_dict(), (last - count + 1, last)
    best = VARIANTS[variant]()
    best.load_state_dict({k: v.cpu() for k, v in (published or net.state_dict()).items()})
    return TrainResult(
        net=best.eval(),
        best_val_iou=state["best_val_iou"],
        best_epoch=state["best_epoch"],
        published_val_iou=published_val_iou,
        history=state["history"],
        averaged_epochs=averaged_epochs,
        device=str(ctx.device),
        world_size=ctx.world_size,
        n_train=data.n_train,
        n_val=data.n_val,
        data=data.record,
    )
