"""Sigstore bundles for the tests: the two documented shapes (a `messageSignature` and a DSSE envelope carrying an
in-toto statement), signing whatever digest a test names. The signature, certificate and log entries are
placeholders: nothing in the plugin verifies them."""

from __future__ import annotations

import base64
import json
from typing import Any

MEDIA_TYPE = "application/vnd.dev.sigstore.bundle.v0.3+json"
IN_TOTO = "application/vnd.in-toto+json"


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _material() -> dict[str, Any]:
    return {"certificate": {"rawBytes": b64(b"a placeholder certificate")}, "tlogEntries": []}


def message_bundle(sha256: str, *, algorithm: str = "SHA2_256", media_type: str = MEDIA_TYPE) -> dict[str, Any]:
    """A bundle whose messageSignature names `sha256` (hex) as its message digest."""
    return {
        "mediaType": media_type,
        "verificationMaterial": _material(),
        "messageSignature": {
            "messageDigest": {"algorithm": algorithm, "digest": b64(bytes.fromhex(sha256))},
            "signature": b64(b"a placeholder signature"),
        },
    }


def statement(*sha256s: str, name: str = "model.onnx") -> dict[str, Any]:
    """An in-toto statement whose subjects carry the given sha256 digests."""
    return {
        "_type": "https://in-toto.io/Statement/v1",
        "subject": [{"name": name, "digest": {"sha256": digest}} for digest in sha256s],
        "predicateType": "https://sigstore.dev/cosign/sign/v1",
        "predicate": {},
    }


def dsse_bundle(sha256: str | None = None, *, payload: bytes | None = None, payload_type: str = IN_TOTO) -> dict:
    """A bundle whose DSSE envelope carries an in-toto statement signing `sha256` (or the raw `payload`)."""
    body = payload if payload is not None else json.dumps(statement(sha256 or "")).encode()
    return {
        "mediaType": MEDIA_TYPE,
        "verificationMaterial": _material(),
        "dsseEnvelope": {
            "payload": b64(body),
            "payloadType": payload_type,
            "signatures": [{"sig": b64(b"a placeholder signature")}],
        },
    }


def encoded(bundle: dict[str, Any]) -> bytes:
    return json.dumps(bundle, indent=1).encode()
