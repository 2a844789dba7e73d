"""A model whose sidecar declares no contract is held to the one derived from its graph and its owner's fields:
run at its derived shape, reported not run where a symbolic dim has no value, and a two-input model with one score
per item runs as the fr_pair kind."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest
from onnx import TensorProto, helper, numpy_helper
from plugin_builders import OPSET, assert_clean_failure, assert_only_failing, item_outcomes, lines

FLOAT = TensorProto.FLOAT
FR_FEEDS = "'features' [1, 6], 'codec' [1, 2]"


def graph_model(nodes, inputs, outputs, initializers=()):
    graph = helper.make_graph(list(nodes), "g", list(inputs), list(outputs), list(initializers))
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="tests")
    model.ir_version = 8
    return model


def fr_model(tail, output_shape=("batch",), initializers=()):
    """features [batch, 6] and codec [batch, 2] → Concat 'all' [batch, 8] → `tail` → score."""
    return graph_model(
        [helper.make_node("Concat", ["features", "codec"], ["all"], name="concat", axis=1), *tail],
        [
            helper.make_tensor_value_info("features", FLOAT, ["batch", 6]),
            helper.make_tensor_value_info("codec", FLOAT, ["batch", 2]),
        ],
        [helper.make_tensor_value_info("score", FLOAT, list(output_shape))],
        initializers,
    )


def mean_score(output="score"):
    return helper.make_node("ReduceMean", ["all"], [output], name="mean", axes=[1], keepdims=0)


def owner_sidecar(**fields):
    """An upstream-style sidecar: the owner's fields only, no contract."""
    return {"name": "m", "kind": "fr", "onnx_opset": OPSET, **fields}


FR_SIDECAR = owner_sidecar(input_names=["features", "codec"], output_name="score")


def dists_model():
    image = [1, 3, "H", "W"]
    return graph_model(
        [
            helper.make_node("Sub", ["ref", "dist"], ["delta"], name="delta"),
            helper.make_node("Mul", ["delta", "delta"], ["squared"], name="squared"),
            helper.make_node("ReduceMean", ["squared"], ["score"], name="score", keepdims=0),
        ],
        [helper.make_tensor_value_info("ref", FLOAT, image), helper.make_tensor_value_info("dist", FLOAT, image)],
        [helper.make_tensor_value_info("score", FLOAT, [])],
    )


def crashing_reshape():
    """features [batch, 6] → score [5] by a Reshape to 5 elements: it fails at run time for any batch."""
    shape = numpy_helper.from_array(np.asarray([5], np.int64), "five")
    return graph_model(
        [helper.make_node("Reshape", ["features", "five"], ["score"], name="reshape")],
        [helper.make_tensor_value_info("features", FLOAT, ["batch", 6])],
        [helper.make_tensor_value_info("score", FLOAT, [5])],
        [shape],
    )


def test_a_two_input_model_with_a_score_per_item_runs_as_fr_pair_and_passes(registry, run_tinyai):
    registry.add("fr", fr_model([mean_score()]), sidecar=FR_SIDECAR, kind="fr")
    result = run_tinyai(registry)
    result.assert_outcomes(passed=5)
    result.stdout.fnmatch_lines(
        lines(
            "contracts derived from the graph (no tinyai.contract; names, types and dims, no range or normalisation):",
            "  fr: kind fr_pair, run at batch=1",
        )
    )


def test_a_derived_model_that_crashes_at_its_derived_shape_fails_in_one_line(registry, run_tinyai):
    model = crashing_reshape()
    registry.add("owl", model, sidecar=owner_sidecar(input_name="features", output_name="score"))
    result = run_tinyai(registry)
    assert_clean_failure(result)
    assert_only_failing(result, "owl", "contract")
    result.stdout.fnmatch_lines(
        lines("owl: onnxruntime fails at the derived shape 'features' [1, 6]: "),
        consecutive=True,
    )
    result.stdout.fnmatch_lines(lines("  owl: kind -, run at batch=1"))
    assert [line for line in result.stdout.lines if line.startswith("owl: ")] == [
        next(line for line in result.stdout.lines if line.startswith("owl: onnxruntime fails"))
    ]


