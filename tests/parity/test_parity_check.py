"""check_parity on a registry model: findings with their numbers, tolerance, import failures and the eval fold."""

from __future__ import annotations

from dataclasses import replace

import pytest
import torch
from parity_builders import ConvBnNet, export, model_under_test, sidecar, trained_like, upsampling_net, write_fold

from pytest_tinyai.checks.parity import check_parity, parity_cases
from pytest_tinyai.context import CheckContext
from pytest_tinyai.parity.prepare import prepared_reference

GATE = {"fold": {"name": "evalfold", "content_sha256": "0" * 64}, "metric": "mean_iou@0.5", "floor": 0, "claimed": 0.5}


@pytest.fixture(scope="module")
def context() -> CheckContext:
    return replace(CheckContext.defaults(), reference_roots=("parity_builders", "no_such_pkg"))


@pytest.fixture(scope="module")
def net_proto():
    return export(trained_like(ConvBnNet()))


def test_exported_model_with_renamed_folded_weights_passes(tmp_path, net_proto, context):
    model = model_under_test(tmp_path, net_proto, sidecar("net", "parity_builders:conv_bn_net"))

    assert check_parity(model, context).findings == []


def test_model_without_a_reference_is_not_checked(tmp_path, net_proto, context):
    model = model_under_test(tmp_path, net_proto, sidecar("net", None))

    assert check_parity(model, context).findings == []


def test_reference_weight_off_by_1e_3_fails_with_the_numbers_and_the_worst_case(tmp_path, net_proto, context):
    model = model_under_test(tmp_path, net_proto, sidecar("net", "parity_builders:conv_bn_net"))
    with torch.no_grad():
        prepared_reference(model).features[0].weight.add_(1e-3)

    [finding] = check_parity(model, context).findings

    assert finding.check == "parity"
    assert "output 'saliency_map': PyTorch vs onnxruntime max-abs-diff " in finding.message
    assert "> tolerance 1e-05 (max-rel " in finding.message
    assert "worst at H=" in finding.message
    assert "on random-normal seed" in finding.message
    assert "opt level '" in finding.message
    assert "8 of 8 comparisons over tolerance" in finding.message


def test_the_reference_runs_on_the_runs_threads_and_torch_gets_its_own_count_back(tmp_path, net_proto, context):
    model = model_under_test(tmp_path, net_proto, sidecar("net", "parity_builders:conv_bn_net"))
    seen: list[int] = []
    prepared_reference(model).register_forward_pre_hook(lambda module, inputs: seen.append(torch.get_num_threads()))
    before = torch.get_num_threads()
    torch.set_num_threads(3)
    try:
        check_parity(model, context)
        after = torch.get_num_threads()
    finally:
        torch.set_num_threads(before)

    assert seen and set(seen) == {model.threads}
    assert after == 3


def test_declared_tolerance_replaces_the_default(tmp_path, net_proto, context):
    document = sidecar("net", "parity_builders:conv_bn_net", parity={"tolerance": 0.05})
    model = model_under_test(tmp_path, net_proto, document)
    with torch.no_grad():
        prepared_reference(model).features[0].weight.add_(1e-3)

    assert check_parity(model, context).findings == []


def test_graph_computing_another_function_with_the_same_weights_fails(tmp_path, context):
    nearest = export(trained_like(upsampling_net("nearest")))
    model = model_under_test(tmp_path, nearest, sidecar("net", "parity_builders:upsampling_net"))

    [finding] = check_parity(model, context).findings

    assert "max-abs-diff" in finding.message


def test_unimportable_reference_is_a_finding(tmp_path, net_proto, context):
    model = model_under_test(tmp_path, net_proto, sidecar("net", "no_such_pkg:net"))

    [finding] = check_parity(model, context).findings

    assert "reference 'no_such_pkg:net': cannot import module 'no_such_pkg'" in finding.message


def test_each_weight_that_does_not_map_is_a_finding_naming_node_module_and_shapes(tmp_path, context):
    wider = export(trained_like(ConvBnNet(channels=6)))
    model = model_under_test(tmp_path, wider, sidecar("net", "parity_builders:conv_bn_net"))

    messages = [finding.message for finding in check_parity(model, context).findings]

    assert messages == [
        "weight shapes do not map: graph node '/features/features.0/Conv' (Conv) -> module 'features.0' (Conv2d): "
        "weight is [6, 3, 3, 3] in the graph, [4, 3, 3, 3] in the module",
        "weight shapes do not map: graph node '/features/features.0/Conv' (Conv) -> module 'features.0' (Conv2d): "
        "bias is [6] in the graph, [4] in the module",
        "weight shapes do not map: graph node '/head/Conv' (Conv) -> module 'head' (Conv2d): "
        "weight is [1, 6, 1, 1] in the graph, [1, 4, 1, 1] in the module",
    ]


def test_eval_fold_images_are_compared_at_valid_sizes_near_their_own(tmp_path, net_proto, context):
    document = sidecar("net", "parity_builders:conv_bn_net", multiple_of=4, gate=GATE)
    model = model_under_test(tmp_path, net_proto, document)
    write_fold(tmp_path / "folds" / "evalfold", count=10, size=(30, 18))

    cases = parity_cases(model, model.contract, context)

    images = [case for case in cases if case.source.startswith("fold image")]
    assert [case.source for case in images] == [f"fold image 'img{index:02d}'" for index in range(8)]
    assert {(case.feeds["input"].shape, case.dims["H"], case.dims["W"]) for case in images} == {
        ((1, 3, 16, 28), 16, 28)
    }
    assert check_parity(model, context).findings == []


def test_missing_eval_fold_leaves_the_random_inputs(tmp_path, net_proto, context):
    model = model_under_test(tmp_path, net_proto, sidecar("net", "parity_builders:conv_bn_net", gate=GATE))

    cases = parity_cases(model, model.contract, context)

    assert cases and all(case.source.startswith("random-normal") for case in cases)
