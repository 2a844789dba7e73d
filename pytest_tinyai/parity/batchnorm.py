"""BatchNorm folded into the convolution whose output it normalises, as the exporter does in eval mode."""

from __future__ import annotations

from torch import nn
from torch.nn.utils.fusion import fuse_conv_bn_eval

from pytest_tinyai.parity import ParityError

CONVOLUTIONS = (nn.Conv1d, nn.Conv2d, nn.Conv3d)
TRANSPOSED_CONVOLUTIONS = (nn.ConvTranspose1d, nn.ConvTranspose2d, nn.ConvTranspose3d)
BATCH_NORMS = (nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d)


def fold_batchnorm(root: nn.Module, conv_name: str, bn_name: str) -> None:
    """Replace ``conv_name`` by the convolution with ``bn_name`` folded in, and ``bn_name`` by an Identity.

    Raises ParityError when ``conv_name`` is not a convolution or the BatchNorm keeps no running statistics.
    """
    conv, bn = root.get_submodule(conv_name), root.get_submodule(bn_name)
    if not isinstance(conv, CONVOLUTIONS + TRANSPOSED_CONVOLUTIONS):
        raise ParityError(
            f"BatchNorm '{bn_name}' cannot be folded: its input comes from '{conv_name}' "
            f"({type(conv).__name__}), not from a convolution"
        )
    if bn.running_mean is None or bn.running_var is None:
        raise ParityError(f"BatchNorm '{bn_name}' cannot be folded: it keeps no running statistics")
    root.set_submodule(conv_name, fuse_conv_bn_eval(conv, bn, transpose=isinstance(conv, TRANSPOSED_CONVOLUTIONS)))
    root.set_submodule(bn_name, nn.Identity())