def test_a_symbolic_dim_with_no_nominal_is_reported_not_run_never_passed(registry, run_tinyai):
    model = dists_model()
    registry.add("dists", model, sidecar=owner_sidecar(input_name="ref", output_name="score"))
    result = run_tinyai(registry)
    assert item_outcomes(result)["contract[dists]"] == "skipped"
    result.assert_outcomes(passed=4, skipped=1)
    result.stdout.fnmatch_lines(
        lines(
            "contract        0 passed, 0 failed, 1 skipped",
            "1 checks NOT run:",
            "dists: contract not run: graph names and checker pass, but symbolic dims H, W of 'ref', 'dist' have no "
            "nominal value: declare tinyai.contract.nominal",
        )
    )


def test_a_declared_contract_replaces_the_derived_one_and_runs_at_its_nominal(registry, run_tinyai):
    image = {"dtype": "float32", "shape": [1, 3, "H", "W"]}
    contract = {
        "kind": "fr_pair",
        "inputs": [{"name": "ref", **image}, {"name": "dist", **image}],
        "outputs": [{"name": "score", "dtype": "float32", "shape": []}],
        "nominal": {"H": 8, "W": 8},
    }
    model = graph_model(
        [
            helper.make_node("Sub", ["ref", "dist"], ["delta"], name="delta"),
            helper.make_node("ReduceMean", ["delta"], ["score"], name="score", keepdims=0),
        ],
        [helper.make_tensor_value_info(name, FLOAT, image["shape"]) for name in ("ref", "dist")],
        [helper.make_tensor_value_info("score", FLOAT, [])],
    )
    sidecar = owner_sidecar(input_name="ref", output_name="score", tinyai={"contract": contract})
    registry.add("dists", model, sidecar=sidecar)
    result = run_tinyai(registry)
    result.assert_outcomes(passed=5)
    assert "contracts derived from the graph" not in result.stdout.str()


def test_an_fr_pair_output_of_another_rank_than_the_graph_says_fails(registry, run_tinyai):
    """An If hides the rank from shape inference (its branches differ), so only the run shows [1, 8], not [1]."""
    then = helper.make_graph(
        [helper.make_node("Identity", ["all"], ["whole"])],
        "then",
        [],
        [helper.make_tensor_value_info("whole", FLOAT, None)],
    )
    otherwise = helper.make_graph(
        [mean_score("mean")], "else", [], [helper.make_tensor_value_info("mean", FLOAT, None)]
    )
    branch = helper.make_node("If", ["cond"], ["score"], name="branch", then_branch=then, else_branch=otherwise)
    model = fr_model([branch], initializers=[numpy_helper.from_array(np.asarray(True), "cond")])
    registry.add("fr", model, sidecar=FR_SIDECAR, kind="fr")
    result = run_tinyai(registry)
    assert_clean_failure(result)
    assert_only_failing(result, "fr", "contract")
    result.stdout.fnmatch_lines(
        lines(f"fr: 'score' has shape [1, 8] at the derived shape {FR_FEEDS}, the graph says [1]")
    )


def test_an_fr_pair_score_that_is_not_finite_fails(registry, run_tinyai):
    tail = [
        mean_score("mean"),
        helper.make_node("Sub", ["mean", "mean"], ["zero"], name="zero"),
        helper.make_node("Div", ["zero", "zero"], ["score"], name="nan"),
    ]
    registry.add("fr", fr_model(tail), sidecar=FR_SIDECAR, kind="fr")
    result = run_tinyai(registry)
    assert_clean_failure(result)
    assert_only_failing(result, "fr", "contract")
    result.stdout.fnmatch_lines(lines(f"fr: 'score' has 1 non-finite values at the derived shape {FR_FEEDS}"))


