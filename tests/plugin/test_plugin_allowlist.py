"""The allowlist check: every op at any depth is allowlisted; nesting, Loop count and trip counts within limits."""

from __future__ import annotations

import subprocess
import sys

import pytest
from onnx import helper
from plugin_builders import (
    INT64,
    assert_clean_failure,
    assert_only_failing,
    assert_usage_error,
    const,
    if_node,
    lines,
    loop_node,
    saliency_model,
    true_cond,
)

from pytest_tinyai.specs import load_allowlist, packaged_spec

ONE = const("one", 1, "int64")


def floor(source: str, target: str, name: str = "floor"):
    """Floor: an ONNX op that onnxruntime runs but the C runtime does not have."""
    return helper.make_node("Floor", [source], [target], name=name)


def identity(source: str, target: str, name: str):
    return helper.make_node("Identity", [source], [target], name=name)


def nested_ifs(depth: int) -> list:
    """features → logits through Ifs nested so that the innermost node ('leaf') sits `depth` subgraphs deep."""

    def level(index: int, output: str) -> list:
        if index == depth:
            return [identity("features", output, "leaf")]
        then_out, else_out = f"then{index}", f"else{index}"
        return [
            if_node(
                f"if{index}",
                level(index + 1, then_out),
                then_out,
                [identity("features", else_out, f"else{index}")],
                else_out,
                output,
            )
        ]

    return level(0, "logits")


def chained_loops(count: int) -> list:
    """features → logits through `count` Loops in a row, each running its Identity body once."""
    names = ["features", *(f"loop{index}_out" for index in range(count - 1)), "logits"]
    return [
        loop_node(
            f"loop{index}",
            "one",
            names[index],
            [identity(f"loop{index}_x", f"loop{index}_y", f"id{index}")],
            names[index + 1],
        )
        for index in range(count)
    ]


def test_disallowed_op_at_top_level_is_refused(registry, run_tinyai):
    registry.add("owl", saliency_model([floor("features", "logits")]))
    result = run_tinyai(registry)
    assert_clean_failure(result)
    assert_only_failing(result, "owl", "allowlist", "contract")
    result.stdout.fnmatch_lines(lines("owl: Floor 'floor': op 'Floor' is not on the allowlist (allowlist.config)"))


def test_an_op_off_the_allowlist_at_many_nodes_is_one_line_naming_the_first_and_counting_the_rest(registry, run_tinyai):
    nodes = [floor("features", "f1", "floor1"), floor("f1", "f2", "floor2"), floor("f2", "logits", "floor3")]
    registry.add("owl", saliency_model(nodes))
    result = run_tinyai(registry)
    assert_clean_failure(result)
    result.stdout.fnmatch_lines(
        lines("owl: Floor 'floor1': op 'Floor' is not on the allowlist (allowlist.config) (and 2 more 'Floor' nodes)")
    )
    assert "floor2" not in result.stdout.str()


def test_disallowed_op_inside_an_if_branch_is_refused_with_its_scope(registry, run_tinyai):
    branch = if_node(
        "branch", [floor("features", "rounded")], "rounded", [identity("features", "same", "keep")], "same", "logits"
    )
    registry.add("owl", saliency_model([branch], initializers=[true_cond()]))
    result = run_tinyai(registry)
    assert_clean_failure(result)
    assert_only_failing(result, "owl", "allowlist", "contract")
    result.stdout.fnmatch_lines(
        lines(
            "owl: Floor 'floor': op 'Floor' is not on the allowlist (allowlist.config) "
            "(in main graph > If 'branch'.then_branch)"
        )
    )


def test_disallowed_op_inside_a_loop_body_two_levels_down_is_refused_with_its_scope(registry, run_tinyai):
    inner = loop_node("inner", "one", "outer_x", [floor("inner_x", "inner_y")], "outer_y")
    outer = loop_node("outer", "one", "features", [inner], "logits")
    registry.add("owl", saliency_model([outer], initializers=[ONE]))
    result = run_tinyai(registry)
    assert_clean_failure(result)
    assert_only_failing(result, "owl", "allowlist", "contract")
    result.stdout.fnmatch_lines(
        lines(
            "owl: Floor 'floor': op 'Floor' is not on the allowlist (allowlist.config) "
            "(in main graph > Loop 'outer'.body > Loop 'inner'.body)"
        )
    )


def test_disallowed_op_inside_a_model_local_function_is_refused_with_the_function_named(registry, run_tinyai):
    block = helper.make_function(
        "local", "Block", ["x"], ["y"], [floor("x", "y", "block_floor")], [helper.make_opsetid("", 17)]
    )
    call = helper.make_node("Block", ["features"], ["logits"], name="block", domain="local")
    registry.add("owl", saliency_model([call], functions=[block], extra_opsets={"local": 1}))
    result = run_tinyai(registry)
    assert_clean_failure(result)
    assert_only_failing(result, "owl", "allowlist", "contract")
    result.stdout.fnmatch_lines(
        lines(
            "owl: Floor 'block_floor': op 'Floor' is not on the allowlist (allowlist.config) (in function local.Block)"
        )
    )


