"""Signature policy: a declared Sigstore bundle is checked when present, reported when absent (a failure only with
--tinyai-verify-signatures), and never keeps the other checks from looking at the model."""

from __future__ import annotations

import pytest
from plugin_builders import CHECKS, assert_clean_failure, assert_only_failing, item_outcomes, lines
from signature_bundles import dsse_bundle, encoded, message_bundle

BUNDLE = "owl.onnx.sigstore.json"


def add_signed(registry, bundle: dict | bytes | None, model_id: str = "owl") -> str:
    """A healthy model declaring `<id>.onnx.sigstore.json`, with that bundle written (None: absent). Its sha256."""
    entry = registry.add(model_id, sigstore_bundle=f"{model_id}.onnx.sigstore.json")
    if bundle is not None:
        data = bundle if isinstance(bundle, bytes) else encoded(bundle)
        (registry.folder / f"{model_id}.onnx.sigstore.json").write_bytes(data)
    return entry["sha256"]


def summary(result) -> str:
    output = result.stdout.str()
    return output[output.index("tinyai conformance") :]


def test_an_absent_bundle_is_reported_not_failed_and_blocks_nothing(registry, run_tinyai):
    add_signed(registry, None, "owl")
    add_signed(registry, None, "bat")
    registry.add("cat")
    result = run_tinyai(registry)
    result.assert_outcomes(passed=15)
    text = summary(result)
    assert "2 models' signatures NOT verified: bundle absent:\n  bat, owl\n" in text, text
    assert "1 model's signatures NOT verified: no sigstore_bundle declared:\n  cat\n" in text, text


def test_verify_signatures_makes_an_absent_bundle_a_registry_failure_that_blocks_nothing(registry, run_tinyai):
    add_signed(registry, None)
    result = run_tinyai(registry, "--tinyai-verify-signatures")
    assert_clean_failure(result)
    assert_only_failing(result, "owl", "registry")
    result.stdout.fnmatch_lines(lines(f"owl: sigstore bundle '{BUNDLE}' does not exist (--tinyai-verify-signatures)"))
    assert "1 model's signatures NOT verified: bundle absent:\n  owl\n" in summary(result)


def test_the_ini_key_turns_verification_on(registry, run_tinyai, pytester):
    pytester.makeini("[pytest]\ntinyai_verify_signatures = true\n")
    add_signed(registry, None)
    result = run_tinyai(registry)
    assert_only_failing(result, "owl", "registry")
    result.stdout.fnmatch_lines(lines(f"owl: sigstore bundle '{BUNDLE}' does not exist (--tinyai-verify-signatures)"))


def test_verify_signatures_fails_a_model_that_declares_no_bundle(registry, run_tinyai):
    registry.add("owl")
    result = run_tinyai(registry, "--tinyai-verify-signatures")
    assert_only_failing(result, "owl", "registry")
    result.stdout.fnmatch_lines(
        lines("owl: declares no sigstore_bundle: the model is unsigned (--tinyai-verify-signatures)")
    )


@pytest.mark.parametrize("shape", [message_bundle, dsse_bundle], ids=["messageSignature", "dsseEnvelope"])
@pytest.mark.parametrize("verify", [(), ("--tinyai-verify-signatures",)], ids=["default", "verify"])
def test_a_bundle_signing_the_registry_digest_passes(registry, run_tinyai, shape, verify):
    sha256 = registry.add("owl", sigstore_bundle=BUNDLE)["sha256"]
    (registry.folder / BUNDLE).write_bytes(encoded(shape(sha256)))
    result = run_tinyai(registry, *verify)
    result.assert_outcomes(passed=5)
    assert (
        "1 model's Sigstore bundles sign the registry's sha256 (signature, certificate chain and transparency "
        "log NOT verified):\n  owl\n" in summary(result)
    )
    assert "bundle absent" not in summary(result)


