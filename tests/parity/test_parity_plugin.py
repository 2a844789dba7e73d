"""The parity check through the whole plugin: a registry whose sidecars name a reference module on sys.path."""

from __future__ import annotations

import numpy as np
import pytest
from onnx import numpy_helper
from parity_builders import export, refnet, run_parity, sidecar, trained_like


@pytest.fixture
def graph(pytester: pytest.Pytester):
    """The graph exported from the reference module written into pytester's directory (put on sys.path)."""
    return export(trained_like(refnet(pytester).net()))


def test_reference_carrying_the_graphs_weights_passes(pytester, graph):
    result = run_parity(pytester, {"net": (graph, sidecar("net", "refnet:net"))})

    result.assert_outcomes(passed=1)


def test_weights_off_by_1e_3_fail_with_max_abs_max_rel_and_worst_shape(pytester, graph):
    result = run_parity(pytester, {"net": (graph, sidecar("net", "refnet:skewed_net"))})

    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        ["*net: output 'saliency_map': PyTorch vs onnxruntime max-abs-diff * > tolerance 1e-05*"]
    )
    result.stdout.fnmatch_lines(["*(max-rel *), worst at H=*, W=* on random-normal seed *, opt level '*'*"])


def test_initializer_that_does_not_map_fails_with_a_clear_import_message(pytester, graph):
    graph.graph.initializer.append(numpy_helper.from_array(np.ones((4,), np.float32), "orphan"))

    result = run_parity(pytester, {"net": (graph, sidecar("net", "refnet:net"))})

    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["net: graph weight not imported: initializer 'orphan' [[]4[]] is used by no node"])
    assert "Traceback" not in result.stdout.str()


def test_reference_that_cannot_be_imported_fails_naming_it(pytester, graph):
    result = run_parity(pytester, {"net": (graph, sidecar("net", "refnet_gone:net"))})

    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*reference 'refnet_gone:net': cannot import module 'refnet_gone'*"])


def test_model_without_a_reference_gets_no_parity_item(pytester, graph):
    result = run_parity(pytester, {"net": (graph, sidecar("net", None))})

    assert result.ret == pytest.ExitCode.NO_TESTS_COLLECTED
    assert "parity[net]" not in result.stdout.str()
