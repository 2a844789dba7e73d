"""The contract derived from a graph and its owner's fields, and the fr_pair kind: pure functions, no run."""

from __future__ import annotations

import numpy as np
import pytest
from onnx import TensorProto, helper

from pytest_tinyai.derived_contract import FR_PAIR, derive_contract
from pytest_tinyai.kinds import FullReferencePair

FLOAT = TensorProto.FLOAT


def tensor(name, shape, element=FLOAT):
    return helper.make_tensor_value_info(name, element, shape)


def unnamed_dim(name, rank_before, rank_after):
    """A float tensor [1]*rank_before + [?] + [1]*rank_after whose open dim has neither a size nor a name."""
    value = tensor(name, [1] * (rank_before + 1 + rank_after))
    value.type.tensor_type.shape.dim[rank_before].Clear()
    return value


def test_a_symbolic_batch_dim_runs_at_1_and_fixed_dims_are_kept():
    derivation = derive_contract([tensor("features", ["batch", 6])], [tensor("score", ["batch"])], {})
    contract = derivation.contract
    assert contract.derived
    assert contract.nominal == {"batch": 1}
    assert [(spec.name, spec.dtype, spec.shape) for spec in contract.inputs] == [("features", "float32", ("batch", 6))]
    assert contract.outputs[0].shape == ("batch",)
    assert derivation.not_run_reason is None and derivation.problems == ()
    assert contract.make_inputs(contract.nominal)["features"].shape == (1, 6)


def test_nothing_is_invented_no_layout_normalisation_range_or_dim_rules():
    contract = derive_contract([tensor("input", [1, 3, 8, 8])], [tensor("map", [1, 1, 8, 8])], {}).contract
    (spec,) = contract.inputs
    assert (spec.layout, spec.normalisation, spec.value_range) == (None, None, None)
    assert contract.outputs[0].value_range is None
    assert contract.dims == {}
    with pytest.raises(ValueError, match="no layout or normalisation"):
        spec.image_feed(np.zeros((8, 8, 3), np.uint8))


def test_a_symbolic_dim_that_is_not_a_batch_dim_has_no_value_and_says_declare_nominal():
    derivation = derive_contract(
        [tensor("ref", [1, 3, "H", "W"]), tensor("dist", [1, 3, "H", "W"])], [tensor("score", [])], {}
    )
    assert derivation.not_run_reason == (
        "symbolic dims H, W of 'ref', 'dist' have no nominal value: declare tinyai.contract.nominal"
    )
    assert derivation.contract.shape_violations(derivation.contract.nominal) == [
        "no value for dim H",
        "no value for dim W",
    ]


def test_the_owners_input_shape_binds_a_symbolic_dim_and_the_batch_size():
    derivation = derive_contract(
        [tensor("features", ["N", "F"])], [tensor("vmaf", ["N"])], {"input_shape": [4, 6], "output_shape": [-1]}
    )
    assert derivation.contract.nominal == {"N": 4, "F": 6}
    assert derivation.not_run_reason is None and derivation.problems == ()


@pytest.mark.parametrize("declared", [[-1, -1], ["batch", -1], ["N", "F"]])
def test_a_negative_or_named_owner_dim_means_any_size_and_agrees_with_a_symbol_or_a_size(declared):
    derivation = derive_contract([tensor("features", ["N", 6])], [tensor("vmaf", ["N"])], {"input_shape": declared})
    assert derivation.problems == () and derivation.contract.nominal == {"N": 1}


