"""The Sigstore bundle reader: what a bundle says it signed, against the registry's sha256 (pure function)."""

from __future__ import annotations

import json

import pytest
from signature_bundles import b64, dsse_bundle, encoded, message_bundle, statement

from pytest_tinyai.signatures import bundle_problem

DIGEST = "ab" * 32
OTHER = "cd" * 32
NAME = "m.onnx.sigstore.json"


def test_a_message_signature_over_the_registry_digest_passes():
    assert bundle_problem(encoded(message_bundle(DIGEST)), NAME, DIGEST) is None


def test_a_dsse_statement_naming_the_registry_digest_passes():
    assert bundle_problem(encoded(dsse_bundle(DIGEST)), NAME, DIGEST) is None


def test_a_statement_with_several_subjects_passes_when_one_is_the_model():
    payload = json.dumps(statement(OTHER, DIGEST)).encode()
    assert bundle_problem(encoded(dsse_bundle(payload=payload)), NAME, DIGEST) is None


@pytest.mark.parametrize(
    ("bundle", "problem"),
    [
        (message_bundle(OTHER), f"sigstore bundle '{NAME}' signs sha256 {OTHER}, the registry says {DIGEST}"),
        (dsse_bundle(OTHER), f"sigstore bundle '{NAME}' signs subject sha256 {OTHER}, the registry says {DIGEST}"),
        (
            message_bundle(DIGEST, algorithm="SHA2_384"),
            f"sigstore bundle '{NAME}' messageDigest algorithm is SHA2_384, not SHA2_256",
        ),
        (
            message_bundle(DIGEST, media_type="application/json"),
            f"sigstore bundle '{NAME}' is not a Sigstore bundle: media type 'application/json' (a bundle is ",
        ),
        ({"hello": "world"}, f"sigstore bundle '{NAME}' is not a Sigstore bundle: no mediaType (a bundle is "),
        (
            {"mediaType": message_bundle(DIGEST)["mediaType"]},
            f"sigstore bundle '{NAME}' is not a Sigstore bundle: verificationMaterial: Field required",
        ),
        ([1, 2], f"sigstore bundle '{NAME}' is not a Sigstore bundle: a JSON list, not an object"),
        (
            dsse_bundle(DIGEST, payload_type="text/plain"),
            f"sigstore bundle '{NAME}' dsseEnvelope payloadType is 'text/plain', not application/vnd.in-toto+json",
        ),
        (
            dsse_bundle(payload=b"not json"),
            f"sigstore bundle '{NAME}' in-toto statement is not valid JSON",
        ),
        (
            dsse_bundle(payload=json.dumps({"_type": "something else"}).encode()),
            f"sigstore bundle '{NAME}' dsseEnvelope payload is not an in-toto statement (_type something else)",
        ),
        (
            dsse_bundle(payload=json.dumps({**statement(DIGEST), "subject": []}).encode()),
            f"sigstore bundle '{NAME}' in-toto statement has no subject",
        ),
    ],
    ids=[
        "message-digest-mismatch",
        "dsse-digest-mismatch",
        "not-sha256",
        "wrong-media-type",
        "not-a-bundle",
        "only-a-media-type",
        "not-an-object",
        "dsse-not-in-toto-payload-type",
        "dsse-payload-not-json",
        "dsse-not-a-statement",
        "dsse-no-subject",
    ],
)
def test_a_bundle_that_does_not_sign_the_registry_digest_is_one_line(bundle, problem):
    found = bundle_problem(encoded(bundle), NAME, DIGEST)
    assert found is not None and found.startswith(problem), found
    assert "\n" not in found


def test_text_that_is_not_json_is_refused():
    assert (
        bundle_problem(b"\x89PNG", NAME, DIGEST)
        == f"sigstore bundle '{NAME}' is not UTF-8 text: invalid start byte at byte 0"
    )
    found = bundle_problem(b"{not json", NAME, DIGEST)
    assert found is not None and found.startswith(f"sigstore bundle '{NAME}' is not valid JSON")


def test_a_repeated_digest_key_is_refused_not_read_either_way():
    """A reader that keeps the last copy and one that keeps the first would see different digests: refused."""
    text = encoded(message_bundle(OTHER)).decode()
    repeated = text.replace('"algorithm"', f'"digest": "{b64(bytes.fromhex(DIGEST))}", "algorithm"', 1)
    found = bundle_problem(repeated.encode(), NAME, DIGEST)
    assert found is not None and "duplicate key 'digest'" in found, found


def test_a_digest_that_is_not_strict_base64_is_refused():
    bundle = message_bundle(DIGEST)
    bundle["messageSignature"]["messageDigest"]["digest"] = "!" + bundle["messageSignature"]["messageDigest"]["digest"]
    assert (
        bundle_problem(encoded(bundle), NAME, DIGEST)
        == f"sigstore bundle '{NAME}' messageDigest digest is not valid base64"
    )


def test_a_message_signature_without_a_digest_names_nothing():
    bundle = message_bundle(DIGEST)
    del bundle["messageSignature"]["messageDigest"]
    found = bundle_problem(encoded(bundle), NAME, DIGEST)
    assert (
        found == f"sigstore bundle '{NAME}' has a messageSignature without a messageDigest: it names no signed digest"
    )


def test_a_bundle_with_both_contents_is_not_a_bundle():
    bundle = {**message_bundle(DIGEST), "dsseEnvelope": dsse_bundle(DIGEST)["dsseEnvelope"]}
    found = bundle_problem(encoded(bundle), NAME, DIGEST)
    assert found is not None and "Exactly one of messageSignature or dsseEnvelope must be set" in found, found
