"""PyTorch <-> ONNX Runtime parity: rebuild a model's PyTorch reference in the form of its graph and compare.

Only this package's ``__init__`` is torch-free, so the plugin can load without torch; ``require_torch`` is
called before any of the other modules is imported. One job per module:

* ``reference``: the sidecar's ``module:callable`` import string -> an nn.Module in eval mode, float32;
* ``trace``: one forward pass with hooks -> the tensor-owning layers in execution order, with their inputs' sources;
* ``graph_weights``: the graph's weighted nodes in graph order, their initializers, and the ones nobody maps;
* ``fold``: BatchNorm folded into the convolution it follows (torch's ``fuse_conv_bn_eval``);
* ``structure``: layers paired with weighted nodes by position, kind and shape; the weights imported strictly;
* ``prepare``: the imported reference of a model under test, cached per process;
* ``shapes`` and ``cases``: the contract-valid shapes and the inputs (seeded random-normal, fold images);
* ``compare``: both runtimes on every case and opt level, measured as max-abs and max-rel differences;
* ``threads``: PyTorch's intra-op threads pinned to the run's, as onnxruntime's are.
"""

from __future__ import annotations

import importlib

TRAINED = "trained weights"  # parity with the sidecar's weights file, loaded into the training-form reference
GRAPH = "graph weights"  # parity with the weights imported from the graph itself (no weights file)


class ParityError(Exception):
    """The reference cannot be built, folded, imported or run; each problem says exactly what and where."""

    def __init__(self, *problems: str) -> None:
        super().__init__(*problems)
        self.problems = problems

    def __str__(self) -> str:
        return "; ".join(self.problems)


def require_torch() -> None:
    """Raise ParityError with the install hint unless torch can be imported."""
    try:
        importlib.import_module("torch")
    except ImportError as error:
        raise ParityError(f"the parity check needs PyTorch ({error}): install pytest-tinyai[torch]") from error
