"""Run-wide state of one pytest process: options, specs, ledger, and the per-process model cache."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from pytest_tinyai.checks.allowlist import check_allowlist
from pytest_tinyai.context import CheckContext
from pytest_tinyai.declared import peek
from pytest_tinyai.findings import Finding
from pytest_tinyai.gate.ledger import Ledger
from pytest_tinyai.model import Execution, ModelUnderTest
from pytest_tinyai.ort_sandbox import GIB, shared_sandbox
from pytest_tinyai.parts import Parts
from pytest_tinyai.registry import Entry, Registry, load_registry
from pytest_tinyai.sidecar import namespace, sidecar_problems
from pytest_tinyai.specs import SpecError, load_allowlist, load_resize_contract
from pytest_tinyai.thresholds import THRESHOLD_BLOCKS, declared_thresholds
from pytest_tinyai.trust import MIB, Limits

WORST_SAMPLES = 8  # a gate's worst held-out samples the report pictures


@dataclass
class RunState:
    registries: list[Path]
    limits: Limits
    threads: int
    parts: Parts
    context: CheckContext | None = None
    ledger: Ledger | None = None
    ledger_updates: list[str] = field(default_factory=list)
    models: dict[tuple[Path, int], ModelUnderTest] = field(default_factory=dict)
    loaded: dict[Path, Registry] = field(default_factory=dict)
    peer_models: dict[Path, dict[str, ModelUnderTest]] = field(default_factory=dict)
    selected: dict[Path, set[str]] = field(default_factory=dict)  # registry → item names given as arguments
    execution: Execution | None = None

    @classmethod
    def from_config(cls, config: pytest.Config, parts: Parts) -> RunState:
        """The run state from the options and the gathered parts; an impossible configuration (a missing registry,
        an unreadable allowlist, Resize contract or ledger) is a pytest.UsageError: one line, exit status 4."""
        option = config.option
        registries = [_registry_file(Path(path)) for path in option.tinyai_registry or []]
        missing = [str(path) for path in registries if not path.exists()]
        if missing:
            raise pytest.UsageError(f"--tinyai-registry: no such file: {', '.join(missing)}")
        cap = int(option.tinyai_max_onnx_mib * MIB)
        limits = Limits(
            max_onnx_bytes=cap,
            max_external_data_bytes=cap,
            max_pixels=option.tinyai_max_pixels,
            sidecar_fields=parts.sidecar_fields,
            verify_signatures=option.tinyai_verify_signatures or bool(config.getini("tinyai_verify_signatures")),
        )
        try:
            ledger = _ledger(config)
            allowlist = load_allowlist(_path(option.tinyai_allowlist))
            resize = load_resize_contract(_path(option.tinyai_resize_contract))
        except (SpecError, ValueError) as error:
            raise pytest.UsageError(f"pytest-tinyai: {error}") from None
        state = cls(registries, limits, option.tinyai_threads, parts, ledger=ledger)
        sandbox = shared_sandbox(int(option.tinyai_run_memory_gib * GIB))
        state.execution = Execution(state.screen, sandbox, option.tinyai_run_timeout)
        state.context = CheckContext(
            allowlist=allowlist,
            resize_contract=resize,
            fuzz_examples=option.tinyai_fuzz_examples,
            fuzz_pixel_budget=option.tinyai_fuzz_pixel_budget,
            data_dir=_path(option.tinyai_data_dir),
            allow_missing_data=option.tinyai_allow_missing_data,
            reference_roots=tuple(config.getini("tinyai_reference_roots")),
            worst_samples=WORST_SAMPLES if option.tinyai_report else 0,
            ledger=ledger,
            peers=state.peers,
            kinds=parts.kinds,
            metrics=parts.metrics,
        )
        return state

    def registry(self, path: Path) -> Registry:
        """A registry file, read and validated once per process."""
        key = absolute(path)
        if key not in self.loaded:
            self.loaded[key] = load_registry(key, self.parts.formats)
        return self.loaded[key]

    def model(self, entry: Entry) -> ModelUnderTest:
        key = (entry.registry_path, entry.index)
        if key not in self.models:
            self.models[key] = ModelUnderTest(entry, self.limits, self.threads, self.execution)
        return self.models[key]

    def screen(self, model: ModelUnderTest) -> list[Finding]:
        """The allowlist check under this run's context: what admits a model to execution."""
        assert self.context is not None  # built with the run state
        return check_allowlist(model, self.context)

    def peers(self, model: ModelUnderTest) -> dict[str, ModelUnderTest]:
        """The models of the same registry by id (first entry wins on a duplicated id)."""
        path = model.entry.registry_path
        if path not in self.peer_models:
            entries = self.registry(path).entries
            self.peer_models[path] = {entry.id: self.model(entry) for entry in reversed(entries)}
        return self.peer_models[path]

    def update_ledger(self) -> None:
        """Record new gates, higher floors, new and tighter thresholds; refusals are reported, not hidden."""
        if self.ledger is None:
            self.ledger_updates.append("no ledger configured (--tinyai-ledger or the tinyai_ledger ini option)")
            return
        before = json.dumps(self.ledger.as_document(), sort_keys=True)
        for registry in self.registries:
            records = self.ledger.records_to_update(registry)
            for entry in self.registry(registry).entries:
                sidecar = peek(entry, None).sidecar
                if not sidecar:
                    continue
                blocks = namespace(sidecar)
                if sidecar_problems(sidecar, self.limits.sidecar_fields):
                    if {"gate", *THRESHOLD_BLOCKS} & (set(blocks) | set(sidecar)):
                        self.ledger_updates.append(f"{entry.id}: sidecar fails its schema; nothing recorded")
                    continue
                if "gate" in blocks and (message := records.update(entry.id, blocks["gate"])):
                    self.ledger_updates.append(message)
                self.ledger_updates.extend(records.update_thresholds(entry.id, declared_thresholds(blocks)))
        if json.dumps(self.ledger.as_document(), sort_keys=True) != before:
            self.ledger.save()


def _registry_file(path: Path) -> Path:
    """A registry given as its folder means the folder's registry.json."""
    return absolute(path / "registry.json" if path.is_dir() else path)


def absolute(path: Path) -> Path:
    """An absolute, normalised path that does not follow symlinks: a registry that is a link stays named as given
    (and its trust rules see the link)."""
    return Path(os.path.normpath(path.absolute()))


def _path(value: str | None) -> Path | None:
    return Path(value) if value else None


def _ledger(config: pytest.Config) -> Ledger | None:
    value = config.option.tinyai_ledger or config.getini("tinyai_ledger")
    if not value:
        return None
    path = Path(value)
    if not path.is_absolute():
        path = (config.rootpath if not config.option.tinyai_ledger else Path.cwd()) / path
    return Ledger.load(path)


run_state_key = pytest.StashKey[RunState]()
