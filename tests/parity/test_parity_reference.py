"""Building the reference from the sidecar's import string, and the torch requirement."""

from __future__ import annotations

import sys

import pytest
from parity_builders import ConvBnNet

from pytest_tinyai.parity import ParityError, require_torch
from pytest_tinyai.parity.reference import load_reference


def test_reference_is_built_in_eval_mode_float32_without_gradients():
    reference = load_reference("parity_builders:conv_bn_net")

    assert isinstance(reference, ConvBnNet)
    assert not reference.training
    assert all(p.dtype.is_floating_point and p.dtype.itemsize == 4 for p in reference.parameters())
    assert not any(p.requires_grad for p in reference.parameters())


def test_unimportable_reference_module_names_the_module():
    with pytest.raises(ParityError, match=r"reference 'no_such_pkg.nets:net': cannot import module 'no_such_pkg.nets'"):
        load_reference("no_such_pkg.nets:net")


def test_reference_module_without_the_callable_names_it():
    with pytest.raises(ParityError, match=r"module 'parity_builders' has no callable 'no_such_net'"):
        load_reference("parity_builders:no_such_net")


def test_reference_callable_that_raises_is_reported_with_its_error():
    with pytest.raises(ParityError, match=r"calling broken_factory\(\) raised RuntimeError\('checkpoint missing'\)"):
        load_reference("parity_builders:broken_factory")


def test_reference_callable_must_return_a_torch_module():
    with pytest.raises(ParityError, match=r"not_a_module\(\) returned int, not a torch nn.Module"):
        load_reference("parity_builders:not_a_module")


def test_missing_torch_asks_for_the_torch_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "torch", None)

    with pytest.raises(ParityError, match=r"install pytest-tinyai\[torch\]"):
        require_torch()