def test_model_local_function_of_allowed_ops_passes(registry, run_tinyai):
    block = helper.make_function(
        "local", "Block", ["x"], ["y"], [helper.make_node("Relu", ["x"], ["y"])], [helper.make_opsetid("", 17)]
    )
    call = helper.make_node("Block", ["features"], ["logits"], name="block", domain="local")
    registry.add("owl", saliency_model([call], functions=[block], extra_opsets={"local": 1}))
    run_tinyai(registry).assert_outcomes(passed=5)


def test_subgraphs_nested_nine_deep_are_refused(registry, run_tinyai):
    registry.add("owl", saliency_model(nested_ifs(9), initializers=[true_cond()]))
    result = run_tinyai(registry)
    assert_clean_failure(result)
    assert_only_failing(result, "owl", "allowlist", "contract")
    result.stdout.fnmatch_lines(lines("owl: Identity 'leaf' is nested 9 subgraphs deep (limit 8) (in main graph > If"))


def test_subgraphs_nested_eight_deep_are_accepted(registry, run_tinyai):
    registry.add("owl", saliency_model(nested_ifs(8), initializers=[true_cond()]))
    run_tinyai(registry).assert_outcomes(passed=5)


def test_seventeen_loops_are_refused(registry, run_tinyai):
    registry.add("owl", saliency_model(chained_loops(17), initializers=[ONE]))
    result = run_tinyai(registry)
    assert_clean_failure(result)
    assert_only_failing(result, "owl", "allowlist", "contract")
    result.stdout.fnmatch_lines(lines("owl: 17 Loop nodes in the model (limit 16)"))


def test_sixteen_loops_are_accepted(registry, run_tinyai):
    registry.add("owl", saliency_model(chained_loops(16), initializers=[ONE]))
    run_tinyai(registry).assert_outcomes(passed=5)


def test_loop_trip_count_from_a_graph_input_is_refused(registry, run_tinyai):
    loop = loop_node("loop", "n", "features", [identity("loop_x", "loop_y", "id")], "logits")
    registry.add("owl", saliency_model([loop], extra_inputs=[helper.make_tensor_value_info("n", INT64, [])]))
    result = run_tinyai(registry, "-m", "tinyai_allowlist")
    assert_clean_failure(result)
    result.stdout.fnmatch_lines(
        lines("owl: Loop 'loop': trip count 'n' is computed at run time; it must be a Constant scalar INT64")
    )


def test_loop_trip_count_initializer_that_is_also_a_graph_input_is_refused(registry, run_tinyai):
    loop = loop_node("loop", "one", "features", [identity("loop_x", "loop_y", "id")], "logits")
    overridable = helper.make_tensor_value_info("one", INT64, [])
    registry.add("owl", saliency_model([loop], initializers=[ONE], extra_inputs=[overridable]))
    result = run_tinyai(registry, "-m", "tinyai_allowlist")
    assert_clean_failure(result)
    result.stdout.fnmatch_lines(lines("owl: Loop 'loop': trip count 'one' is computed at run time"))


def test_loop_trip_count_over_1024_is_refused(registry, run_tinyai):
    loop = loop_node("loop", "many", "features", [identity("loop_x", "loop_y", "id")], "logits")
    registry.add("owl", saliency_model([loop], initializers=[const("many", 1025, "int64")]))
    result = run_tinyai(registry, "-m", "tinyai_allowlist")
    assert_clean_failure(result)
    result.stdout.fnmatch_lines(lines("owl: Loop 'loop': trip count 1025 is outside [0, 1024]"))


def test_loop_trip_count_that_is_not_int64_is_refused(registry, run_tinyai):
    loop = loop_node("loop", "few", "features", [identity("loop_x", "loop_y", "id")], "logits")
    registry.add("owl", saliency_model([loop], initializers=[const("few", [2], "int64")]))
    result = run_tinyai(registry, "-m", "tinyai_allowlist")
    assert_clean_failure(result)
    result.stdout.fnmatch_lines(lines("owl: Loop 'loop': trip count 'few' is INT64 of shape [1]; it must be a scalar"))


def test_loop_trip_count_from_a_constant_value_int_is_accepted(registry, run_tinyai):
    count = helper.make_node("Constant", [], ["count"], name="count", value_int=3)
    loop = loop_node("loop", "count", "features", [identity("loop_x", "loop_y", "id")], "logits")
    registry.add("owl", saliency_model([count, loop]))
    run_tinyai(registry).assert_outcomes(passed=5)


def test_scan_is_refused(registry, run_tinyai):
    body = helper.make_graph(
        [identity("slice_in", "slice_out", "id")],
        "scan_body",
        [helper.make_tensor_value_info("slice_in", 1, None)],
        [helper.make_tensor_value_info("slice_out", 1, None)],
    )
    scan = helper.make_node("Scan", ["features"], ["logits"], name="scan", body=body, num_scan_inputs=1)
    registry.add("owl", saliency_model([scan]))
    result = run_tinyai(registry, "-m", "tinyai_allowlist")
    assert_clean_failure(result)
    result.stdout.fnmatch_lines(lines("owl: Scan 'scan': Scan is refused (the runtime has no Scan)"))


