"""What an entry's sidecar declares, read leniently at collection to decide which items exist.

Collection never fails: a sidecar that cannot be read (or whose `tinyai` namespace is not an object) yields
`sidecar=None`, and then every declaration-driven item is collected anyway so that it fails with the registry
trust problem. Declarations are pytest-tinyai's blocks, read inside the sidecar's namespace.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from pytest_tinyai.gate.ledger import Records
from pytest_tinyai.registry import Entry
from pytest_tinyai.sidecar import NAMESPACE, namespace
from pytest_tinyai.thresholds import GOLDEN_TOLERANCE
from pytest_tinyai.trust import Limits, Untrusted, present, read_sidecar, sidecar_relative


@dataclass(frozen=True)
class Declared:
    sidecar: dict[str, Any] | None  # the owner's whole document, not validated
    in_ledger: bool = False  # the ledger records a gate for this model
    ledger_thresholds: frozenset[str] | None = None  # the thresholds the ledger records for it; None: no ledger
    peers_golden: bool = False  # another model of its registry declares golden sets

    @property
    def tinyai(self) -> dict[str, Any]:
        """The namespace's blocks ({} when the sidecar cannot be read or declares none)."""
        return namespace(self.sidecar)

    def declares(self, block: str) -> bool:
        return self.sidecar is None or block in self.tinyai

    def get(self, block: str) -> Any:
        return self.tinyai.get(block)

    @property
    def ledger_configured(self) -> bool:
        return self.ledger_thresholds is not None

    @property
    def thresholds_recorded(self) -> bool:
        return bool(self.ledger_thresholds)

    @property
    def golden_recorded(self) -> bool:
        return GOLDEN_TOLERANCE in (self.ledger_thresholds or ())


def peek(entry: Entry, records: Records | None) -> Declared:
    """What ``entry`` declares, and what ``records`` (its registry's in the ledger; None: no ledger) hold for it."""
    recorded = {
        "in_ledger": records is not None and entry.id in records.gates,
        "ledger_thresholds": None if records is None else frozenset(records.thresholds.get(entry.id, {})),
    }
    onnx = entry.raw.get("onnx")
    if not isinstance(onnx, str) or not onnx.endswith(".onnx"):
        return Declared(None, **recorded)
    if not present(entry.folder, sidecar_relative(entry)):
        return Declared({}, **recorded)
    try:
        sidecar = read_sidecar(entry, Limits())
    except (Untrusted, ValueError):
        return Declared(None, **recorded)
    readable = isinstance(sidecar, dict) and isinstance(sidecar.get(NAMESPACE, {}), dict)
    return Declared(sidecar if readable else None, **recorded)


def peek_registry(entries: Sequence[Entry], records: Records | None) -> dict[int, Declared]:
    """What each entry of one registry declares (by entry index), each knowing whether its peers carry golden sets."""
    declared = {entry.index: peek(entry, records) for entry in entries}
    if not any("golden" in peer.tinyai for peer in declared.values()):
        return declared
    return {index: replace(one, peers_golden=True) for index, one in declared.items()}
