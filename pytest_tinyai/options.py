"""The plugin's command-line options and ini keys, with their defaults; imports nothing heavy."""

from __future__ import annotations

import pytest

DEFAULT_TIMEOUT_S = 60.0
DEFAULT_MEMORY_GIB = 8.0
DEFAULT_MAX_PIXELS = 4096 * 4096


def add_options(parser: pytest.Parser) -> None:
    group = parser.getgroup("tinyai", "tiny ONNX model conformance (pytest-tinyai)")
    group.addoption(
        "--tinyai-registry", action="append", metavar="FILE", help="registry.json whose models are checked (repeatable)"
    )
    group.addoption(
        "--tinyai-allowlist",
        metavar="FILE",
        help="op allowlist in onnxruntime's required-operators config format (replaces the packaged one)",
    )
    group.addoption(
        "--tinyai-resize-contract", metavar="FILE", help="Resize attribute contract JSON (replaces the packaged one)"
    )
    group.addoption(
        "--tinyai-max-onnx-mib",
        type=float,
        default=50.0,
        metavar="MIB",
        help="size cap for each .onnx and for its external data (default 50)",
    )
    group.addoption(
        "--tinyai-threads",
        type=int,
        default=1,
        metavar="N",
        help="intra-op threads of every onnxruntime session and of PyTorch while parity runs the reference (default 1, "
        "pinned for reproducibility)",
    )
    group.addoption(
        "--tinyai-fuzz-examples",
        type=int,
        default=None,
        metavar="N",
        help="hypothesis examples per fuzz property (default: the active hypothesis profile's max_examples)",
    )
    group.addoption(
        "--tinyai-fuzz-pixel-budget",
        type=int,
        default=None,
        metavar="N",
        help="the most pixels (product of the fuzzed dims) of a randomly drawn fuzz shape (default 65536 = 256x256)",
    )
    group.addoption(
        "--tinyai-data-dir",
        metavar="DIR",
        help="folder holding the gates' data folds by name (default: <registry folder>/folds)",
    )
    group.addoption(
        "--tinyai-allow-missing-data",
        action="store_true",
        help="skip (loudly) the gates whose fold is missing instead of failing them",
    )
    group.addoption(
        "--tinyai-run-timeout",
        type=float,
        default=DEFAULT_TIMEOUT_S,
        metavar="SECONDS",
        help="time limit of each onnxruntime load and run in the sandbox process, which is killed past it (default 60)",
    )
    group.addoption(
        "--tinyai-run-memory-gib",
        type=float,
        default=DEFAULT_MEMORY_GIB,
        metavar="GIB",
        help="address-space cap of the onnxruntime sandbox process (default 8)",
    )
    group.addoption(
        "--tinyai-max-pixels",
        type=int,
        default=DEFAULT_MAX_PIXELS,
        metavar="N",
        help="cap on the pixels (product of the symbolic dims) of any shape a sidecar makes the plugin run "
        "(default 4096*4096)",
    )
    group.addoption(
        "--tinyai-verify-signatures",
        action="store_true",
        help="fail the registry check of a model whose Sigstore bundle is declared but absent, or not declared "
        "(by default both are only reported, as the runtime checks bundles only under --tiny-model-verify). A "
        "bundle that is present is always checked: it must parse as a Sigstore bundle whose signed digest is the "
        "entry's sha256. The signature, certificate chain and transparency log are NOT verified",
    )
    group.addoption(
        "--tinyai-report",
        metavar="DIR",
        help="write the conformance report to DIR/index.html (figures beside it; needs pytest-tinyai[report])",
    )
    group.addoption(
        "--tinyai-json", metavar="FILE", help="write the run's results as one JSON document (specs/results.schema.json)"
    )
    group.addoption("--tinyai-ledger", metavar="FILE", help="gate ledger JSON (default: the tinyai_ledger ini option)")
    group.addoption(
        "--tinyai-update-ledger",
        action="store_true",
        help="record new gates and higher floors in the ledger; it refuses to loosen anything",
    )
    parser.addini("tinyai_ledger", "gate ledger JSON, relative to the rootdir", default="")
    parser.addini(
        "tinyai_verify_signatures",
        "as --tinyai-verify-signatures: a declared bundle that is absent, or none declared, fails the registry check",
        type="bool",
        default=False,
    )
    parser.addini(
        "tinyai_reference_roots",
        "import roots (packages) whose modules a sidecar's PyTorch reference may name; none by default",
        type="args",
        default=[],
    )