@pytest.mark.parametrize(
    ("make", "problem"),
    [
        (lambda sha: message_bundle("0" * 64), "signs sha256 {zero}, the registry says {sha}"),
        (lambda sha: dsse_bundle("0" * 64), "signs subject sha256 {zero}, the registry says {sha}"),
        (lambda sha: b"this is not JSON", "is not valid JSON"),
        (lambda sha: {"models": []}, "is not a Sigstore bundle: no mediaType"),
        (
            lambda sha: message_bundle(sha, media_type="application/vnd.in-toto+json"),
            "is not a Sigstore bundle: media type 'application/vnd.in-toto+json'",
        ),
    ],
    ids=["digest-mismatch", "dsse-digest-mismatch", "not-json", "not-a-bundle", "wrong-media-type"],
)
def test_a_present_bundle_that_does_not_sign_the_model_fails_the_registry_check_alone(
    registry, run_tinyai, make, problem
):
    sha256 = registry.add("owl", sigstore_bundle=BUNDLE)["sha256"]
    bundle = make(sha256)
    (registry.folder / BUNDLE).write_bytes(bundle if isinstance(bundle, bytes) else encoded(bundle))
    result = run_tinyai(registry)
    assert_clean_failure(result)
    assert_only_failing(result, "owl", "registry")
    expected = problem.format(zero="0" * 64, sha=sha256)
    result.stdout.fnmatch_lines(lines(f"owl: sigstore bundle '{BUNDLE}' {expected}"))


def test_a_bundle_over_its_cap_fails_the_registry_check_alone(registry, run_tinyai):
    sha256 = registry.add("owl", sigstore_bundle=BUNDLE)["sha256"]
    (registry.folder / BUNDLE).write_bytes(encoded(message_bundle(sha256)) + b" " * (1024 * 1024))
    result = run_tinyai(registry)
    assert_only_failing(result, "owl", "registry")
    result.stdout.fnmatch_lines([f"*owl: sigstore bundle '{BUNDLE}' is *, over the cap of 1,048,576 bytes*"])


@pytest.mark.parametrize(
    ("path", "problem"),
    [
        ("../owl.onnx.sigstore.json", "sigstore bundle path '../owl.onnx.sigstore.json' escapes the registry folder"),
        ("sub/../../x.sigstore.json", "sigstore bundle path 'sub/../../x.sigstore.json' escapes the registry folder"),
    ],
    ids=["dotdot", "nested-dotdot"],
)
def test_a_bundle_path_that_escapes_the_folder_gates_everything(registry, run_tinyai, path, problem):
    """A path that breaks the confinement rules is a registry refusing its own rules, whatever file it names."""
    registry.add("owl", sigstore_bundle=path)
    (registry.folder.parent / "owl.onnx.sigstore.json").write_text("{}")
    result = run_tinyai(registry)
    assert_clean_failure(result)
    assert_only_failing(result, "owl", *CHECKS)
    result.stdout.fnmatch_lines(lines(f"owl: {problem}"))


def test_a_symlink_leading_outside_gates_everything_even_when_it_dangles(registry, run_tinyai):
    registry.add("owl", sigstore_bundle=BUNDLE)
    (registry.folder / BUNDLE).symlink_to(registry.folder.parent / "elsewhere.sigstore.json")
    result = run_tinyai(registry)
    assert_only_failing(result, "owl", *CHECKS)
    result.stdout.fnmatch_lines(
        [f"*owl: sigstore bundle path '{BUNDLE}' leads through a symlink to *, outside the folder*"]
    )


def test_a_broken_model_still_reports_its_absent_bundle(registry, run_tinyai):
    """Whether the bundle is there does not depend on the ONNX: a missing ONNX fails, and the summary still says."""
    registry.add("owl", sigstore_bundle=BUNDLE)
    (registry.folder / "owl.onnx").unlink()
    result = run_tinyai(registry)
    assert item_outcomes(result)["registry[owl]"] == "failed"
    result.stdout.fnmatch_lines(lines("owl: ONNX 'owl.onnx' does not exist"))
    assert "1 model's signatures NOT verified: bundle absent:\n  owl\n" in summary(result)
