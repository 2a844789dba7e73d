"""The registry check: the registry file, each entry, and every file an entry names are trusted or refused."""

from __future__ import annotations

import json

import onnx
import pytest
from plugin_builders import (
    CHECKS,
    assert_clean_failure,
    assert_only_failing,
    const,
    item_outcomes,
    lines,
    saliency_model,
    sha256_bytes,
    with_sidecar,
)

ALL_FAIL = CHECKS  # an untrusted model fails its registry check, and every other check refuses to look at it


def assert_declaration_only(result, model_id: str) -> None:
    """A broken declaration gives its model one failing registry item and no item of any other check."""
    assert {name: outcome for name, outcome in item_outcomes(result).items() if f"[{model_id}]" in name} == {
        f"registry[{model_id}]": "failed"
    }


def test_sha256_mismatch_fails_registry_check_naming_both_digests(registry, run_tinyai):
    registry.add("owl", sha256="0" * 64)
    actual = sha256_bytes((registry.folder / "owl.onnx").read_bytes())
    result = run_tinyai(registry)
    assert_clean_failure(result)
    assert_only_failing(result, "owl", *ALL_FAIL)
    result.stdout.fnmatch_lines(
        lines(f"owl: sha256 mismatch for 'owl.onnx': registry says {'0' * 64}, file is {actual}")
    )


def test_other_checks_of_an_untrusted_model_say_it_was_not_checked(registry, run_tinyai):
    registry.add("owl", sha256="0" * 64)
    result = run_tinyai(registry, "-m", "tinyai_opset")
    assert_clean_failure(result)
    result.stdout.fnmatch_lines(lines("owl: not checked: registry trust failed: sha256 mismatch for 'owl.onnx'"))


def test_dot_dot_path_escaping_the_registry_folder_is_refused(registry, run_tinyai):
    outside = saliency_model().SerializeToString()
    (registry.folder.parent / "x.onnx").write_bytes(outside)
    (registry.folder / "sub").mkdir()
    registry.add("owl", onnx_path="sub/../../x.onnx", onnx_bytes=outside, sidecar=None, smoke=True)
    result = run_tinyai(registry)
    assert_clean_failure(result)
    assert_only_failing(result, "owl", *ALL_FAIL)
    result.stdout.fnmatch_lines(lines("owl: ONNX path 'sub/../../x.onnx' escapes the registry folder"))


def test_symlink_leading_outside_the_registry_folder_is_refused(registry, run_tinyai):
    data = saliency_model().SerializeToString()
    outside = registry.folder.parent / "elsewhere" / "owl.onnx"
    outside.parent.mkdir()
    outside.write_bytes(data)
    (registry.folder / "owl.onnx").symlink_to(outside)
    registry.add("owl")
    result = run_tinyai(registry)
    assert_clean_failure(result)
    assert_only_failing(result, "owl", *ALL_FAIL)
    result.stdout.fnmatch_lines(lines(f"owl: ONNX path 'owl.onnx' leads through a symlink to {outside}"))


def test_symlink_staying_inside_the_registry_folder_is_accepted(registry, run_tinyai):
    real = registry.folder / "blobs" / "owl-v1.onnx"
    real.parent.mkdir()
    real.write_bytes(saliency_model().SerializeToString())
    (registry.folder / "owl.onnx").symlink_to(real)
    registry.add("owl")
    result = run_tinyai(registry)
    result.assert_outcomes(passed=5)


def test_absolute_onnx_path_is_refused(registry, run_tinyai):
    outside = registry.folder.parent / "x.onnx"
    outside.write_bytes(saliency_model().SerializeToString())
    registry.add("owl", onnx_path=str(outside), onnx_bytes=outside.read_bytes(), sidecar=None, smoke=True)
    result = run_tinyai(registry)
    assert_clean_failure(result)
    assert_declaration_only(result, "owl")
    result.stdout.fnmatch_lines(
        lines(f"owl: ONNX path '{outside}' is absolute; paths must be relative to the registry folder")
    )


