"""Run-wide state of one pytest process: options, specs, ledger, the per-process model cache and bench medians."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pytest

from pytest_tinyai.bench import BenchMedians
from pytest_tinyai.checks.allowlist import check_allowlist
from pytest_tinyai.context import CheckContext
from pytest_tinyai.declared import peek
from pytest_tinyai.findings import Finding
from pytest_tinyai.gate.ledger import Ledger
from pytest_tinyai.model import Execution, ModelUnderTest
from pytest_tinyai.ort_sandbox import GIB, shared_sandbox
from pytest_tinyai.registry import Entry, Registry, load_registry, schema_errors
from pytest_tinyai.specs import SpecError, load_allowlist, load_resize_contract
from pytest_tinyai.trust import MIB, Limits


@dataclass
class TinyaiSession:
    registries: list[Path]
    limits: Limits
    threads: int
    context: CheckContext | None = None
    config_error: str | None = None
    ledger: Ledger | None = None
    ledger_error: str | None = None
    ledger_updates: list[str] = field(default_factory=list)
    models: dict[tuple[Path, int], ModelUnderTest] = field(default_factory=dict)
    medians: BenchMedians = field(default_factory=BenchMedians)
    loaded: dict[Path, Registry] = field(default_factory=dict)
    execution: Execution | None = None

    @classmethod
    def from_config(cls, config: pytest.Config) -> TinyaiSession:
        option = config.option
        registries = [_registry_file(Path(path)) for path in option.tinyai_registry or []]
        cap = int(option.tinyai_max_onnx_mib * MIB)
        session = cls(registries, Limits(cap, cap, option.tinyai_max_pixels), option.tinyai_threads)
        sandbox = shared_sandbox(int(option.tinyai_run_memory_gib * GIB))
        session.execution = Execution(session.screen, sandbox, option.tinyai_run_timeout)
        try:
            try:
                session.ledger = _ledger(config)
            except ValueError as error:
                session.ledger_error = str(error)
                raise
            allowlist = load_allowlist(_path(option.tinyai_allowlist))
            resize = load_resize_contract(_path(option.tinyai_resize_contract))
        except (SpecError, ValueError) as error:
            session.config_error = str(error)
            return session
        session.context = CheckContext(
            allowlist=allowlist,
            resize_contract=resize,
            fuzz_examples=option.tinyai_fuzz_examples,
            data_dir=_path(option.tinyai_data_dir),
            allow_missing_data=option.tinyai_allow_missing_data,
            ledger=session.ledger,
            peers=session.peers,
        )
        return session

    def registry(self, path: Path) -> Registry:
        """A registry file, read and validated once per process."""
        key = path.resolve()
        if key not in self.loaded:
            self.loaded[key] = load_registry(key)
        return self.loaded[key]

    def model(self, entry: Entry) -> ModelUnderTest:
        key = (entry.registry_path, entry.index)
        if key not in self.models:
            self.models[key] = ModelUnderTest(entry, self.limits, self.threads, self.execution)
        return self.models[key]

    def screen(self, model: ModelUnderTest) -> list[Finding]:
        """The allowlist check under this run's context: what admits a model to execution (none on a config error)."""
        if self.context is None:
            return [Finding(model.id, "allowlist", f"configuration error: {self.config_error}")]
        return check_allowlist(model, self.context)

    def peers(self, model: ModelUnderTest) -> dict[str, ModelUnderTest]:
        """The models of the same registry by id (first entry wins on a duplicated id)."""
        entries = self.registry(model.entry.registry_path).entries
        return {entry.id: self.model(entry) for entry in reversed(entries)}

    def update_ledger(self) -> None:
        """Record new gates and higher floors from every registry's sidecars; refusals are reported, not hidden."""
        if self.ledger_error is not None:
            self.ledger_updates.append(f"NOT updated: {self.ledger_error}")
            return
        if self.ledger is None:
            self.ledger_updates.append("no ledger configured (--tinyai-ledger or the tinyai_ledger ini option)")
            return
        for registry in self.registries:
            for entry in self.registry(registry).entries:
                sidecar = peek(entry, set()).sidecar
                if not sidecar or "gate" not in sidecar:
                    continue
                if schema_errors(sidecar, "sidecar.schema.json"):
                    self.ledger_updates.append(f"{entry.id}: sidecar fails its schema; gate NOT recorded")
                elif message := self.ledger.update(entry.id, sidecar["gate"]):
                    self.ledger_updates.append(message)
        self.ledger.save()


def _registry_file(path: Path) -> Path:
    """A registry given as its folder means the folder's registry.json."""
    return (path / "registry.json" if path.is_dir() else path).resolve()


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


session_key = pytest.StashKey[TinyaiSession]()