@pytest.mark.parametrize(
    ("owner", "problem"),
    [
        ({"input_shape": [-1, 7]}, "sidecar input_shape [-1, 7]: axis 1 is 7, graph input 'features' has 6"),
        ({"input_shape": [6]}, "sidecar input_shape [6] has rank 1, graph input 'features' has rank 2 (['N', 6])"),
        ({"output_shape": [-1, 1]}, "sidecar output_shape [-1, 1] has rank 2, graph output 'vmaf' has rank 1"),
        ({"input_shape": "[-1, 6]"}, "sidecar input_shape '[-1, 6]' is not a list of sizes and names"),
        ({"input_shape": [-1, 6.0]}, "sidecar input_shape [-1, 6.0] is not a list of sizes and names"),
        ({"input_shape": [-1, 6], "input_name": "x"}, "sidecar input_shape [-1, 6] names no graph input"),
        ({"input_shape": [2, 6], "output_shape": [3]}, "sidecar output_shape [3]: axis 0 is 3, but 'N' is 2 elsewhere"),
    ],
)
def test_owner_shapes_that_contradict_the_graph_are_problems(owner, problem):
    derivation = derive_contract([tensor("features", ["N", 6])], [tensor("vmaf", ["N"])], owner)
    assert len(derivation.problems) == 1 and derivation.problems[0].startswith(problem), derivation.problems


def test_an_output_dim_no_input_gives_a_value_is_open():
    derivation = derive_contract([tensor("input", ["B", 3, 8, 8])], [tensor("boxes", ["B", "K", 4])], {})
    (spec,) = derivation.contract.outputs
    assert spec.shape == ("B", None, 4)
    assert spec.admits_shape((1, 17, 4), {"B": 1})
    assert not spec.admits_shape((1, 17, 5), {"B": 1}) and not spec.admits_shape((1, 4), {"B": 1})
    with pytest.raises(ValueError, match="any size"):
        spec.concrete_shape({"B": 1})


def test_an_unnamed_dim_is_named_by_its_tensor_and_axis():
    batch = derive_contract([unnamed_dim("x", 0, 1)], [tensor("y", [1])], {})
    assert batch.contract.nominal == {"x[0]": 1} and batch.not_run_reason is None
    inner = derive_contract([unnamed_dim("x", 2, 1)], [tensor("y", [1])], {})
    assert inner.not_run_reason == "symbolic dims x[2] of 'x' have no nominal value: declare tinyai.contract.nominal"


def test_an_input_of_an_element_type_no_input_can_be_drawn_for_is_not_run():
    derivation = derive_contract([tensor("text", [1], TensorProto.STRING)], [tensor("y", [1])], {})
    assert derivation.not_run_reason == "input 'text' is of element type STRING: no inputs are drawn for it"


def test_an_input_without_a_shape_is_not_run():
    derivation = derive_contract([tensor("x", None)], [tensor("y", [1])], {})
    assert derivation.not_run_reason == "input 'x' has no shape in the graph: declare tinyai.contract.nominal"


@pytest.mark.parametrize("output", [[], [1], ["batch"], ["batch", 1], [1, 1]])
def test_two_inputs_and_a_score_per_item_is_the_fr_pair_kind(output):
    inputs = [tensor("features", ["batch", 6]), tensor("codec", ["batch", 14])]
    assert derive_contract(inputs, [tensor("score", output)], {"kind": "fr"}).contract.kind == FR_PAIR


@pytest.mark.parametrize(
    ("inputs", "output", "owner"),
    [
        ([("features", ["batch", 6])], ["batch"], {}),  # one input
        ([("a", ["batch", 6]), ("b", ["batch", 2])], ["batch", 3], {}),  # three scores per item
        ([("a", [1, 3, 8, 8]), ("b", [1, 3, 8, 8])], [1, 1, 8, 8], {}),  # a map, not a score
        ([("a", ["batch", 6]), ("b", ["batch", 2])], ["batch"], {"kind": "nr"}),  # the owner says it is not FR
        ([("a", ["batch", 6]), ("b", ["batch", 2])], ["other"], {}),  # a count no input gives
    ],
)
def test_other_models_have_no_derived_kind(inputs, output, owner):
    derivation = derive_contract([tensor(n, s) for n, s in inputs], [tensor("score", output)], owner)
    assert derivation.contract.kind is None


