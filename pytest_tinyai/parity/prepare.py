"""The reference of a model under test in the graph's form with the graph's weights, built once per process."""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from pytest_tinyai.model import ModelUnderTest
from pytest_tinyai.parity import ParityError
from pytest_tinyai.parity.reference import load_reference
from pytest_tinyai.parity.structure import import_weights

_PREPARED: dict[tuple[Path, str], nn.Module] = {}


def prepared_reference(model: ModelUnderTest) -> nn.Module:
    """The sidecar's reference, folded like the graph and filled with its weights; cached per (onnx, reference).

    Raises ParityError when the sidecar names no reference or contract, or the reference does not build or map.
    """
    spec = model.sidecar.get("reference")
    if spec is None:
        raise ParityError("the sidecar names no PyTorch reference")
    key = (model.onnx_path, spec)
    if key not in _PREPARED:
        reference = load_reference(spec)
        import_weights(reference, model.proto, probe_inputs(model))
        _PREPARED[key] = reference
    return _PREPARED[key]


def probe_inputs(model: ModelUnderTest) -> list[torch.Tensor]:
    """Seeded inputs at the contract's nominal shape, in the contract's input order."""
    if model.contract is None or not model.contract.nominal:
        raise ParityError("the sidecar declares no contract with a nominal shape to trace the reference at")
    contract = model.contract
    feeds = contract.make_inputs(contract.nominal)
    return [torch.from_numpy(feeds[spec.name]) for spec in contract.inputs]
