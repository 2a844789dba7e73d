"""The gate ledger: per model the metric, fold, floor and baseline once recorded; it only ever tightens.

A run compares every sidecar's gate with its ledger record: a lowered floor, a removed or changed
baseline, a changed fold or metric, a vanished gate or an unrecorded one all fail. `--tinyai-update-ledger`
records new gates and higher floors and refuses everything else, saying so.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pytest_tinyai.registry_writer import atomic_write_bytes

LEDGER_VERSION = 1


def gate_record(gate: dict[str, Any]) -> dict[str, Any]:
    """The part of a sidecar's gate that the ledger pins (the claim is re-measured every run instead)."""
    return {
        "metric": gate["metric"],
        "fold": {"name": gate["fold"]["name"], "content_sha256": gate["fold"]["content_sha256"]},
        "floor": gate.get("floor"),
        "baseline": gate.get("baseline"),
    }


def record_problems(recorded: dict[str, Any] | None, gate: dict[str, Any] | None) -> list[str]:
    """Why a sidecar's gate is weaker than (or unknown to) the ledger's record; empty when it holds."""
    if recorded is None:
        return [] if gate is None else ["gate is not recorded in the ledger (run with --tinyai-update-ledger)"]
    if gate is None:
        return ["gate vanished: the ledger records a gate but the sidecar declares none"]
    current = gate_record(gate)
    problems = []
    if current["metric"] != recorded["metric"]:
        problems.append(f"metric changed from {recorded['metric']!r} (ledger) to {current['metric']!r}")
    if current["fold"] != recorded["fold"]:
        problems.append(
            f"fold changed from {recorded['fold']['name']}@{recorded['fold']['content_sha256'][:12]} (ledger) "
            f"to {current['fold']['name']}@{current['fold']['content_sha256'][:12]}"
        )
    if recorded.get("floor") is not None and (current["floor"] is None or current["floor"] < recorded["floor"]):
        problems.append(f"floor lowered from {recorded['floor']} (ledger) to {current['floor']}")
    if recorded.get("baseline") is not None and current["baseline"] is None:
        problems.append(f"baseline removed (the ledger records {recorded['baseline']!r})")
    elif recorded.get("baseline") is not None and current["baseline"] != recorded["baseline"]:
        problems.append(f"baseline changed from {recorded['baseline']!r} (ledger) to {current['baseline']!r}")
    return problems


@dataclass
class Ledger:
    path: Path
    gates: dict[str, dict[str, Any]] = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path) -> Ledger:
        """Read the ledger; a missing file is an empty ledger, anything unreadable raises ValueError."""
        if not path.exists():
            return cls(path)
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
            gates = document["gates"]
            if document.get("schema_version") != LEDGER_VERSION or not isinstance(gates, dict):
                raise ValueError(f"expected schema_version {LEDGER_VERSION} and a 'gates' object")
        except (OSError, KeyError, TypeError, ValueError) as error:
            raise ValueError(f"gate ledger {path} is unreadable: {error}") from error
        return cls(path, gates)

    def update(self, model_id: str, gate: dict[str, Any]) -> str | None:
        """Record a new gate or a higher floor; return what was done or refused (None when unchanged)."""
        current = gate_record(gate)
        recorded = self.gates.get(model_id)
        if recorded is None:
            self.gates[model_id] = current
            return f"{model_id}: recorded new gate (floor {current['floor']}, baseline {current['baseline']})"
        refusals = record_problems(recorded, gate)
        if refusals:
            joined = "; ".join(refusals)
            return f"{model_id}: ledger NOT updated, it never loosens: {joined} (edit it by hand, in review)"
        done = []
        if current["floor"] is not None and current["floor"] != recorded.get("floor"):
            recorded["floor"] = current["floor"]
            done.append(f"raised the ledger floor to {current['floor']}")
        if current["baseline"] != recorded.get("baseline"):
            recorded["baseline"] = current["baseline"]
            done.append(f"recorded baseline {current['baseline']!r}")
        return f"{model_id}: {'; '.join(done)}" if done else None

    def save(self) -> None:
        document = {"schema_version": LEDGER_VERSION, "gates": dict(sorted(self.gates.items()))}
        self.path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(self.path, (json.dumps(document, indent=2, sort_keys=True) + "\n").encode())
