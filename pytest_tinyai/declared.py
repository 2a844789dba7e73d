"""What an entry's sidecar declares, read leniently at collection to decide which items exist.

Collection never fails: a sidecar that cannot be read yields `sidecar=None`, and then every
declaration-driven item is collected anyway so that it fails with the registry trust problem.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pytest_tinyai.gate.ledger import Ledger
from pytest_tinyai.registry import Entry
from pytest_tinyai.thresholds import GOLDEN_TOLERANCE
from pytest_tinyai.trust import Limits, Untrusted, present, read_sidecar, sidecar_relative


@dataclass(frozen=True)
class Declared:
    sidecar: dict[str, Any] | None
    in_ledger: bool = False  # the ledger records a gate for this model
    thresholds_recorded: bool = False  # the ledger records thresholds for this model
    ledger_configured: bool = False
    golden_recorded: bool = False  # the ledger records a golden tolerance for this model

    def declares(self, key: str) -> bool:
        return self.sidecar is None or key in self.sidecar

    def get(self, key: str) -> Any:
        return None if self.sidecar is None else self.sidecar.get(key)


def peek(entry: Entry, ledger: Ledger | None) -> Declared:
    recorded = {
        "in_ledger": ledger is not None and entry.id in ledger.gates,
        "thresholds_recorded": ledger is not None and entry.id in ledger.thresholds,
        "ledger_configured": ledger is not None,
        "golden_recorded": ledger is not None and GOLDEN_TOLERANCE in ledger.thresholds.get(entry.id, {}),
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
    return Declared(sidecar if isinstance(sidecar, dict) else None, **recorded)