def test_a_declared_fr_pair_contract_with_more_than_one_score_per_item_fails(registry, run_tinyai):
    spec = {"dtype": "float32"}
    contract = {
        "kind": "fr_pair",
        "inputs": [{"name": "features", **spec, "shape": [1, 6]}, {"name": "codec", **spec, "shape": [1, 2]}],
        "outputs": [{"name": "score", **spec, "shape": [1, 8]}],
    }
    model = graph_model(
        [helper.make_node("Concat", ["features", "codec"], ["score"], name="concat", axis=1)],
        [
            helper.make_tensor_value_info("features", FLOAT, [1, 6]),
            helper.make_tensor_value_info("codec", FLOAT, [1, 2]),
        ],
        [helper.make_tensor_value_info("score", FLOAT, [1, 8])],
    )
    sidecar = {**FR_SIDECAR, "tinyai": {"contract": contract}}
    registry.add("fr", model, sidecar=sidecar, kind="fr")
    result = run_tinyai(registry, "-m", "tinyai_contract")
    assert_clean_failure(result)
    result.stdout.fnmatch_lines(
        lines("fr: 'score' has shape [1, 8]: a fr_pair model gives one score per item ([], [N] or [N, 1], N=1)")
    )


def test_an_owner_shape_that_contradicts_the_graph_fails_and_nothing_runs(registry, run_tinyai):
    sidecar = owner_sidecar(input_name="features", input_shape=[-1, 7], output_name="score")
    model = graph_model(
        [mean_score_of("features")],
        [helper.make_tensor_value_info("features", FLOAT, ["batch", 6])],
        [helper.make_tensor_value_info("score", FLOAT, ["batch"])],
    )
    registry.add("fr", model, sidecar=sidecar, kind="fr")
    result = run_tinyai(registry)
    assert_clean_failure(result)
    assert_only_failing(result, "fr", "contract")
    result.stdout.fnmatch_lines(lines("fr: sidecar input_shape [-1, 7]: axis 1 is 7, graph input 'features' has 6"))
    result.stdout.fnmatch_lines(lines("  fr: kind -, not run (see its failure)"))


def mean_score_of(name):
    return helper.make_node("ReduceMean", [name], ["score"], name="mean", axes=[1], keepdims=0)


def test_a_derived_shape_over_the_pixel_cap_is_not_run(registry, run_tinyai):
    model = graph_model(
        [mean_score_of("features")],
        [helper.make_tensor_value_info("features", FLOAT, ["batch", 4096])],
        [helper.make_tensor_value_info("score", FLOAT, ["batch"])],
    )
    registry.add("wide", model, sidecar=owner_sidecar(input_name="features", output_name="score"))
    result = run_tinyai(registry, "--tinyai-max-pixels", "16")
    assert_clean_failure(result)
    assert_only_failing(result, "wide", "contract")
    result.stdout.fnmatch_lines(
        lines("wide: derived shape batch=1: input 'features' ['batch', 4096] holds 4,096 values, over 16 per pixel")
    )


def test_a_smoke_model_without_a_sidecar_runs_at_its_graphs_fixed_shape(registry, run_tinyai):
    model = graph_model(
        [helper.make_node("Identity", ["x"], ["y"], name="same")],
        [helper.make_tensor_value_info("x", TensorProto.FLOAT16, [1, 1, 2, 2])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT16, [1, 1, 2, 2])],
    )
    registry.add("half", model, sidecar=None, smoke=True)
    result = run_tinyai(registry)
    result.assert_outcomes(passed=5)
    result.stdout.fnmatch_lines(lines("  half: kind -, run at its fixed dims"))


def test_a_single_input_name_must_be_one_of_a_two_input_graphs_inputs(registry, run_tinyai):
    """The runtime binds `input_name` by name; a two-input model binds the other by name too (upstream lpips_sq)."""
    registry.add("fr", fr_model([mean_score()]), sidecar=owner_sidecar(input_name="reference", output_name="score"))
    result = run_tinyai(registry)
    assert_clean_failure(result)
    assert_only_failing(result, "fr", "contract")
    result.stdout.fnmatch_lines(lines("fr: sidecar input names ['reference'] != graph inputs ['codec', 'features']"))


def test_a_contract_declaring_only_its_nominal_values_runs_the_derived_contract_there(registry, run_tinyai):
    sidecar = owner_sidecar(input_name="ref", output_name="score", tinyai={"contract": {"nominal": {"H": 8, "W": 6}}})
    registry.add("dists", dists_model(), sidecar=sidecar)
    result = run_tinyai(registry)
    result.assert_outcomes(passed=5)
    result.stdout.fnmatch_lines(lines("  dists: kind fr_pair, run at H=8, W=6"))


