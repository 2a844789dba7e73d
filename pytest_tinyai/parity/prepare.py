"""The reference of a model under test, built once per process, in one of two forms.

* trained weights (the sidecar declares ``weights``): the reference in training form, BatchNorm not folded,
  loaded strictly with the published state dict, in eval mode. Independent of the graph, so a weight the
  exporter mangled, a BatchNorm folded wrongly or an ONNX whose weights are not the trained ones shows up.
* graph weights (no weights file): the reference in the graph's form with every weight imported from the
  graph's initializers by structure (pytest_tinyai.parity.structure).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torch import nn

from pytest_tinyai.findings import first_line, printable
from pytest_tinyai.model import ModelUnderTest
from pytest_tinyai.parity import GRAPH, TRAINED, ParityError
from pytest_tinyai.parity.reference import load_reference
from pytest_tinyai.parity.structure import import_weights

SHOWN_NAMES = 8

_PREPARED: dict[tuple[Path, str, str], nn.Module] = {}


def parity_kind(model: ModelUnderTest) -> str:
    """Which parity a model gets: TRAINED when its sidecar declares a weights file, GRAPH otherwise."""
    return TRAINED if "weights" in model.tinyai else GRAPH


def prepared_reference(model: ModelUnderTest) -> nn.Module:
    """The sidecar's reference with its weights (see the module docstring); cached per (onnx, reference, kind).

    Raises ParityError when the sidecar names no reference or contract, or the weights do not load or map.
    """
    spec = model.tinyai.get("reference")
    if spec is None:
        raise ParityError("the sidecar names no PyTorch reference")
    kind = parity_kind(model)
    key = (model.onnx_path, spec, kind)
    if key not in _PREPARED:
        reference = load_reference(spec)
        if kind == TRAINED:
            load_trained_weights(reference, model.weights or {}, model.tinyai["weights"]["path"])
        else:
            import_weights(reference, model.proto, probe_inputs(model))
        _PREPARED[key] = reference
    return _PREPARED[key]


def load_trained_weights(reference: nn.Module, tensors: dict[str, np.ndarray], file: str) -> None:
    """Load ``tensors`` into ``reference`` strictly: every tensor of its state dict, of the same shape, no other.

    Raises ParityError naming the missing, extra and mis-shaped tensors (each list cut at SHOWN_NAMES names).
    """
    expected = reference.state_dict()
    missing = [name for name in expected if name not in tensors]
    extra = [name for name in tensors if name not in expected]
    shapes = [
        f"'{printable(name)}' {list(tensors[name].shape)} (reference {list(expected[name].shape)})"
        for name in expected
        if name in tensors and tuple(tensors[name].shape) != tuple(expected[name].shape)
    ]
    problems = []
    if missing:
        problems.append(f"missing tensor(s) {_names(missing)}")
    if extra:
        problems.append(f"extra tensor(s) {_names(extra)}")
    if shapes:
        problems.append(f"mis-shaped tensor(s) {', '.join(shapes[:SHOWN_NAMES])}")
    if problems:
        raise ParityError(f"weights '{printable(file)}' do not fit the reference: {'; '.join(problems)}")
    state = {name: torch.from_numpy(np.array(tensors[name])).to(expected[name].dtype) for name in expected}
    try:
        reference.load_state_dict(state, strict=True)
    except RuntimeError as error:
        raise ParityError(f"weights '{printable(file)}' do not load: {first_line(error)}") from error
    reference.float().eval().requires_grad_(False)


def _names(names: list[str]) -> str:
    shown = ", ".join(f"'{printable(name)}'" for name in names[:SHOWN_NAMES])
    return shown if len(names) <= SHOWN_NAMES else f"{shown} (and {len(names) - SHOWN_NAMES} more)"


def probe_inputs(model: ModelUnderTest) -> list[torch.Tensor]:
    """Seeded inputs at the contract's nominal shape, in the contract's input order."""
    if model.contract is None or not model.contract.nominal:
        raise ParityError("the sidecar declares no contract with a nominal shape to trace the reference at")
    contract = model.contract
    feeds = contract.make_inputs(contract.nominal)
    return [torch.from_numpy(feeds[spec.name]) for spec in contract.inputs]
