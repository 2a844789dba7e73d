"""The check catalogue: name → marker, which models it applies to, and the function returning findings."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from pytest_tinyai.checks.contract import check_contract
from pytest_tinyai.checks.fuzz import check_fuzz
from pytest_tinyai.checks.gate import check_gate
from pytest_tinyai.checks.golden import check_golden
from pytest_tinyai.checks.opset import check_opset
from pytest_tinyai.checks.parity import check_parity
from pytest_tinyai.checks.registry import check_registry
from pytest_tinyai.checks.resize import check_resize
from pytest_tinyai.checks.thresholds import check_thresholds
from pytest_tinyai.context import CheckContext
from pytest_tinyai.declared import Declared
from pytest_tinyai.findings import CheckResult, Finding
from pytest_tinyai.model import ModelUnderTest
from pytest_tinyai.thresholds import THRESHOLD_BLOCKS


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


def _golden(declared: Declared) -> bool:
    """Models whose sidecar declares golden sets, those the ledger records a golden tolerance for (dropping the
    block cannot shed the check), and every other model of a registry whose models carry sets (one that has none
    says why, rather than being left out unseen)."""
    return declared.declares("golden") or declared.golden_recorded or declared.peers_golden


def _thresholded(declared: Declared) -> bool:
    declares = any(declared.declares(block) for block in THRESHOLD_BLOCKS)
    return declared.ledger_configured and (declares or declared.thresholds_recorded)


@dataclass(frozen=True)
class Check:
    """A named check: its `run` is a pure function of a model and the run's context, returning findings or a
    CheckResult; `applies` decides from the sidecar's declarations whether a model gets an item at all.

    Its pytest policy is declared here, so the item stays generic: `xdist_group` puts all its items in one
    xdist group (under `--dist loadgroup`, e.g. so shared fold evaluations happen once), and
    `xfail_when_proposed` runs a `proposed` model that records `gate_failed` as a strict xfail.
    """

    name: str
    description: str
    run: Callable[[ModelUnderTest, CheckContext], list[Finding] | CheckResult]
    applies: Callable[[Declared], bool] = _always
    xdist_group: str | None = None
    xfail_when_proposed: bool = False

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
        xdist_group="tinyai-gate",
        xfail_when_proposed=True,
    ),
    Check(
        "golden",
        "the model reproduces the outputs of its stored test data sets (ONNX test-data format) within the tolerance",
        check_golden,
        applies=_golden,
    ),
    Check(
        "thresholds",
        "parity and golden tolerances and latency budgets recorded in the ratchet ledger, none looser than its record",
        check_thresholds,
        applies=_thresholded,
    ),
)
