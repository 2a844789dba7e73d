"""mobilesal_placeholder_v0: a 4-parameter smoke model (1x1 conv 3->1 + sigmoid) with fixed weights.

Its output stays within about 0.003 of 0.5 for any normalised input: it exercises the registry, the
tensor names and the contract, not saliency. ``python -m trainers.placeholder`` regenerates it.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

import torch
from torch import nn

from trainers.saliency_student.model import param_count
from trainers.saliency_student.register import Artefact, contract, publish

STEM = "mobilesal_placeholder_v0"
REFERENCE = "trainers.placeholder:mobilesal_placeholder_v0"
WEIGHTS = (1e-3, 1e-3, 1e-3)
BIAS = 0.0


class Placeholder(nn.Module):
    """Sigmoid of a 1x1 convolution from RGB to one channel."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 1, kernel_size=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.conv(x))


def mobilesal_placeholder_v0() -> Placeholder:
    """The placeholder with its fixed weights (they are the whole model, so the reference carries them)."""
    model = Placeholder()
    with torch.no_grad():
        model.conv.weight.copy_(torch.tensor(WEIGHTS).view(1, 3, 1, 1))
        model.conv.bias.fill_(BIAS)
    return model


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=f"Regenerate {STEM} and register it.")
    parser.add_argument("--model-dir", type=Path, default=Path("model/tiny"))
    parser.add_argument("--registry", type=Path, default=Path("model/tiny/registry.json"))
    args = parser.parse_args(argv)
    model = mobilesal_placeholder_v0()
    artefact = Artefact(
        stem=STEM,
        model=model,
        reference=REFERENCE,
        contract=contract(min_size=1, multiple_of=1),
        training={"param_count": param_count(model), "weights": "fixed", "device": "cpu"},
        entry={"smoke": True},
        description="Smoke placeholder: output close to 0.5 everywhere; not a saliency model.",
    )
    published = publish(artefact, args.model_dir, args.registry)
    print(f"wrote {published.onnx_path} and {published.sidecar_path}", *published.golden, sep="\n")


if __name__ == "__main__":
    main()