def test_sidecar_symlink_leading_outside_the_registry_folder_is_refused(registry, run_tinyai):
    registry.add("owl")
    outside = registry.folder.parent / "owl.json"
    (registry.folder / "owl.json").rename(outside)
    (registry.folder / "owl.json").symlink_to(outside)
    result = run_tinyai(registry)
    assert_clean_failure(result)
    assert_only_failing(result, "owl", *ALL_FAIL)
    result.stdout.fnmatch_lines(lines(f"owl: sidecar path 'owl.json' leads through a symlink to {outside}"))


def test_missing_onnx_file_is_reported_as_missing(registry, run_tinyai):
    registry.add("owl")
    (registry.folder / "owl.onnx").unlink()
    result = run_tinyai(registry)
    assert_clean_failure(result)
    result.stdout.fnmatch_lines(lines("owl: ONNX 'owl.onnx' does not exist"))


def test_zero_byte_onnx_file_is_refused_as_empty(registry, run_tinyai):
    registry.add("owl", onnx_bytes=b"")
    result = run_tinyai(registry)
    assert_clean_failure(result)
    assert_only_failing(result, "owl", *ALL_FAIL)
    result.stdout.fnmatch_lines(lines("owl: ONNX 'owl.onnx' is empty (0 bytes)"))


