"""The ledger: per registry it governs, per model its gate (metric, fold, floor, baseline) and its thresholds.

It only ever tightens. A run compares every sidecar's gate with its ledger record: a lowered floor, a removed or
changed baseline, a changed fold or metric, a vanished gate or an unrecorded one all fail. Thresholds (parity
tolerance, latency budgets: upper bounds, tighter when lower) are held the same way: a looser, vanished or
unrecorded one fails. `--tinyai-update-ledger` records new gates, higher floors, new and tighter thresholds,
and refuses everything else, saying so. The ledger never holds a number that is not finite.

Records are bound to the registry they govern, named by its path relative to the ledger's folder: a model of
another registry that shares an id is not held to them, and a registry the ledger does not govern fails every
gate and threshold it declares until they are recorded (or the run is given a ledger of its own). A governed
registry that no longer exists fails the run: moving a registry cannot shed its records.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pytest_tinyai.registry_writer import atomic_write_bytes
from pytest_tinyai.strict_json import JsonProblem, load_json_file

LEDGER_VERSION = 3
UNBOUND_VERSIONS = (1, 2)  # keyed by model id alone, for whatever registry a run was given
MAX_NAME_BYTES, MAX_PATH_BYTES = 255, 4096  # the usual NAME_MAX and PATH_MAX: longer names can't be looked up


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
class Records:
    """One registry's records: gates and thresholds by model id."""

    gates: dict[str, dict[str, Any]] = field(default_factory=dict)
    thresholds: dict[str, dict[str, float]] = field(default_factory=dict)

    def model_ids(self) -> set[str]:
        return set(self.gates) | set(self.thresholds)

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

    def update_thresholds(self, model_id: str, declared: dict[str, float]) -> list[str]:
        """Record new and tighter thresholds; refuse looser or vanished ones. Returns what was done or refused."""
        recorded = self.thresholds.get(model_id, {})
        refusals = threshold_problems(recorded, declared, unrecorded=False)
        if refusals:
            joined = "; ".join(refusals)
            return [
                f"{model_id}: thresholds NOT updated, the ledger never loosens: {joined} (edit it by hand, in review)"
            ]
        changes = {key: value for key, value in declared.items() if recorded.get(key) != value}
        if not changes:
            return []
        self.thresholds[model_id] = {**recorded, **changes}
        return [f"{model_id}: recorded {key} = {value:g}" for key, value in sorted(changes.items())]

    def as_document(self) -> dict[str, Any]:
        return {
            "gates": dict(sorted(self.gates.items())),
            "thresholds": {model: dict(sorted(values.items())) for model, values in sorted(self.thresholds.items())},
        }


