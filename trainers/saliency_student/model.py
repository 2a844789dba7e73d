"""TinyUNet, the saliency student; v1 and v2 differ only in the decoder's upsampler.

The encoder has three 2x poolings, so H and W must be multiples of 8. ``forward`` returns probabilities
(the sigmoid is part of the exported graph); ``logits`` is the same network without it, for a stable loss.
"""

from collections.abc import Callable

import torch
from torch import nn

Upsampler = Callable[[int, int], nn.Module]


def block(c_in: int, c_out: int) -> nn.Sequential:
    """Conv 3x3 (no bias) -> BatchNorm -> ReLU."""
    return nn.Sequential(
        nn.Conv2d(c_in, c_out, kernel_size=3, padding=1, bias=False),
        nn.BatchNorm2d(c_out),
        nn.ReLU(inplace=True),
    )


def transposed_upsampler(c_in: int, c_out: int) -> nn.Module:
    """v1: a learnt 2x upsampling, ConvTranspose2d(kernel 2, stride 2)."""
    return nn.ConvTranspose2d(c_in, c_out, kernel_size=2, stride=2, bias=False)


def bilinear_upsampler(c_in: int, c_out: int) -> nn.Module:
    """v2: bilinear 2x (half-pixel centres) then Conv 3x3."""
    return nn.Sequential(
        nn.Upsample(scale_factor=2, mode="bilinear", align_corners=False),
        nn.Conv2d(c_in, c_out, kernel_size=3, padding=1, bias=False),
    )


class TinyUNet(nn.Module):
    """Three-level U-Net (16/32/48 channels) whose only free design choice is the upsampler."""

    def __init__(self, upsampler: Upsampler) -> None:
        super().__init__()
        self.enc1 = nn.Sequential(block(3, 16), block(16, 16))
        self.enc2 = nn.Sequential(block(16, 32), block(32, 32))
        self.enc3 = nn.Sequential(block(32, 48), block(48, 48))
        self.pool = nn.MaxPool2d(2)
        self.bottleneck = block(48, 48)
        self.up3, self.dec3 = upsampler(48, 32), block(32 + 48, 32)
        self.up2, self.dec2 = upsampler(32, 16), block(16 + 32, 16)
        self.up1, self.dec1 = upsampler(16, 8), block(8 + 16, 8)
        self.head = nn.Conv2d(8, 1, kernel_size=1)

    def logits(self, x: torch.Tensor) -> torch.Tensor:
        e1 = self.enc1(x)
        e2 = self.enc2(self.pool(e1))
        e3 = self.enc3(self.pool(e2))
        b = self.bottleneck(self.pool(e3))
        d3 = self.dec3(torch.cat([self.up3(b), e3], dim=1))
        d2 = self.dec2(torch.cat([self.up2(d3), e2], dim=1))
        d1 = self.dec1(torch.cat([self.up1(d2), e1], dim=1))
        return self.head(d1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.logits(x))


class LogitsView(nn.Module):
    """Training view of a TinyUNet: ``forward`` is its ``logits``, so DistributedDataParallel can wrap it."""

    def __init__(self, net: TinyUNet) -> None:
        super().__init__()
        self.net = net

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net.logits(x)


def saliency_student_v1() -> TinyUNet:
    """112,841 parameters; ConvTranspose upsampler."""
    return TinyUNet(transposed_upsampler)


def saliency_student_v2() -> TinyUNet:
    """123,721 parameters; bilinear + conv upsampler."""
    return TinyUNet(bilinear_upsampler)


VARIANTS: dict[str, Callable[[], TinyUNet]] = {"v1": saliency_student_v1, "v2": saliency_student_v2}


def param_count(model: nn.Module) -> int:
    """Number of trainable parameters."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)
