"""The sidecar's two parts: the registry owner's top level (the runtime's fields type-checked, anything else allowed)
and pytest-tinyai's `tinyai` namespace (every key known, so a typo never switches a check off)."""

from __future__ import annotations

import copy

import pytest
from plugin_builders import (
    CHECKS,
    assert_clean_failure,
    assert_only_failing,
    item_outcomes,
    lines,
    saliency_sidecar,
    with_sidecar,
)

# upstream's own `gate` record (tests/data/upstream-vmaf-tiny/fr_regressor_v2_ensemble_v1_seed0.json): a PLCC verdict
UPSTREAM_GATE = {
    "mean_plcc": 0.9972533887602454,
    "mean_plcc_threshold": 0.95,
    "passed": True,
    "per_seed_min_threshold": 0.95,
    "plcc_spread": 0.0009510602756565012,
    "plcc_spread_max": 0.005,
    "this_seed_loso_plcc": 0.9975056856587572,
    "verdict": "PROMOTE",
}
POINTER = "pytest-tinyai's blocks belong under 'tinyai'"


def finding_lines(result, prefix: str) -> list[str]:
    """The output lines that start with `prefix` (a model's findings are printed one per line)."""
    return [line for line in result.stdout.lines if line.startswith(prefix)]


def at_top_level(model_id: str, block: str) -> dict:
    """The default sidecar with one of its `tinyai` blocks moved to the top level, as an old sidecar has it."""
    sidecar = copy.deepcopy(saliency_sidecar(model_id))
    sidecar[block] = sidecar["tinyai"].pop(block)
    return sidecar


def test_a_misspelt_key_inside_tinyai_fails_its_model_in_one_line_naming_the_key(registry, run_tinyai):
    sidecar = copy.deepcopy(saliency_sidecar("owl"))
    sidecar["tinyai"]["contrakt"] = sidecar["tinyai"].pop("contract")
    registry.add("owl", sidecar=sidecar)
    result = run_tinyai(registry)
    assert_clean_failure(result)
    assert_only_failing(result, "owl", *CHECKS)
    expected = "owl: sidecar 'owl.json' $.tinyai: Additional properties are not allowed ('contrakt' was unexpected)"
    assert finding_lines(result, "owl: sidecar") == [expected]


def test_unknown_top_level_fields_of_the_owner_pass(registry, run_tinyai):
    owner = {"feature_order": ["adm2", "vif_scale0"], "arch": "mlp_small", "codec_aware": True, "corpus": {"n": 9}}
    registry.add("owl", sidecar=with_sidecar("owl", **owner))
    run_tinyai(registry).assert_outcomes(passed=len(CHECKS))


def test_a_top_level_block_in_our_shape_fails_with_the_namespace_pointer(registry, run_tinyai):
    registry.add("owl", sidecar=at_top_level("owl", "contract"))
    result = run_tinyai(registry)
    assert_clean_failure(result)
    assert_only_failing(result, "owl", *CHECKS)
    result.stdout.fnmatch_lines(lines(f"owl: sidecar 'owl.json' declares 'contract' at the top level: {POINTER}"))


def test_a_top_level_block_with_our_required_keys_and_a_typo_in_it_still_gets_the_pointer(registry, run_tinyai):
    sidecar = at_top_level("owl", "contract")
    sidecar["contract"]["nominl"] = sidecar["contract"].pop("nominal")
    registry.add("owl", sidecar=sidecar)
    result = run_tinyai(registry)
    assert_clean_failure(result)
    result.stdout.fnmatch_lines(lines(f"owl: sidecar 'owl.json' declares 'contract' at the top level: {POINTER}"))


def test_upstreams_differently_shaped_gate_at_the_top_level_passes_the_sidecar_schema(registry, run_tinyai):
    registry.add("owl", sidecar=with_sidecar("owl", gate=None) | {"gate": UPSTREAM_GATE})
    run_tinyai(registry).assert_outcomes(passed=len(CHECKS))


def test_upstreams_gate_at_the_top_level_collects_no_gate_item(registry, run_tinyai):
    registry.add("owl", sidecar=with_sidecar("owl") | {"gate": UPSTREAM_GATE})
    result = run_tinyai(registry, "-m", "tinyai_registry or tinyai_gate")
    assert item_outcomes(result) == {"registry[owl]": "passed"}


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("input_names", "input", "$.input_names: 'input' is not of type 'array'"),
        ("onnx_opset", "17", "$.onnx_opset: '17' is not of type 'integer'"),
        ("output_name", 3, "$.output_name: 3 is not of type 'string'"),
        ("quant_mode", "int4", "$.quant_mode: 'int4' is not one of ['fp32', 'static', 'dynamic', 'qat']"),
        ("input_shape", "1x6", "$.input_shape: '1x6' is not of type 'array'"),
        ("training", [], "$.training: [] is not of type 'object'"),
        ("sha256", "ABC", "$.sha256: 'ABC' does not match '^[0-9a-f]{64}$'"),
    ],
)
def test_a_wrong_type_in_an_owner_field_the_runtime_reads_fails(registry, run_tinyai, field, value, message):
    sidecar = with_sidecar("owl", input_name=None) if field == "input_names" else with_sidecar("owl")
    registry.add("owl", sidecar={**sidecar, field: value})
    result = run_tinyai(registry)
    assert_clean_failure(result)
    assert_only_failing(result, "owl", *CHECKS)
    result.stdout.fnmatch_lines(lines(f"owl: sidecar 'owl.json' {message}"))


def test_a_namespace_that_is_not_an_object_fails_and_every_declared_check_is_collected_to_say_so(registry, run_tinyai):
    registry.add("owl", sidecar={**with_sidecar("owl"), "tinyai": ["contract"]})
    result = run_tinyai(registry, "-m", "tinyai_registry or tinyai_parity or tinyai_gate")
    assert_clean_failure(result)
    result.stdout.fnmatch_lines(lines("owl: sidecar 'owl.json' $.tinyai: ['contract'] is not of type 'object'"))
    result.stdout.fnmatch_lines(lines("gate[owl]", "owl: not checked: registry trust failed: sidecar 'owl.json'"))
    result.stdout.fnmatch_lines(lines("parity[owl]", "owl: not checked: registry trust failed: sidecar 'owl.json'"))
