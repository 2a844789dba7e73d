"""Collection: a registry file becomes one test item per (check, model), sorted and identical on every worker."""

from __future__ import annotations

import os
import traceback
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from _pytest.pathlib import bestrelpath

from pytest_tinyai import properties as keys
from pytest_tinyai.bench import BenchFunction, bench_callable
from pytest_tinyai.checks import Check
from pytest_tinyai.declared import Declared, peek_registry
from pytest_tinyai.findings import ConformanceFailure, Finding, NotChecked, NotRun, as_result, printable
from pytest_tinyai.gate.ledger import Records
from pytest_tinyai.latency_budget import budget_findings, budget_properties, budget_record, measure_budget
from pytest_tinyai.nodes import ConfiguredHooks
from pytest_tinyai.registry import Entry
from pytest_tinyai.run_state import absolute, run_state_key
from pytest_tinyai.timing import resolution_label

REGISTRY_LEVEL = "registry.json"
ORPHAN = (
    "records a gate or thresholds for a model that its registry no longer holds (a renamed or removed model keeps "
    "its gate; retire the record by hand, in review)"
)
MOVED = "a moved registry keeps its records; move them with it by hand, in review"
SELECTION_SEPARATOR = "::"
MAX_LABEL = 80  # characters of a model id in an item name
Items = list[pytest.Item]
# Ctrl-C and pytest's own outcomes pass through an item; everything else a check raises is contained.
CONTROL_FLOW = (KeyboardInterrupt, pytest.skip.Exception, pytest.fail.Exception, pytest.exit.Exception)


def registry_files(session: pytest.Session, registries: list[Path]) -> list[RegistryFile]:
    """One top-level collector per registry, parented to the session (never reached through a directory walk)."""
    root = session.config.rootpath
    files = []
    for registry in registries:
        nodeid = str(registry.relative_to(root)) if registry.is_relative_to(root) else bestrelpath(root, registry)
        files.append(RegistryFile.from_parent(session, path=registry, nodeid=nodeid.replace(os.sep, "/")))
    return files


def registry_selections(args: list[str], registries: list[Path]) -> tuple[list[str], dict[Path, set[str]]]:
    """Split collection arguments into ordinary ones and selections of registry items (`registry.json::name`).

    An argument naming a registry itself is dropped (the registry is collected anyway); one naming an item
    selects it. Returns the remaining arguments and, per registry, the selected item names.
    """
    remaining: list[str] = []
    selected: dict[Path, set[str]] = {}
    for arg in args:
        path, _, name = arg.partition(SELECTION_SEPARATOR)
        registry = absolute(Path(path))
        if registry not in registries:
            remaining.append(arg)
        elif name:
            selected.setdefault(registry, set()).add(name)
    return remaining, selected


def select_items(
    items: list[pytest.Item], selected: dict[Path, set[str]]
) -> tuple[list[pytest.Item], list[pytest.Item]]:
    """(kept, deselected): a registry's items outside its selection are deselected; other items are kept."""
    kept, deselected = [], []
    for item in items:
        names = selected.get(item.path) if isinstance(item.parent, RegistryFile) else None
        (deselected if names is not None and item.name not in names else kept).append(item)
    return kept, deselected


class RegistryFile(ConfiguredHooks, pytest.File):
    """A registry.json named by --tinyai-registry."""

    def collect(self) -> Iterator[pytest.Item]:
        run_state = self.config.stash[run_state_key]
        registry = run_state.registry(self.path)
        if registry.problems:
            yield RegistryProblemItem.from_parent(self, name=f"registry[{REGISTRY_LEVEL}]", problems=registry.problems)
        labels = _labels(registry.entries)
        entries = sorted(registry.entries, key=lambda entry: labels[entry.index])
        ledger = run_state.ledger
        records = (ledger.records(self.path) or Records()) if ledger is not None else None
        declared = peek_registry(entries, records)
        for check in run_state.parts.checks:
            for entry in entries:
                if entry.problems and check.name != "registry":
                    continue  # a broken declaration is one failing item, not one per check
                if check.applies(declared[entry.index]):
                    name = f"{check.name}[{labels[entry.index]}]"
                    yield CheckItem.from_parent(
                        self, name=name, check=check, entry=entry, declared=declared[entry.index]
                    )
        if records is not None:
            for orphan in sorted(records.model_ids() - {entry.id for entry in entries}):
                yield LedgerRecordItem.from_parent(
                    self, name=f"gate[{printable(orphan, MAX_LABEL)}]", subject=orphan, problem=ORPHAN
                )
        if ledger is not None and self.path == run_state.registries[0]:
            for key in ledger.absent_registries():
                problem = f"governs {key}, which no longer exists ({MOVED})"
                yield LedgerRecordItem.from_parent(
                    self, name=f"ledger[{printable(key, MAX_LABEL)}]", subject=key, problem=problem
                )
        latency = {
            entry.index: (declared[entry.index].get("latency") if not entry.problems else None) or {}
            for entry in entries
        }
        for entry in entries:
            for resolution in latency[entry.index].get("resolutions", []):
                yield self._bench_item(entry, labels[entry.index], tuple(resolution))
        for entry in entries:
            for budget in latency[entry.index].get("budgets", []):
                label = (
                    f"{labels[entry.index]}-{resolution_label(tuple(budget['resolution']))}-vs-{budget['relative_to']}"
                )
                yield BudgetItem.from_parent(self, name=f"latency_budget[{label}]", entry=entry, budget=budget)

    def _bench_item(self, entry: Entry, label: str, resolution: tuple[int, int]) -> pytest.Function:
        run_state = self.config.stash[run_state_key]
        item = BenchFunction.from_parent(
            self,
            name=f"bench[{label}-{resolution_label(resolution)}]",
            callobj=bench_callable(lambda: run_state.model(entry), resolution),
        )
        _mark(item, "tinyai_bench", "bench", entry.id)
        return item


