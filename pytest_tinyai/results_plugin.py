"""The results writer: registered while registries are checked and --tinyai-json or --tinyai-report is given.

It keeps what every tinyai item's reports say (an xdist worker's arrive with their `user_properties`, as the
terminal summary's do) and, in the controller alone, builds the results document (`results`) and writes it once at
the session's end: the JSON document, and the HTML report (`html_report`, imported only then, as it needs
matplotlib).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from pytest_tinyai import properties as keys
from pytest_tinyai.bench import NOT_TIMED
from pytest_tinyai.findings import first_line
from pytest_tinyai.registry_writer import atomic_write_bytes
from pytest_tinyai.results import ItemLog, Phase, Results, results_document
from pytest_tinyai.run_header import run_header
from pytest_tinyai.run_state import RunState

REPORT_EXTRA = "pytest-tinyai[report]"
TIMED_CHECKS = (
    ("bench", f"latency of each declared resolution (pytest-benchmark; skipped when {NOT_TIMED.split(':')[0]})"),
    ("latency_budget", "a relative latency budget decided from paired, interleaved timing"),
)


def require_matplotlib() -> None:
    """A report needs matplotlib: a usage error naming the extra when it cannot be imported."""
    try:
        import matplotlib  # noqa: F401
    except ImportError as error:
        raise pytest.UsageError(
            f"--tinyai-report needs matplotlib ({error}): install the report extra, pip install '{REPORT_EXTRA}'"
        ) from None


def _destination(config: pytest.Config, value: str | None) -> Path | None:
    if not value:
        return None
    path = Path(value)
    return path if path.is_absolute() else config.invocation_params.dir / path


def tinyai_properties(user_properties: Any) -> dict[str, Any]:
    """A report's user properties by name, keeping only well-formed (name, value) pairs."""
    found: dict[str, Any] = {}
    for entry in user_properties if isinstance(user_properties, list | tuple) else ():
        if isinstance(entry, list | tuple) and len(entry) == 2 and isinstance(entry[0], str):
            found[entry[0]] = entry[1]
    return found


def item_id(report: pytest.TestReport) -> tuple[str, str]:
    """The item's node id and name as a run without xdist gives them: `--dist loadgroup` appends `@<group>` to the
    node ids of grouped items (the gate's), and the report would otherwise name them differently under `-n`."""
    prefix, _, last = report.nodeid.rpartition("::")
    name = report.location[2] if isinstance(report.location[2], str) and report.location[2] else last
    return (f"{prefix}::{name}" if prefix and last.startswith(f"{name}@") else report.nodeid), name


def report_text(report: pytest.TestReport) -> str:
    """What a report says beside its outcome: a skip's reason, a failure's lines (without the worker line xdist
    puts before them), nothing for a pass."""
    longrepr = report.longrepr
    if report.outcome == "passed" or longrepr is None:
        return ""
    if isinstance(longrepr, tuple) and len(longrepr) == 3:  # a skip: (path, line, reason)
        return str(longrepr[2]).removeprefix("Skipped: ")
    return str(longrepr)


class ResultsWriter:
    """Gathers the tinyai items' reports; the controller writes --tinyai-json and --tinyai-report at the end."""

    def __init__(self, config: pytest.Config, run_state: RunState) -> None:
        self.config = config
        self.run_state = run_state
        self.json_path = _destination(config, config.option.tinyai_json)
        self.report_dir = _destination(config, config.option.tinyai_report)
        self.logs: dict[str, ItemLog] = {}
        self.started = datetime.now(UTC)
        self.clock = time.monotonic()
        self.written: list[str] = []
        self.failures: list[str] = []
        if self.report_dir is not None:
            require_matplotlib()
            _prepare(self.report_dir, "--tinyai-report")
        if self.json_path is not None:
            _prepare(self.json_path.parent, "--tinyai-json")

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        found = tinyai_properties(report.user_properties)
        check = found.get(keys.CHECK)
        if not isinstance(check, str):
            return
        model = found.get(keys.MODEL)
        nodeid, name = item_id(report)
        log = self.logs.setdefault(nodeid, ItemLog(nodeid, name, check, model if isinstance(model, str) else None))
        wasxfail = getattr(report, "wasxfail", None)
        log.phases.append(
            Phase(
                report.when or "call",
                report.outcome,
                report_text(report),
                tuple(found.items()),
                str(wasxfail) if wasxfail is not None else None,
                float(report.duration or 0.0),
            )
        )

    def results(self) -> Results:
        checks = [{"name": check.name, "description": check.description} for check in self.run_state.parts.checks]
        checks += [{"name": name, "description": description} for name, description in TIMED_CHECKS]
        order = {check["name"]: index for index, check in enumerate(checks)}
        header = run_header(
            self.run_state.registries,
            started=self.started.isoformat(timespec="seconds"),
            duration_s=time.monotonic() - self.clock,
            workers=_workers(self.config),
            arguments=[str(arg) for arg in self.config.invocation_params.args],
            checks=checks,
        )
        logs = sorted(self.logs.values(), key=lambda log: (order.get(log.check, len(order)), log.check, log.nodeid))
        return results_document(logs, header)

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        if hasattr(self.config, "workerinput"):
            return  # a worker's reports reach the controller, which writes once
        results = self.results()
        if self.json_path is not None:
            data = json.dumps(results.document, indent=2, ensure_ascii=False, allow_nan=False) + "\n"
            self._write("results", self.json_path, lambda: atomic_write_bytes(self.json_path, data.encode()))
        if self.report_dir is not None:
            from pytest_tinyai.html_report import PAGE, write_report

            self._write("report", self.report_dir / PAGE, lambda: write_report(results, self.report_dir))

    def _write(self, what: str, path: Path, write: Callable[[], object]) -> None:
        try:
            write()
        except OSError as error:
            self.failures.append(f"tinyai {what} NOT written to {path}: {first_line(error)}")
        else:
            self.written.append(f"tinyai {what}: {path}")

    @pytest.hookimpl(trylast=True)
    def pytest_terminal_summary(self, terminalreporter: pytest.TerminalReporter) -> None:
        for line in self.written:
            terminalreporter.write_line(line)
        for line in self.failures:
            terminalreporter.write_line(line, red=True, bold=True)


def _workers(config: pytest.Config) -> int | None:
    workers = getattr(config.option, "numprocesses", None)
    return workers if isinstance(workers, int) and not isinstance(workers, bool) else None


def _prepare(folder: Path, option: str) -> None:
    """The destination folder exists (created now) or the run stops with a usage error naming the option."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise pytest.UsageError(f"{option}: cannot create {folder}: {first_line(error)}") from None
