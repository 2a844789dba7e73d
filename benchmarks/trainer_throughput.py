"""Trainer images/s against a bare forward/backward loop, on the device it finds (CUDA when available, else CPU).

    python benchmarks/trainer_throughput.py [--pack data/source-pack] [--profile auto] [--variant v2] \\
        [--steps 10] [--threads N]

Both loops run :func:`trainers.saliency_student.loop.train_step` at the profile's batch size and crop: the bare
loop on one fixed batch already on the device (no data work at all), the trainer loop on batches composited
from the pack exactly as training draws them. The two alternate for ``--rounds`` rounds and each keeps its
fastest round, so a neighbour's burst of work on a shared machine skews neither. Prints both rates and their
ratio, compositing alone, a validation batch, and the profile's estimated wall time per model (its epochs of
training steps and validation passes at the measured rates).
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import sys
import time
from collections.abc import Callable
from pathlib import Path

import torch

from trainers.saliency_student.cli import resolved_profile
from trainers.saliency_student.loop import LogitsView, setup, train_step
from trainers.saliency_student.model import VARIANTS
from trainers.saliency_student.recipe import PROFILES
from trainers.saliency_student.sources import PackData

WARM_UP = 2


def seconds_per_call(call: Callable[[], object], calls: int, device: torch.device) -> float:
    """Mean wall seconds of ``call`` over ``calls`` runs after WARM_UP, the device synchronised around them."""
    for _ in range(WARM_UP):
        call()
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    started = time.perf_counter()
    for _ in range(calls):
        call()
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    return (time.perf_counter() - started) / calls


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pack", type=Path, default=Path("data/source-pack"))
    parser.add_argument("--profile", default="auto", choices=["auto", *sorted(PROFILES)])
    parser.add_argument("--variant", default="v2", choices=sorted(VARIANTS))
    parser.add_argument("--steps", type=int, default=10, help="timed steps per loop and round")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds; the fastest of each loop counts")
    parser.add_argument("--device", help="cpu or cuda[:i] (default: cuda when available)")
    parser.add_argument("--threads", type=int, help="CPU intra-op threads (default: all cores)")
    args = parser.parse_args(argv)

    profile = resolved_profile(args.profile, args.device)
    ctx = setup(args.device, args.threads)
    per_epoch = args.rounds * (args.steps + WARM_UP) * PROFILES[profile].batch_size
    recipe = dataclasses.replace(PROFILES[profile], samples_per_epoch=per_epoch)
    data = PackData(args.pack, recipe, ctx.device, 0, 1)
    net = VARIANTS[args.variant]().to(ctx.device, memory_format=torch.channels_last)
    trainee = LogitsView(net).train()
    optimiser = torch.optim.Adam(net.parameters(), lr=recipe.lr)

    images, masks = next(iter(data.train_batches(0)))
    batches = iter(data.train_batches(1))

    def bare_step() -> None:
        train_step(trainee, images, masks, optimiser, ctx)

    def trainer_step() -> None:
        train_step(trainee, *next(batches), optimiser, ctx)

    bare, trainer = float("inf"), float("inf")
    for _ in range(args.rounds):
        bare = min(bare, seconds_per_call(bare_step, args.steps, ctx.device))
        trainer = min(trainer, seconds_per_call(trainer_step, args.steps, ctx.device))
    composite = seconds_per_call(lambda: next(iter(data.train_batches(2))), args.steps, ctx.device)
    net.eval()
    with torch.no_grad():
        validate = seconds_per_call(lambda: net(next(iter(data.val_batches()))[0]), max(1, args.steps // 2), ctx.device)

    batch = recipe.batch_size
    val_batches = math.ceil(recipe.val_images / batch)
    full = PROFILES[profile]
    estimate = full.epochs * (full.samples_per_epoch // batch * trainer + val_batches * validate)
    threads = torch.get_num_threads() if ctx.device.type == "cpu" else "-"
    print(
        f"device {ctx.device} (threads {threads}), profile {profile}: {args.variant}, batch {batch}, crop {recipe.crop}"
    )
    print(f"bare forward/backward: {batch / bare:8.1f} img/s  ({bare * 1000:.0f} ms/step)")
    print(f"trainer (composited):  {batch / trainer:8.1f} img/s  ({trainer * 1000:.0f} ms/step) {bare / trainer:.2f}x")
    print(f"compositing alone:     {batch / composite:8.1f} img/s  ({composite * 1000:.0f} ms/batch)")
    print(f"validation batch:      {validate * 1000:.0f} ms ({val_batches} per pass, {recipe.val_size} px)")
    print(
        f"estimated {profile} profile wall time per model: {estimate / 60:.1f} min "
        f"({full.epochs} epochs x {full.samples_per_epoch // batch} steps + validation)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