def test_allowlist_option_replaces_the_default_allowlist(pytester, registry, run_tinyai):
    allowlist = pytester.path / "mine.config"
    allowlist.write_text("# only what this model needs\nai.onnx;17;Conv,Floor\n")
    registry.add("owl", saliency_model([floor("features", "logits")]))
    result = run_tinyai(registry, "--tinyai-allowlist", str(allowlist), "-m", "tinyai_allowlist")
    assert_clean_failure(result)
    result.stdout.fnmatch_lines(lines("owl: Sigmoid 'sigmoid': op 'Sigmoid' is not on the allowlist (mine.config)"))
    assert "op 'Floor'" not in result.stdout.str()


def test_op_allowed_by_the_allowlist_option_passes(pytester, registry, run_tinyai):
    allowlist = pytester.path / "mine.config"
    allowlist.write_text("ai.onnx;17;Conv,Floor,Sigmoid\n")
    registry.add("owl", saliency_model([floor("features", "logits")]))
    run_tinyai(registry, "--tinyai-allowlist", str(allowlist)).assert_outcomes(passed=5)


def test_allowlist_not_covering_the_models_opset_is_reported_once(pytester, registry, run_tinyai):
    allowlist = pytester.path / "old.config"
    allowlist.write_text("ai.onnx;13;Conv,Sigmoid\n")
    registry.add("owl")
    result = run_tinyai(registry, "--tinyai-allowlist", str(allowlist), "-m", "tinyai_allowlist")
    assert_clean_failure(result)
    result.stdout.fnmatch_lines(lines("owl: opset 17 of domain 'ai.onnx' is not covered by the allowlist"))
    findings = [line for line in result.stdout.lines if line.startswith("owl: ")]  # the summary line says FAILED
    assert sum("is not covered" in line for line in findings) == 1


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        pytest.param("ai.onnx;seventeen;Conv\n", "line 1: opsets 'seventeen' are not integers", id="bad-opset"),
        pytest.param(
            "# header\nai.onnx Conv Sigmoid\n", "line 2: expected 'domain;opsets;Op1,Op2,...'", id="no-fields"
        ),
        pytest.param('ai.onnx;17;Conv{"inputs": {\n', "line 1: ", id="unbalanced-type-info"),
        pytest.param("# nothing\n", "declares no operators", id="empty"),
    ],
)
def test_a_malformed_allowlist_file_is_a_usage_error_naming_the_line(pytester, registry, run_tinyai, text, problem):
    allowlist = pytester.path / "broken.config"
    allowlist.write_text(text)
    registry.add("owl")
    result = run_tinyai(registry, "--tinyai-allowlist", str(allowlist))
    assert_usage_error(result, f"pytest-tinyai: *allowlist {allowlist}: {problem}*")


def test_a_missing_allowlist_file_is_a_usage_error(pytester, registry, run_tinyai):
    registry.add("owl")
    result = run_tinyai(registry, "--tinyai-allowlist", str(pytester.path / "nope.config"))
    assert_usage_error(result, "pytest-tinyai: *allowlist*nope.config*does not exist*")


ORT_STYLE = """# a reduced-build config as onnxruntime's tools write it
ai.onnx;12,13;Add,Cast{"inputs": {"0": ["float", "int32_t"]}, "outputs": {"0": ["float", "int64_t"]}},Concat
com.microsoft;1;FusedConv
!no_ops_specified_means_all_ops_are_required
"""


@pytest.mark.parametrize("which", ["packaged", "with-type-info"])
def test_allowlist_reads_exactly_what_onnxruntimes_reduced_build_parser_reads(tmp_path, which):
    from onnxruntime.tools.reduced_build_config_parser import parse_config  # imports torch: only here

    path = packaged_spec("allowlist.config") if which == "packaged" else tmp_path / "ort.config"
    if which != "packaged":
        path.write_text(ORT_STYLE)
    expected, _ = parse_config(str(path))
    assert load_allowlist(path).ops == {
        domain: {opset: frozenset(names) for opset, names in per_opset.items()}
        for domain, per_opset in expected.items()
    }


def test_packaged_allowlist_holds_the_runtimes_70_op_types_for_opsets_7_to_21():
    ops = load_allowlist().ops
    assert set(ops) == {"ai.onnx"}
    assert sorted(ops["ai.onnx"]) == list(range(7, 22))
    assert {len(names) for names in ops["ai.onnx"].values()} == {70}
    assert {"Loop", "If", "Resize", "Conv", "Sigmoid"} <= ops["ai.onnx"][17]
    assert not {"Scan", "Floor"} & ops["ai.onnx"][17]


def test_importing_the_plugin_does_not_import_torch():
    probe = "import sys, pytest_tinyai.plugin; print('torch' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout == "False\n"