def test_the_fr_pair_kind_requires_one_score_per_item():
    contract = derive_contract(
        [tensor("ref", [1, 3, 4, 4]), tensor("dist", [1, 3, 4, 4])], [tensor("score", [])], {}
    ).contract
    kind = FullReferencePair()
    for shape in [(), (1,), (1, 1)]:
        assert kind.output_problems({"score": np.zeros(shape, np.float32)}, contract, contract.nominal) == []
    assert kind.output_problems({"score": np.zeros((1, 3), np.float32)}, contract, contract.nominal) == [
        "'score' has shape [1, 3]: a fr_pair model gives one score per item ([], [N] or [N, 1], N=1)"
    ]


def test_the_fr_pair_kind_feeds_both_inputs_at_the_contracts_dtypes_and_reads_no_fold(tmp_path):
    contract = derive_contract(
        [tensor("features", ["batch", 6]), tensor("codec", ["batch", 2], TensorProto.FLOAT16)],
        [tensor("score", ["batch"])],
        {},
    ).contract
    kind = FullReferencePair()
    feeds = kind.feeds({"features": np.arange(6), "codec": [[1, 0]]}, contract)
    assert (feeds["features"].shape, feeds["features"].dtype) == ((1, 6), np.float32)
    assert (feeds["codec"].shape, feeds["codec"].dtype) == ((1, 2), np.float16)
    with pytest.raises(ValueError, match=r"'features' sample of shape \[1, 5\] is not \['batch', 6\]"):
        kind.feeds({"features": np.arange(5), "codec": [[1, 0]]}, contract)
    assert kind.prediction({"score": np.asarray([0.25], np.float32)}, contract) == 0.25
    with pytest.raises(ValueError, match="reads no fold"):
        kind.samples(tmp_path)


def test_a_declared_tensor_that_is_no_image_gets_no_invented_normalisation():
    from pytest_tinyai.tensor_contract import IMAGENET_MEAN, Contract

    contract = Contract.from_sidecar(
        {
            "inputs": [
                {"name": "features", "dtype": "float32", "shape": [1, 6]},
                {"name": "image", "dtype": "float32", "shape": [1, 3, "H", "W"]},
            ],
            "outputs": [{"name": "score", "dtype": "float32", "shape": [1]}],
        }
    )
    features, image = contract.inputs
    assert features.normalisation is None and features.normalisation_problem() is None
    assert image.normalisation is not None and image.normalisation.mean == IMAGENET_MEAN


def test_declared_nominal_values_give_the_symbolic_dims_their_values_first():
    derivation = derive_contract(
        [tensor("ref", ["N", 3, "H", "W"]), tensor("dist", ["N", 3, "H", "W"])],
        [tensor("score", ["N"])],
        {},
        {"H": 16, "W": 24, "N": 2},
    )
    assert derivation.contract.nominal == {"H": 16, "W": 24, "N": 2}
    assert derivation.not_run_reason is None and derivation.problems == ()


def test_a_declared_nominal_value_for_no_symbolic_dim_of_the_graph_is_a_problem():
    derivation = derive_contract([tensor("input", [1, 3, "H", "W"])], [tensor("map", [1, 1, "H", "W"])], {}, {"X": 8})
    assert derivation.problems == ("tinyai.contract.nominal names 'X', no symbolic dim of the graph's inputs (H, W)",)


def test_an_owner_shape_that_contradicts_a_declared_nominal_value_is_a_problem():
    derivation = derive_contract(
        [tensor("input", [1, 3, "H", "W"])],
        [tensor("map", [1, 1, "H", "W"])],
        {"input_shape": [1, 3, 224, -1]},
        {"H": 8},
    )
    assert derivation.problems == ("sidecar input_shape [1, 3, 224, -1]: axis 2 is 224, but 'H' is 8 elsewhere",)