def _labels(entries: tuple[Entry, ...]) -> dict[int, str]:
    """Test ids: the model id, disambiguated by position when a registry repeats an id."""
    shown = {entry.index: printable(entry.id, MAX_LABEL) for entry in entries}
    counts = Counter(shown.values())
    return {index: label if counts[label] == 1 else f"{label}@models[{index}]" for index, label in shown.items()}


def _mark(item: pytest.Item, marker: str, check: str, model_id: str | None) -> None:
    item.add_marker(marker)
    item.user_properties.append((keys.CHECK, check))
    if model_id is not None:
        item.user_properties.append((keys.MODEL, model_id))


class TinyaiItem(ConfiguredHooks, pytest.Item):
    """Base of the plugin's items: short failure text, no traceback into plugin internals."""

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
        _mark(self, "tinyai_registry", "registry", None)

    def runtest(self) -> None:
        raise ConformanceFailure("registry", [Finding(self.path.name, "registry", p) for p in self.problems])


class CheckItem(TinyaiItem):
    """Runs one check on one model and fails with its findings."""

    def __init__(self, *, check: Check, entry: Entry, declared: Declared, **kwargs) -> None:
        super().__init__(**kwargs)
        self.check = check
        self.entry = entry
        _mark(self, check.marker, check.name, entry.id)
        if check.xdist_group and self.config.pluginmanager.hasplugin("xdist"):
            self.add_marker(pytest.mark.xdist_group(check.xdist_group))
        if check.xfail_when_proposed:
            self._mark_proposed(declared)

    def _mark_proposed(self, declared: Declared) -> None:
        """A `proposed` model whose gate records `gate_failed` runs as a strict xfail: green while it fails, red
        (asking for its promotion) once it passes."""
        gate = declared.get("gate")
        if declared.get("status") == "proposed" and isinstance(gate, dict) and gate.get("gate_failed"):
            reason = (
                f"proposed, gate failed: {gate['gate_failed']} (if this now passes, promote it: set status "
                "'production' and drop gate_failed)"
            )
            self.add_marker(pytest.mark.xfail(strict=True, reason=reason))

    def runtest(self) -> None:
        run_state = self.config.stash[run_state_key]
        assert run_state.context is not None  # built with the run state
        model = run_state.model(self.entry)
        try:
            result = as_result(self.check.run(model, run_state.context))
        except NotRun as declined:
            pytest.skip(str(declined))
        except NotChecked:
            raise
        except CONTROL_FLOW:
            raise
        except BaseException as error:  # a crashing check, SystemExit included, fails in one line naming where
            frame = traceback.extract_tb(error.__traceback__)[-1]
            where = f"{Path(frame.filename).name}:{frame.lineno}"
            raise NotChecked(
                self.entry.id, f"the {self.check.name} check crashed: {type(error).__name__}: {error} (at {where})"
            ) from None
        if result.record is not None:
            self.user_properties.append((keys.result(self.check.name), result.record))
        self.user_properties.extend(result.properties.items())
        if result.attachment is not None:
            self.user_properties.append((keys.attachment(self.check.name), result.attachment))
        if result.findings:
            raise ConformanceFailure(self.check.name, result.findings)

    def teardown(self) -> None:
        """The attachment rode on the call report (to the report's writer, across xdist); the teardown report, which
        JUnit XML writes its properties from, goes without it."""
        key = keys.attachment(self.check.name)
        self.user_properties[:] = [entry for entry in self.user_properties if entry[0] != key]


class LedgerRecordItem(TinyaiItem):
    """Fails for ledger records left with nothing to govern: a model its registry no longer holds, or a registry
    no longer where the ledger names it. Renaming or dropping a model, or moving a registry, can't shed a gate."""

    def __init__(self, *, subject: str, problem: str, **kwargs) -> None:
        super().__init__(**kwargs)
        self.subject = subject
        self.problem = problem
        _mark(self, "tinyai_gate", "gate", subject)

    def runtest(self) -> None:
        ledger = self.config.stash[run_state_key].ledger
        message = f"ledger {ledger.path.name if ledger else ''}: {self.problem}"
        raise ConformanceFailure("gate", [Finding(self.subject, "gate", message)])


class BudgetItem(TinyaiItem):
    """Decides a relative latency budget from its own paired, interleaved timing of both models."""

    def __init__(self, *, entry: Entry, budget: dict, **kwargs) -> None:
        super().__init__(**kwargs)
        self.entry = entry
        self.budget = budget
        _mark(self, "tinyai_bench", "latency_budget", entry.id)

    def runtest(self) -> None:
        run_state = self.config.stash[run_state_key]
        model = run_state.model(self.entry)
        record = budget_record(model.id, self.budget, measure_budget(model, run_state.peers(model), self.budget))
        self.user_properties.append((keys.result("latency_budget"), record))
        self.user_properties.extend(budget_properties(record).items())
        findings = budget_findings(record)
        if findings:
            raise ConformanceFailure("latency_budget", findings)