@dataclass
class Ledger:
    """The ledger file: the records of each registry it governs, keyed by the registry's path from its folder."""

    path: Path
    registries: dict[str, Records] = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path) -> Ledger:
        """Read the ledger; a missing file is an empty ledger, anything unreadable or not finite raises ValueError."""
        if not path.exists():
            return cls(path)
        try:
            document = load_json_file(path, "the ledger")
            version = document.get("schema_version")
            if version in UNBOUND_VERSIONS:
                raise ValueError(
                    f"schema_version {version} records gates by model id for any registry; version {LEDGER_VERSION} "
                    "binds them to the registry they govern: move 'gates' and 'thresholds' under "
                    "'registries' -> '<the registry's path from the ledger's folder>' and set schema_version "
                    f"{LEDGER_VERSION} (by hand, in review)"
                )
            registries = document["registries"]
            if version != LEDGER_VERSION or not isinstance(registries, dict):
                raise ValueError(f"expected schema_version {LEDGER_VERSION} and a 'registries' object")
            records = {
                key: Records(section["gates"], section.get("thresholds", {})) for key, section in registries.items()
            }
            for key, one in records.items():
                _require_relative_path(key)
                if not isinstance(one.gates, dict) or not isinstance(one.thresholds, dict):
                    raise ValueError(f"registry {key!r}: expected 'gates' and 'thresholds' objects")
                _require_finite(one.gates, one.thresholds)
        except (JsonProblem, KeyError, TypeError, ValueError, AttributeError) as error:
            raise ValueError(f"gate ledger {path} is unreadable: {error}") from error
        return cls(path, records)

    def key(self, registry: Path) -> str:
        """How the ledger names ``registry`` (an absolute path): its path from the ledger's folder."""
        return Path(os.path.relpath(registry, self.path.parent.absolute())).as_posix()

    def records(self, registry: Path) -> Records | None:
        """The records of ``registry``; None when the ledger does not govern it."""
        return self.registries.get(self.key(registry))

    def records_to_update(self, registry: Path) -> Records:
        """The records of ``registry``, a new empty set when the ledger does not govern it yet."""
        return self.registries.setdefault(self.key(registry), Records())

    def gate_problems(self, registry: Path, model_id: str, gate: dict[str, Any] | None) -> list[str]:
        """Why a model's gate is weaker than (or unknown to) the record of its registry; empty when it holds."""
        records = self.records(registry)
        if records is None:
            return [] if gate is None else [self._ungoverned(registry)]
        return record_problems(records.gates.get(model_id), gate)

    def threshold_problems(self, registry: Path, model_id: str, declared: dict[str, float]) -> list[str]:
        """Why a model's thresholds are looser than, missing from or unknown to the record of its registry."""
        records = self.records(registry)
        if records is None:
            return [self._ungoverned(registry)] if declared else []
        return threshold_problems(records.thresholds.get(model_id, {}), declared)

    def recorded_thresholds(self, registry: Path, model_id: str) -> dict[str, float]:
        records = self.records(registry)
        return {} if records is None else records.thresholds.get(model_id, {})

    def _ungoverned(self, registry: Path) -> str:
        governed = ", ".join(sorted(self.registries)) or "no registry"
        return (
            f"does not govern {self.key(registry)} (it governs {governed}): record its gates and thresholds with "
            "--tinyai-update-ledger, or give it a ledger of its own with --tinyai-ledger"
        )

    def absent_registries(self) -> list[str]:
        """The governed registries that no longer exist where the ledger names them."""
        return [key for key in sorted(self.registries) if not (self.path.parent / key).is_file()]

    def as_document(self) -> dict[str, Any]:
        return {
            "schema_version": LEDGER_VERSION,
            "registries": {key: one.as_document() for key, one in sorted(self.registries.items()) if one.model_ids()},
        }

    def save(self) -> None:
        for records in self.registries.values():
            _require_finite(records.gates, records.thresholds)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        text = json.dumps(self.as_document(), indent=2, sort_keys=True) + "\n"
        atomic_write_bytes(self.path, text.encode())


def threshold_problems(recorded: dict[str, float], declared: dict[str, float], *, unrecorded: bool = True) -> list[str]:
    """Why declared thresholds (upper bounds) are looser than, missing from or unknown to the ledger's record."""
    problems = []
    for key, value in sorted(recorded.items()):
        if key not in declared:
            problems.append(f"{key} vanished: the ledger records {value:g}")
        elif declared[key] > value:
            problems.append(f"{key} loosened from {value:g} (ledger) to {declared[key]:g}")
    if unrecorded:
        problems.extend(
            f"{key} = {value:g} is not recorded in the ledger (run with --tinyai-update-ledger)"
            for key, value in sorted(declared.items())
            if key not in recorded
        )
    return problems


def _require_relative_path(key: str) -> None:
    """A registry's name in the ledger is a usable relative path: no NUL, no absolute path, no over-long part."""
    parts = key.split("/")
    if not key or "\x00" in key or key.startswith("/") or any(len(part.encode()) > MAX_NAME_BYTES for part in parts):
        raise ValueError(f"registry {key[:80]!r}: not a path relative to the ledger's folder")
    if len(key.encode()) > MAX_PATH_BYTES:
        raise ValueError(f"registry {key[:80]!r}...: a path of {len(key.encode())} bytes")


def _require_finite(gates: dict[str, Any], thresholds: dict[str, Any]) -> None:
    """Every number the ledger holds is finite; floors lie in [0, 1], thresholds are positive."""
    for model_id, record in gates.items():
        floor = record.get("floor")
        if floor is not None and not (isinstance(floor, int | float) and math.isfinite(floor) and 0 <= floor <= 1):
            raise ValueError(f"{model_id}: floor {floor!r} is not a finite number in [0, 1]")
    for model_id, values in thresholds.items():
        for key, value in values.items():
            if not (isinstance(value, int | float) and math.isfinite(value) and value > 0):
                raise ValueError(f"{model_id}: threshold {key} = {value!r} is not a finite positive number")