def test_a_nominal_value_for_no_symbolic_dim_fails_naming_the_graphs_dims(registry, run_tinyai):
    sidecar = owner_sidecar(input_name="ref", output_name="score", tinyai={"contract": {"nominal": {"h": 8, "W": 6}}})
    registry.add("dists", dists_model(), sidecar=sidecar)
    result = run_tinyai(registry)
    assert_clean_failure(result)
    assert_only_failing(result, "dists", "contract")
    result.stdout.fnmatch_lines(
        lines("dists: tinyai.contract.nominal names 'h', no symbolic dim of the graph's inputs (H, W)")
    )


@pytest.mark.parametrize(
    ("block", "missing"),
    [
        ({"kind": "fr_pair", "nominal": {"H": 8}}, "inputs"),
        ({"dims": {"H": {"min": 1, "max": 8}}}, "inputs"),
        ({}, "nominal"),
    ],
)
def test_a_contract_is_whole_or_its_nominal_values_alone(registry, run_tinyai, block, missing):
    sidecar = owner_sidecar(input_name="ref", output_name="score", tinyai={"contract": block})
    registry.add("dists", dists_model(), sidecar=sidecar)
    result = run_tinyai(registry, "-m", "tinyai_registry")
    assert_clean_failure(result)
    result.stdout.fnmatch_lines([f"*dists: sidecar 'dists.json' *'{missing}' is a required property*"])


def test_declared_nominal_values_over_the_pixel_cap_are_not_run(registry, run_tinyai):
    nominal = {"H": 28000, "W": 28000}
    sidecar = owner_sidecar(input_name="ref", output_name="score", tinyai={"contract": {"nominal": nominal}})
    registry.add("dists", dists_model(), sidecar=sidecar)
    result = run_tinyai(registry)
    assert_clean_failure(result)
    assert_only_failing(result, "dists", "contract")
    result.stdout.fnmatch_lines(
        lines("dists: derived shape H=28000 W=28000 is 784,000,000 pixels, over the cap of 16,777,216")
    )


def test_an_int8_sibling_of_a_model_without_a_contract_is_held_to_the_contract_derived_from_its_own_graph(
    registry, run_tinyai
):
    """quant_mode makes the runtime load the sibling: run at its own derived shape, its failure names its file."""
    sibling = crashing_reshape()
    data = sibling.SerializeToString()
    (registry.folder / "owl.int8.onnx").write_bytes(data)
    model = graph_model(
        [mean_score_of("features")],
        [helper.make_tensor_value_info("features", FLOAT, ["batch", 6])],
        [helper.make_tensor_value_info("score", FLOAT, ["batch"])],
    )
    sidecar = owner_sidecar(input_name="features", output_name="score")
    registry.add("owl", model, sidecar=sidecar, quant_mode="dynamic", int8_sha256=hashlib.sha256(data).hexdigest())
    result = run_tinyai(registry)
    assert_clean_failure(result)
    assert_only_failing(result, "owl", "contract")
    result.stdout.fnmatch_lines(lines("owl: owl.int8.onnx: onnxruntime fails at the derived shape 'features' [1, 6]: "))
    result.stdout.fnmatch_lines(lines("  owl: kind -, run at batch=1"))


def test_an_int8_sibling_not_run_at_a_shape_is_reported_naming_its_file(registry, run_tinyai):
    data = dists_model().SerializeToString()
    (registry.folder / "dists.int8.onnx").write_bytes(data)
    sidecar = owner_sidecar(input_name="ref", output_name="score")
    registry.add(
        "dists", dists_model(), sidecar=sidecar, quant_mode="dynamic", int8_sha256=hashlib.sha256(data).hexdigest()
    )
    result = run_tinyai(registry)
    result.assert_outcomes(passed=4, skipped=1)
    result.stdout.fnmatch_lines(
        lines(
            "dists: contract not run: graph names and checker pass, but symbolic dims H, W of 'ref', 'dist' have no "
            "nominal value: declare tinyai.contract.nominal; dists.int8.onnx: symbolic dims H, W"
        )
    )
