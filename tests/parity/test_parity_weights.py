"""Trained-weight parity through the whole plugin: the sidecar declares ``<stem>.safetensors`` beside the ONNX.

The reference is built in training form and loaded with the published weights, so the graph is checked against
what was trained, not against itself: a nudged weight, a BatchNorm folded with the wrong epsilon or a weights file
that is not the model's each fail in one line naming the model and the cause.
"""

from __future__ import annotations

import hashlib

import onnx
import pytest
import torch
from onnx import numpy_helper
from parity_builders import export, refnet, run_parity, sidecar, trained_like, weights_file

DIFF = "*net: output 'saliency_map': PyTorch vs onnxruntime max-abs-diff * > tolerance 1e-05*"
REGISTRY_AND_PARITY = ("-m", "tinyai_registry or tinyai_parity")


@pytest.fixture
def trained(pytester: pytest.Pytester) -> torch.nn.Module:
    """refnet's Net with seeded 'trained' weights and BatchNorm statistics, in eval mode."""
    return trained_like(refnet(pytester).net())


def declared(pytester: pytest.Pytester, tensors: dict[str, torch.Tensor]) -> dict:
    """The sidecar of model 'net' naming refnet:net and a weights file holding ``tensors``."""
    return sidecar("net", "refnet:net", weights=weights_file(pytester.path, "net", tensors))


def nudged_head(graph: onnx.ModelProto) -> onnx.ModelProto:
    """``graph`` with one weight of its 1x1 head convolution moved by 1e-3 (the initializer edited in place)."""
    head = next(tensor for tensor in graph.graph.initializer if list(tensor.dims) == [1, 4, 1, 1])
    nudged = numpy_helper.to_array(head).copy()
    nudged[0, 0, 0, 0] += 1e-3
    head.CopyFrom(numpy_helper.from_array(nudged, head.name))
    return graph


def test_the_trained_weights_of_the_exported_graph_pass_and_the_summary_says_so(pytester, trained):
    result = run_parity(pytester, {"net": (export(trained), declared(pytester, trained.state_dict()))})

    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["parity: net trained weights, max-abs-diff *"])


def test_without_a_weights_file_the_summary_says_graph_weights(pytester, trained):
    result = run_parity(pytester, {"net": (export(trained), sidecar("net", "refnet:net"))})

    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["parity: net graph weights (no weights file), max-abs-diff *"])


def test_one_onnx_weight_nudged_by_1e_3_fails(pytester, trained):
    graph = nudged_head(export(trained))

    result = run_parity(pytester, {"net": (graph, declared(pytester, trained.state_dict()))})

    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines([DIFF + "worst at H=*, W=* on *, opt level '*'*"])


def test_a_batchnorm_folded_with_the_wrong_epsilon_fails(pytester, trained):
    state = trained.state_dict()
    trained.features[1].eps = 1e-3  # the exporter folds with this epsilon; the trained module has 1e-5

    result = run_parity(pytester, {"net": (export(trained), declared(pytester, state))})

    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines([DIFF])


def test_another_models_weights_fail(pytester, trained):
    other = trained_like(refnet(pytester).net(), seed=1)

    result = run_parity(pytester, {"net": (export(trained), declared(pytester, other.state_dict()))})

    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines([DIFF])


def test_a_truncated_weights_file_fails_registry_trust_in_one_line(pytester, trained):
    document = declared(pytester, trained.state_dict())
    path = pytester.path / "net.safetensors"
    path.write_bytes(path.read_bytes()[:-16])
    document["tinyai"]["weights"]["sha256"] = hashlib.sha256(path.read_bytes()).hexdigest()

    result = run_parity(pytester, {"net": (export(trained), document)}, *REGISTRY_AND_PARITY)

    result.assert_outcomes(failed=2)
    result.stdout.fnmatch_lines(["net: weights 'net.safetensors' is not a valid safetensors file: *"])
    assert "Traceback" not in result.stdout.str()


def test_a_weights_digest_mismatch_fails_registry_trust_in_one_line(pytester, trained):
    document = declared(pytester, trained.state_dict())
    document["tinyai"]["weights"]["sha256"] = "0" * 64

    result = run_parity(pytester, {"net": (export(trained), document)}, *REGISTRY_AND_PARITY)

    result.assert_outcomes(failed=2)
    result.stdout.fnmatch_lines(["net: weights sha256 mismatch for 'net.safetensors': sidecar says 000*, file is *"])


FIT = "net: weights 'net.safetensors' do not fit the reference: "


@pytest.mark.parametrize(
    ("change", "line"),
    [
        ({"head.bias": None}, FIT + "missing tensor(s) 'head.bias'"),
        ({"head.scale": torch.ones(1)}, FIT + "extra tensor(s) 'head.scale'"),
        ({"head.bias": torch.zeros(2)}, FIT + "mis-shaped tensor(s) 'head.bias' [[]2[]] (reference [[]1[]])"),
    ],
    ids=["missing", "extra", "mis-shaped"],
)
def test_a_weights_file_that_does_not_fit_the_reference_fails_naming_the_tensor(pytester, trained, change, line):
    state = {**trained.state_dict(), **change}
    state = {name: tensor for name, tensor in state.items() if tensor is not None}

    result = run_parity(pytester, {"net": (export(trained), declared(pytester, state))})

    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines([line])


def test_graph_weight_parity_cannot_see_a_nudged_weight_that_trained_weight_parity_fails(pytester, trained):
    """Why the weights file exists: the same nudged graph passes when the reference imports the graph's weights."""
    graph = nudged_head(export(trained))

    result = run_parity(pytester, {"net": (graph, sidecar("net", "refnet:net"))})

    result.assert_outcomes(passed=1)
