"""Run-wide state of one pytest process: options, specs, the per-process model cache and the outcome tally."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pytest

from pytest_tinyai.context import CheckContext
from pytest_tinyai.model import ModelUnderTest
from pytest_tinyai.registry import Entry
from pytest_tinyai.specs import SpecError, load_allowlist, load_resize_contract
from pytest_tinyai.trust import MIB, Limits


@dataclass
class TinyaiSession:
    registries: list[Path]
    limits: Limits
    threads: int
    context: CheckContext | None = None
    spec_error: str | None = None
    models: dict[tuple[Path, int], ModelUnderTest] = field(default_factory=dict)

    @classmethod
    def from_config(cls, config: pytest.Config) -> TinyaiSession:
        option = config.option
        registries = [Path(path).resolve() for path in option.tinyai_registry or []]
        cap = int(option.tinyai_max_onnx_mib * MIB)
        session = cls(registries, Limits(cap, cap), option.tinyai_threads)
        try:
            allowlist = load_allowlist(Path(option.tinyai_allowlist) if option.tinyai_allowlist else None)
            contract_file = option.tinyai_resize_contract
            resize = load_resize_contract(Path(contract_file) if contract_file else None)
            session.context = CheckContext(allowlist=allowlist, resize_contract=resize)
        except SpecError as error:
            session.spec_error = str(error)
        return session

    def model(self, entry: Entry) -> ModelUnderTest:
        key = (entry.registry_path, entry.index)
        if key not in self.models:
            self.models[key] = ModelUnderTest(entry, self.limits, self.threads)
        return self.models[key]


session_key = pytest.StashKey[TinyaiSession]()
