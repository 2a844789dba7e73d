"""Sigstore bundles: what a registry entry's `sigstore_bundle` says it signed, compared with the entry's sha256.

A bundle is parsed strictly (`strict_json`: no duplicate key, no non-finite number) and then as a Sigstore bundle
(sigstore-models: media type, one of `messageSignature` or `dsseEnvelope`, verification material). Its signed
digest must equal the registry's sha256 of the ONNX: `messageSignature.messageDigest` (SHA2_256), or the sha256
of a subject of the in-toto statement a `dsseEnvelope` carries.

What is NOT verified: the signature itself, the certificate (chain, identity, validity) and the transparency-log
entries. A bundle that passes here says which bytes its signer meant; it does not prove who signed them.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from typing import Any, get_args

from pytest_tinyai.findings import printable
from pytest_tinyai.strict_json import JsonProblem, parse_json

# What the summary says of each model's signature.
NOT_DECLARED = "not declared"
ABSENT = "absent"
DIGEST_MATCHES = "digest matches"

IN_TOTO_PAYLOAD_TYPE = "application/vnd.in-toto+json"
IN_TOTO_STATEMENTS = ("https://in-toto.io/Statement/v1", "https://in-toto.io/Statement/v0.1")
NOT_VERIFIED = "signature, certificate chain and transparency log NOT verified"


@dataclass(frozen=True)
class Signature:
    """What the registry check established about one entry's signature: its state (`NOT_DECLARED`, `ABSENT`,
    `DIGEST_MATCHES`, or None when the bundle is present but wrong) and the bundle's path as declared."""

    state: str | None
    bundle: str | None = None

    @property
    def record(self) -> dict[str, Any]:
        """What the registry item records for the summary."""
        return {"signature": self.state, "bundle": self.bundle}


def bundle_problem(data: bytes, bundle: str, sha256: str) -> str | None:
    """Why the bundle's bytes are not a Sigstore bundle signing `sha256`, in one line; None when they are."""
    from pydantic import ValidationError
    from sigstore_models.bundle.v1 import BUNDLE_MEDIA_TYPES, Bundle

    what = f"sigstore bundle '{printable(bundle)}'"
    try:
        document = parse_json(data, what)
    except JsonProblem as problem:
        return str(problem)
    if not isinstance(document, dict):
        return f"{what} is not a Sigstore bundle: a JSON {type(document).__name__}, not an object"
    media_type = document.get("mediaType")
    if media_type not in get_args(BUNDLE_MEDIA_TYPES):
        shown = "no mediaType" if media_type is None else f"media type {printable(repr(media_type), 120)}"
        return f"{what} is not a Sigstore bundle: {shown} (a bundle is application/vnd.dev.sigstore.bundle...+json)"
    try:
        parsed = Bundle.from_json(json.dumps(document))
    except ValidationError as error:
        return f"{what} is not a Sigstore bundle: {_first_error(error)}"
    if parsed.message_signature is not None:
        return _message_digest_problem(what, document["messageSignature"], sha256)
    return _dsse_problem(what, document["dsseEnvelope"], sha256)


def _first_error(error: Any) -> str:
    first = error.errors()[0]
    where = ".".join(str(part) for part in first["loc"]) or "document"
    count = error.error_count()
    more = f" (and {count - 1} more)" if count > 1 else ""
    return printable(f"{where}: {first['msg']}{more}")


def _strict_base64(value: str) -> bytes | None:
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        return None


def _message_digest_problem(what: str, signature: dict[str, Any], sha256: str) -> str | None:
    digest = signature.get("messageDigest")
    if digest is None:
        return f"{what} has a messageSignature without a messageDigest: it names no signed digest"
    if digest["algorithm"] != "SHA2_256":
        return f"{what} messageDigest algorithm is {printable(digest['algorithm'])}, not SHA2_256"
    raw = _strict_base64(digest["digest"])
    if raw is None:
        return f"{what} messageDigest digest is not valid base64"
    if raw.hex() != sha256:
        return f"{what} signs sha256 {printable(raw.hex())}, the registry says {sha256}"
    return None


def _dsse_problem(what: str, envelope: dict[str, Any], sha256: str) -> str | None:
    if envelope["payloadType"] != IN_TOTO_PAYLOAD_TYPE:
        return f"{what} dsseEnvelope payloadType is '{printable(envelope['payloadType'])}', not {IN_TOTO_PAYLOAD_TYPE}"
    payload = _strict_base64(envelope["payload"])
    if payload is None:
        return f"{what} dsseEnvelope payload is not valid base64"
    try:
        statement = parse_json(payload, f"{what} in-toto statement")
    except JsonProblem as problem:
        return str(problem)
    if not isinstance(statement, dict) or statement.get("_type") not in IN_TOTO_STATEMENTS:
        kind = statement.get("_type") if isinstance(statement, dict) else type(statement).__name__
        return f"{what} dsseEnvelope payload is not an in-toto statement (_type {printable(str(kind))})"
    subjects = statement.get("subject")
    if not isinstance(subjects, list) or not subjects:
        return f"{what} in-toto statement has no subject"
    digests = []
    for subject in subjects:
        digest = subject.get("digest") if isinstance(subject, dict) else None
        if not isinstance(digest, dict) or not isinstance(digest.get("sha256"), str):
            return f"{what} in-toto statement has a subject without a sha256 digest"
        digests.append(digest["sha256"])
    if sha256 not in digests:
        shown = ", ".join(printable(digest, 80) for digest in digests[:3])
        more = f" (and {len(digests) - 3} more)" if len(digests) > 3 else ""
        return f"{what} signs subject sha256 {shown}{more}, the registry says {sha256}"
    return None