def test_truncated_onnx_file_with_matching_digest_is_not_a_valid_model(registry, run_tinyai):
    data = saliency_model().SerializeToString()
    registry.add("owl", onnx_bytes=data[: len(data) // 2])
    result = run_tinyai(registry)
    assert_clean_failure(result)
    assert_only_failing(result, "owl", *ALL_FAIL)
    result.stdout.fnmatch_lines(lines("owl: 'owl.onnx' is not a valid ONNX model: "))


def test_onnx_file_over_the_size_cap_is_refused_with_its_size_and_the_cap(registry, run_tinyai):
    model = saliency_model()
    model.doc_string = "padding " * 512  # about 4 KiB, over a 0.001 MiB (1048-byte) cap
    size = len(model.SerializeToString())
    registry.add("owl", model)
    result = run_tinyai(registry, "--tinyai-max-onnx-mib", "0.001")
    assert_clean_failure(result)
    assert_only_failing(result, "owl", *ALL_FAIL)
    result.stdout.fnmatch_lines([f"*owl: ONNX 'owl.onnx' is {size:,} bytes (*MiB), over the cap of 1,048 bytes (*MiB)"])


def test_duplicate_id_fails_the_registry_check_of_both_entries(registry, run_tinyai):
    registry.add("owl")
    registry.add("owl", onnx_path="owl2.onnx")
    result = run_tinyai(registry)
    assert_clean_failure(result)
    outcomes = item_outcomes(result)
    assert outcomes["registry[owl@models[0]]"] == outcomes["registry[owl@models[1]]"] == "failed"
    result.stdout.fnmatch_lines(lines("owl: duplicate id 'owl' (2 entries share it)"))


def test_unknown_key_in_an_entry_is_a_schema_error_naming_the_key(registry, run_tinyai):
    registry.add("owl", colour="blue")
    result = run_tinyai(registry)
    assert_clean_failure(result)
    assert_declaration_only(result, "owl")
    result.stdout.fnmatch_lines(lines("owl: entry: Additional properties are not allowed ('colour' was unexpected)"))


def test_entry_with_a_bad_id_pattern_is_a_schema_error(registry, run_tinyai):
    registry.add("Owl")
    result = run_tinyai(registry)
    assert_clean_failure(result)
    result.stdout.fnmatch_lines(lines("Owl: entry.id: 'Owl' does not match '^[a-z0-9][a-z0-9_-]*$'"))


def test_non_smoke_entry_without_opset_is_a_schema_error(registry, run_tinyai):
    registry.add("owl", drop=["opset"])
    result = run_tinyai(registry)
    assert_clean_failure(result)
    result.stdout.fnmatch_lines(lines("owl: entry: 'opset' is a required property"))


def test_registry_that_is_not_json_fails_one_item_with_the_parse_error(registry, run_tinyai):
    registry.path.write_text('{"schema_version": 1, "models": [')
    result = run_tinyai(registry.path)
    assert_clean_failure(result)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(lines("registry.json: registry is not valid JSON: Expecting value (line 1, column 34)"))


def test_registry_failing_the_top_level_schema_fails_with_each_schema_error(registry, run_tinyai):
    registry.add("owl")
    registry.path.write_text(json.dumps({"schema_version": 3, "models": registry.entries, "owner": "me"}))
    result = run_tinyai(registry.path)
    assert_clean_failure(result)
    assert item_outcomes(result)["registry[registry.json]"] == "failed"
    result.stdout.fnmatch_lines(
        lines(
            "registry.json: $: Additional properties are not allowed ('owner' was unexpected)",
            "registry.json: $.schema_version: 3 is not one of [0, 1]",
        )
    )


def test_registry_without_a_models_list_fails_with_the_schema_error(registry, run_tinyai):
    registry.path.write_text(json.dumps({"schema_version": 1, "models": {"owl": {}}}))
    result = run_tinyai(registry.path)
    assert_clean_failure(result)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(lines("registry.json: $.models: {'owl': {}} is not of type 'array'"))


def test_missing_sidecar_fails_a_non_smoke_model(registry, run_tinyai):
    registry.add("owl", sidecar=None)
    result = run_tinyai(registry)
    assert_clean_failure(result)
    assert_only_failing(result, "owl", *ALL_FAIL)
    result.stdout.fnmatch_lines(lines("owl: sidecar 'owl.json' is missing (required for non-smoke models)"))


def test_missing_sidecar_is_fine_for_a_smoke_model(registry, run_tinyai):
    registry.add("owl", saliency_model(input_shape=(1, 3, 8, 8)), sidecar=None, smoke=True)
    run_tinyai(registry).assert_outcomes(passed=5)  # run at the graph's own shape


def test_sidecar_that_is_not_json_fails_with_the_parse_error(registry, run_tinyai):
    registry.add("owl", sidecar='{"name": "owl",')
    result = run_tinyai(registry)
    assert_clean_failure(result)
    assert_only_failing(result, "owl", *ALL_FAIL)
    result.stdout.fnmatch_lines(lines("owl: sidecar 'owl.json' is not valid JSON: "))


def test_sidecar_schema_violation_names_the_field(registry, run_tinyai):
    registry.add("owl", sidecar=with_sidecar("owl", onnx_opset="17"))
    result = run_tinyai(registry)
    assert_clean_failure(result)
    assert_only_failing(result, "owl", *ALL_FAIL)
    result.stdout.fnmatch_lines(lines("owl: sidecar 'owl.json' $.onnx_opset: '17' is not of type 'integer'"))


def test_missing_licence_fails_under_schema_version_1(registry, run_tinyai):
    registry.add("owl", drop=["license"])
    result = run_tinyai(registry)
    assert_clean_failure(result)
    assert_declaration_only(result, "owl")
    result.stdout.fnmatch_lines(lines("owl: entry: 'license' is required from schema_version 1 on"))


def test_missing_licence_is_fine_under_schema_version_0(registry, run_tinyai):
    registry.schema_version = 0
    registry.add("owl", drop=["license"])
    run_tinyai(registry).assert_outcomes(passed=5)


def _with_external_weights(location: str) -> onnx.ModelProto:
    """The reference model whose Conv weight lives in the external file `location` (relative to the .onnx)."""
    model = saliency_model()
    weight = next(tensor for tensor in model.graph.initializer if tensor.name == "conv_w")
    weight.ClearField("float_data")
    weight.ClearField("raw_data")
    weight.data_location = onnx.TensorProto.EXTERNAL
    for key, value in (("location", location), ("offset", "0"), ("length", "12")):
        weight.external_data.add(key=key, value=value)
    return model


def _weight_bytes() -> bytes:
    return onnx.numpy_helper.to_array(const("w", [0.2, 0.3, 0.5])).tobytes()


def test_external_data_escaping_the_registry_folder_is_refused(registry, run_tinyai):
    (registry.folder.parent / "weights.bin").write_bytes(_weight_bytes())
    registry.add("owl", _with_external_weights("../weights.bin"))
    result = run_tinyai(registry)
    assert_clean_failure(result)
    assert_only_failing(result, "owl", *ALL_FAIL)
    result.stdout.fnmatch_lines(lines("owl: external data path '../weights.bin' escapes the registry folder"))


def test_external_data_at_an_absolute_location_is_refused(registry, run_tinyai):
    outside = registry.folder.parent / "weights.bin"
    outside.write_bytes(_weight_bytes())
    registry.add("owl", _with_external_weights(str(outside)))
    result = run_tinyai(registry)
    assert_clean_failure(result)
    result.stdout.fnmatch_lines(lines(f"owl: external data path '{outside}' is absolute"))


def test_external_data_inside_the_registry_folder_loads_and_passes(registry, run_tinyai):
    (registry.folder / "owl.onnx.data").write_bytes(_weight_bytes())
    registry.add("owl", _with_external_weights("owl.onnx.data"))
    run_tinyai(registry).assert_outcomes(passed=5)


def test_external_data_over_the_size_cap_is_refused(registry, run_tinyai):
    (registry.folder / "owl.onnx.data").write_bytes(_weight_bytes() + b"\0" * 4096)
    registry.add("owl", _with_external_weights("owl.onnx.data"))
    result = run_tinyai(registry, "--tinyai-max-onnx-mib", "0.001")
    assert_clean_failure(result)
    result.stdout.fnmatch_lines(
        ["*owl: external data 'owl.onnx.data' is 4,108 bytes (*), over the cap of 1,048 bytes*"]
    )


def test_missing_external_data_file_is_reported(registry, run_tinyai):
    registry.add("owl", _with_external_weights("owl.onnx.data"))
    result = run_tinyai(registry)
    assert_clean_failure(result)
    result.stdout.fnmatch_lines(lines("owl: external data 'owl.onnx.data' does not exist (named by 'owl.onnx')"))


@pytest.mark.parametrize("sibling", [None, b"not the digest you declared"], ids=["missing", "digest-mismatch"])
def test_declared_int8_sibling_must_exist_and_match_its_digest(registry, run_tinyai, sibling):
    declared = sha256_bytes(b"the int8 model")
    if sibling is not None:
        (registry.folder / "owl.int8.onnx").write_bytes(sibling)
    registry.add("owl", quant_mode="static", int8_sha256=declared)
    result = run_tinyai(registry)
    assert_clean_failure(result)
    assert_only_failing(result, "owl", *ALL_FAIL)
    expected = (
        "owl: int8 sibling 'owl.int8.onnx' does not exist"
        if sibling is None
        else f"owl: int8_sha256 mismatch for 'owl.int8.onnx': registry says {declared}, file is {sha256_bytes(sibling)}"
    )
    result.stdout.fnmatch_lines(lines(expected))


def test_int8_sibling_with_the_declared_digest_passes(registry, run_tinyai):
    sibling = saliency_model().SerializeToString()
    (registry.folder / "owl.int8.onnx").write_bytes(sibling)
    registry.add("owl", quant_mode="static", int8_sha256=sha256_bytes(sibling))
    run_tinyai(registry).assert_outcomes(passed=5)


def test_a_sibling_declared_by_its_digest_alone_is_only_hashed(registry, run_tinyai):
    """Without a quant_mode that loads it the runtime never runs the sibling: its digest is all there is to check."""
    (registry.folder / "owl.int8.onnx").write_bytes(b"the int8 model")
    registry.add("owl", int8_sha256=sha256_bytes(b"the int8 model"))
    run_tinyai(registry).assert_outcomes(passed=5)


def test_quantised_entry_without_int8_digest_is_a_schema_error(registry, run_tinyai):
    registry.add("owl", quant_mode="dynamic")
    result = run_tinyai(registry)
    assert_clean_failure(result)
    result.stdout.fnmatch_lines(lines("owl: entry: 'int8_sha256' is a required property"))
