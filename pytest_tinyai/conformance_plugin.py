"""The conformance run: registered by the entry point only when registries are named. It gathers the parts
(built-ins, plugins' and conftests' hooks), builds the run state, and wires the registries into collection and
the terminal summary."""

from __future__ import annotations

from collections.abc import Generator
from pathlib import Path

import pytest

from pytest_tinyai import builtins
from pytest_tinyai.collection import registry_files, registry_selections, select_items
from pytest_tinyai.parts import PartError, Parts
from pytest_tinyai.report import ConformanceReport
from pytest_tinyai.results_plugin import ResultsWriter
from pytest_tinyai.run_state import RunState, run_state_key

BENCH_MARKER = ("tinyai_bench", "latency benchmarks (pytest-benchmark) and relative latency budgets")


class ConformancePlugin:
    """Run-wide hooks of a conformance run; usage errors (a bad option, spec or ledger) stop it once."""

    name = "tinyai-conformance"

    def __init__(self, config: pytest.Config) -> None:
        config.pluginmanager.register(builtins, "tinyai-builtins")
        try:
            parts = Parts.from_hooks(config.hook)
        except PartError as error:
            raise pytest.UsageError(f"pytest-tinyai: {error}") from None
        for check in parts.checks:
            config.addinivalue_line("markers", f"{check.marker}: pytest-tinyai: {check.description}")
        config.addinivalue_line("markers", f"{BENCH_MARKER[0]}: pytest-tinyai: {BENCH_MARKER[1]}")
        self.run_state = RunState.from_config(config, parts)
        config.stash[run_state_key] = self.run_state
        if config.option.tinyai_update_ledger and not hasattr(config, "workerinput"):
            self.run_state.update_ledger()
        config.pluginmanager.register(ConformanceReport(self.run_state), "tinyai-report")
        if config.option.tinyai_report or config.option.tinyai_json:
            config.pluginmanager.register(ResultsWriter(config, self.run_state), "tinyai-results")
        if config.args_source != pytest.Config.ArgsSource.ARGS:
            config.args = []  # only the registries: not testpaths, not the current directory
        config.args, self.run_state.selected = registry_selections(config.args, self.run_state.registries)

    @pytest.hookimpl(wrapper=True)
    def pytest_make_collect_report(
        self,
        collector: pytest.Collector,
    ) -> Generator[None, pytest.CollectReport, pytest.CollectReport]:
        """The registries join the session's top-level collectors directly.

        A registry is never a collection argument: pytest would import the conftest.py files in and above its
        folder and put that folder on sys.path, and a registry is data, not code.
        """
        report = yield
        if isinstance(collector, pytest.Session) and report.passed:
            run_state = self.run_state
            report.result.extend(registry_files(collector, run_state.registries))
        return report

    @pytest.hookimpl(tryfirst=True)
    def pytest_collection_modifyitems(self, config: pytest.Config, items: list[pytest.Item]) -> None:
        """`path/registry.json::name` arguments select those items of the registry, as node ids do for test files."""
        run_state = self.run_state
        if not run_state.selected:
            return
        kept, deselected = select_items(items, run_state.selected)
        if deselected:
            config.hook.pytest_deselected(items=deselected)
            items[:] = kept

    @pytest.hookimpl(tryfirst=True)
    def pytest_ignore_collect(self, collection_path: Path, config: pytest.Config) -> bool | None:
        """A directory walk never enters a registry's folder: its conftest.py files are data, never imported."""
        run_state = self.run_state
        folders = {registry.parent.resolve() for registry in run_state.registries}
        return True if collection_path.resolve() in folders else None
