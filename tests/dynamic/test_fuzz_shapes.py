"""Fuzz check (`tinyai_fuzz`): hypothesis holds a model to its contract's dims, inside and outside them."""

from __future__ import annotations

import ast
import re

from dynamic_builders import (
    assert_clean_failure,
    assert_no_internals,
    channel_model,
    dims,
    lines,
    multiple_of_8_model,
    noisy_model,
    odd_height_crash_model,
    outcomes,
    run_tinyai,
    sidecar,
)

from pytest_tinyai.specs import packaged_spec

FEW = ("--tinyai-fuzz-examples", "10")

COUNTING_CONFTEST = """
import pytest_tinyai.checks.fuzz as fuzz

CALLS = []
_original = fuzz.run_within_contract


def _counting(model, contract, dims):
    CALLS.append(tuple(sorted(dims.items())))
    return _original(model, contract, dims)


def pytest_configure(config):
    fuzz.run_within_contract = _counting


def pytest_unconfigure(config):
    fuzz.run_within_contract = _original


def pytest_terminal_summary(terminalreporter):
    terminalreporter.write_line(f"fuzz calls: {len(CALLS)}")
    terminalreporter.write_line(f"fuzz shapes: {CALLS}")
"""


def fuzz_message(result) -> str:
    """The failure text of the one fuzz item."""
    reports = [r for r in result.reprec.getreports("pytest_runtest_logreport") if r.failed]
    assert len(reports) == 1, result.stdout.str()
    return str(reports[0].longrepr)


def test_a_model_that_runs_every_size_of_its_contract_passes_fuzz(pytester, workspace):
    workspace.add("clean", channel_model(), sidecar("clean", dim_rules=dims(1, 64)))
    result = run_tinyai(pytester, "tinyai_fuzz", *FEW)
    assert outcomes(result) == {"fuzz[clean]": "passed"}
    assert result.ret == 0
    assert_no_internals(result)


def test_a_crash_at_some_valid_size_is_found_and_shrunk_to_the_smallest_shape(pytester, workspace):
    # Runs every even H (the extremes and corners tried first all pass); fails at every odd H.
    workspace.add("odd", odd_height_crash_model(), sidecar("odd", dim_rules=dims(2, 64)))
    result = run_tinyai(pytester, "tinyai_fuzz", *FEW)
    assert_clean_failure(result)
    assert outcomes(result) == {"fuzz[odd]": "failed"}
    result.stdout.fnmatch_lines(lines("odd: fails at H=3, W=2, inside the contract: ", "ONNXRuntimeError"))


def test_a_too_loose_multiple_of_is_flagged_with_a_shape_inside_the_contract_that_crashes(pytester, workspace):
    # The model needs H, W ≡ 0 mod 8; the contract admits multiples of 4 (12 is one).
    workspace.add("loose", multiple_of_8_model(), sidecar("loose", dim_rules=dims(8, 64, 4), nominal=16))
    result = run_tinyai(pytester, "tinyai_fuzz", *FEW)
    assert_clean_failure(result)
    message = fuzz_message(result)
    match = re.search(r"loose: fails at H=(\d+), W=(\d+), inside the contract", message)
    assert match, message
    assert sorted(map(int, match.groups())) == [8, 12], message


def test_a_needlessly_strict_multiple_of_is_flagged(pytester, workspace):
    # The model runs every multiple of 8; the contract refuses those that are not multiples of 16.
    workspace.add("strict", multiple_of_8_model(), sidecar("strict", dim_rules=dims(16, 64, 16), nominal=16))
    result = run_tinyai(pytester, "tinyai_fuzz", *FEW)
    assert_clean_failure(result)
    message = fuzz_message(result)
    assert re.search(r"strict: the contract refuses H=\d+, W=\d+, yet the model runs it correctly", message), message
    assert "H.multiple_of=16, W.multiple_of=16 is needlessly strict" in message


def test_a_multiple_of_on_a_model_that_runs_every_size_is_needlessly_strict(pytester, workspace):
    workspace.add("any", channel_model(), sidecar("any", dim_rules=dims(8, 64, 8), nominal=16))
    result = run_tinyai(pytester, "tinyai_fuzz", *FEW)
    assert_clean_failure(result)
    result.stdout.fnmatch_lines(lines("any: the contract refuses H=", "yet the model runs it correctly", "needlessly"))


def test_the_exact_multiple_of_a_model_needs_passes_fuzz(pytester, workspace):
    workspace.add("exact", multiple_of_8_model(), sidecar("exact", dim_rules=dims(8, 64, 8), nominal=16))
    result = run_tinyai(pytester, "tinyai_fuzz", *FEW)
    assert outcomes(result) == {"fuzz[exact]": "passed"}
    assert_no_internals(result)


