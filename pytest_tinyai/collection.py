"""Collection: a registry file becomes one test item per (check, model), sorted and identical on every worker."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

import pytest

from pytest_tinyai.checks import CATALOGUE, Check
from pytest_tinyai.findings import ConformanceFailure, Finding, NotChecked
from pytest_tinyai.registry import Entry, load_registry
from pytest_tinyai.session import session_key

REGISTRY_LEVEL = "registry.json"


class RegistryFile(pytest.File):
    """A registry.json named by --tinyai-registry."""

    def collect(self) -> Iterator[pytest.Item]:
        registry = load_registry(self.path)
        if registry.problems:
            yield RegistryProblemItem.from_parent(self, name=f"registry[{REGISTRY_LEVEL}]", problems=registry.problems)
        labels = _labels(registry.entries)
        for check in CATALOGUE:
            for entry in sorted(registry.entries, key=lambda entry: labels[entry.index]):
                item = CheckItem.from_parent(
                    self, name=f"{check.name}[{labels[entry.index]}]", check=check, entry=entry
                )
                item.add_marker(check.marker)
                yield item


def _labels(entries: tuple[Entry, ...]) -> dict[int, str]:
    """Test ids: the model id, disambiguated by position when a registry repeats an id."""
    counts = Counter(entry.id for entry in entries)
    return {
        entry.index: entry.id if counts[entry.id] == 1 else f"{entry.id}@models[{entry.index}]" for entry in entries
    }


class TinyaiItem(pytest.Item):
    """Base of the plugin's items: short failure text, no traceback into plugin internals."""

    check_name = "registry"

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style=None) -> str:
        if isinstance(excinfo.value, ConformanceFailure | NotChecked):
            return excinfo.value.render()
        return super().repr_failure(excinfo, style)

    def reportinfo(self) -> tuple[str, None, str]:
        return str(self.path), None, self.name


class RegistryProblemItem(TinyaiItem):
    """Fails with the parse or schema errors of the registry file itself."""

    def __init__(self, *, problems: tuple[str, ...], **kwargs) -> None:
        super().__init__(**kwargs)
        self.problems = problems
        self.add_marker("tinyai_registry")
        self.user_properties.append(("tinyai_check", "registry"))

    def runtest(self) -> None:
        raise ConformanceFailure("registry", [Finding(self.path.name, "registry", p) for p in self.problems])


class CheckItem(TinyaiItem):
    """Runs one check on one model and fails with its findings."""

    def __init__(self, *, check: Check, entry: Entry, **kwargs) -> None:
        super().__init__(**kwargs)
        self.check = check
        self.entry = entry
        self.check_name = check.name
        self.user_properties.append(("tinyai_check", check.name))
        self.user_properties.append(("tinyai_model", entry.id))

    def runtest(self) -> None:
        session = self.config.stash[session_key]
        if session.context is None:
            raise NotChecked(self.entry.id, f"spec file error: {session.spec_error}")
        findings = self.check.run(session.model(self.entry), session.context)
        if findings:
            raise ConformanceFailure(self.check.name, findings)
