"""The check catalogue: name → marker, which models it applies to, and the function returning findings."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pytest_tinyai.checks.contract import check_contract
from pytest_tinyai.checks.fuzz import check_fuzz
from pytest_tinyai.checks.gate import check_gate, gate_summary
from pytest_tinyai.checks.opset import check_opset
from pytest_tinyai.checks.parity import check_parity
from pytest_tinyai.checks.registry import check_registry
from pytest_tinyai.checks.resize import check_resize
from pytest_tinyai.context import CheckContext
from pytest_tinyai.declared import Declared
from pytest_tinyai.findings import Finding
from pytest_tinyai.model import ModelUnderTest


def _allowlist_verdict(model: ModelUnderTest, context: CheckContext) -> list[Finding]:
    """The model's allowlist screening, computed once per model: the same verdict gates its execution."""
    return model.allowlist_findings


def _always(declared: Declared) -> bool:
    return True


def _fuzzable(declared: Declared) -> bool:
    contract = declared.get("contract")
    return declared.sidecar is None or (isinstance(contract, dict) and bool(contract.get("dims")))


def _referenced(declared: Declared) -> bool:
    return declared.declares("reference")


def _gated(declared: Declared) -> bool:
    return declared.declares("gate") or declared.in_ledger


@dataclass(frozen=True)
class Check:
    name: str
    description: str
    run: Callable[[ModelUnderTest, CheckContext], list[Finding]]
    applies: Callable[[Declared], bool] = _always
    summary: Callable[[ModelUnderTest, CheckContext], dict[str, Any] | None] | None = None

    @property
    def marker(self) -> str:
        return f"tinyai_{self.name}"


CATALOGUE: tuple[Check, ...] = (
    Check(
        "registry",
        "registry trust: schema, sha256, confinement, size caps, sidecar, int8 sibling, licence",
        check_registry,
    ),
    Check(
        "opset",
        "registry opset = sidecar onnx_opset = graph opset_import; every node in the default domain",
        check_opset,
    ),
    Check(
        "allowlist",
        "every op (subgraphs and functions included) on the runtime's allowlist; Loop/nesting limits",
        _allowlist_verdict,
    ),
    Check("resize", "every Resize node within the runtime's Resize attribute contract", check_resize),
    Check(
        "contract",
        "graph I/O match the declared tensor contract; checker passes; runs at the nominal shape",
        check_contract,
    ),
    Check(
        "parity",
        "the PyTorch reference, carrying the graph's weights, matches onnxruntime within the declared tolerance",
        check_parity,
        applies=_referenced,
    ),
    Check(
        "fuzz",
        "hypothesis-drawn shapes: valid ones run correctly, invalid ones are refused and really fail",
        check_fuzz,
        applies=_fuzzable,
    ),
    Check(
        "gate",
        "held-out score re-measured against baseline, floor, claim and the ratchet ledger",
        check_gate,
        applies=_gated,
        summary=gate_summary,
    ),
)

MARKERS: dict[str, str] = {
    **{check.marker: check.description for check in CATALOGUE},
    "tinyai_bench": "latency benchmarks (pytest-benchmark) and relative latency budgets",
}