def test_an_output_outside_its_declared_range_is_flagged(pytester, workspace):
    # No Sigmoid: the map is 10 x the red channel of a standard-normal input, far outside [0, 1].
    workspace.add("raw", channel_model(sigmoid=False), sidecar("raw", dim_rules=dims(1, 64)))
    result = run_tinyai(pytester, "tinyai_fuzz", *FEW)
    assert_clean_failure(result)
    result.stdout.fnmatch_lines(lines("raw: 'saliency_map' spans [", "] at H=", "outside [0.0, 1.0]"))


def test_fuzz_examples_option_sets_how_many_shapes_are_drawn(pytester, workspace):
    pytester.makeconftest(COUNTING_CONFTEST)
    workspace.add("clean", channel_model(), sidecar("clean", dim_rules=dims(1, 64)))
    counts = {}
    for examples in (3, 40):
        result = run_tinyai(pytester, "tinyai_fuzz", "--tinyai-fuzz-examples", str(examples))
        assert result.ret == 0, result.stdout.str()
        counts[examples] = int(re.search(r"fuzz calls: (\d+)", result.stdout.str()).group(1))
    # Four explicit shapes (the extremes and the two corners) plus the drawn examples.
    assert 3 <= counts[3] <= 3 + 4
    assert 40 <= counts[40] <= 40 + 4


def test_hypothesis_seed_makes_the_drawn_shapes_reproducible(pytester, workspace):
    pytester.makeconftest(COUNTING_CONFTEST)
    workspace.add("clean", channel_model(), sidecar("clean", dim_rules=dims(1, 64)))
    shapes = []
    for _ in range(2):
        result = run_tinyai(pytester, "tinyai_fuzz", *FEW, "--hypothesis-seed", "1234")
        assert result.ret == 0, result.stdout.str()
        shapes.append(re.search(r"fuzz shapes: (.*)", result.stdout.str()).group(1))
    assert shapes[0] == shapes[1]


def fuzzed_shapes(result) -> list[tuple[int, int]]:
    """(H, W) of every shape fuzz asked the plugin to run, in order (needs COUNTING_CONFTEST)."""
    calls = ast.literal_eval(re.search(r"fuzz shapes: (.*)", result.stdout.str()).group(1))
    return [(dict(call)["H"], dict(call)["W"]) for call in calls]


def test_drawn_shapes_stay_within_the_pixel_budget_and_only_the_corners_exceed_it(pytester, workspace):
    pytester.makeconftest(COUNTING_CONFTEST)
    workspace.add("clean", channel_model(), sidecar("clean", dim_rules=dims(1, 64)))
    result = run_tinyai(pytester, "tinyai_fuzz", "--tinyai-fuzz-examples", "40", "--tinyai-fuzz-pixel-budget", "200")
    assert result.ret == 0, result.stdout.str()
    corners = {(1, 1), (64, 64), (1, 64), (64, 1)}
    shapes = fuzzed_shapes(result)
    assert corners <= set(shapes)
    assert all(height * width <= 200 for height, width in shapes if (height, width) not in corners), shapes


def test_the_extremes_of_every_dim_and_1080x1920_are_tried_and_the_all_max_corner_is_capped_at_1080p(
    pytester, workspace
):
    pytester.makeconftest(COUNTING_CONFTEST)
    workspace.add("clean", channel_model(), sidecar("clean", dim_rules=dims(1, 2048), nominal=256))
    result = run_tinyai(pytester, "tinyai_fuzz", *FEW)
    assert result.ret == 0, result.stdout.str()
    shapes = fuzzed_shapes(result)
    assert {(1, 1), (2048, 1), (1, 2048), (1080, 1920), (1440, 1440)} <= set(shapes)
    assert max(height * width for height, width in shapes) == 1080 * 1920
    assert shapes.count((1080, 1920)) == shapes.count((1440, 1440)) == 1


def test_a_model_whose_output_changes_between_two_runs_is_flagged(pytester, workspace):
    """The noise op is off the runtime's allowlist, so it is allowed here: otherwise the model is never run."""
    allowlist = pytester.path / "allowlist.config"
    allowlist.write_text(packaged_spec("allowlist.config").read_text() + "\nai.onnx;17;RandomUniformLike\n")
    workspace.add("noisy", noisy_model(), sidecar("noisy", dim_rules=dims(1, 64)))
    result = run_tinyai(pytester, "tinyai_fuzz", *FEW, "--tinyai-allowlist", str(allowlist))
    assert_clean_failure(result)
    result.stdout.fnmatch_lines(lines("noisy: 'saliency_map' differs between two runs at H="))
