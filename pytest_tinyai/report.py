"""The terminal summary: models checked and, per check, how many items passed, failed or were skipped."""

from __future__ import annotations

from collections import Counter

import pytest

from pytest_tinyai.checks import CATALOGUE
from pytest_tinyai.session import TinyaiSession


class ConformanceReport:
    """Registered as a plugin while registries are checked; tallies reports (xdist workers' included)."""

    def __init__(self, session: TinyaiSession) -> None:
        self.session = session
        self.tally: Counter[tuple[str, str]] = Counter()
        self.models: set[str] = set()

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        properties = dict(report.user_properties)
        check = properties.get("tinyai_check")
        if check is None or not (report.when == "call" or report.outcome != "passed"):
            return
        self.tally[(check, report.outcome)] += 1
        if "tinyai_model" in properties:
            self.models.add(properties["tinyai_model"])

    def pytest_terminal_summary(self, terminalreporter: pytest.TerminalReporter) -> None:
        terminalreporter.section("tinyai conformance")
        for registry in self.session.registries:
            terminalreporter.write_line(f"registry: {registry}")
        terminalreporter.write_line(f"models checked: {len(self.models)}")
        for check in CATALOGUE:
            counts = {outcome: self.tally[(check.name, outcome)] for outcome in ("passed", "failed", "skipped")}
            if any(counts.values()):
                shown = ", ".join(
                    f"{count} {outcome}" for outcome, count in counts.items() if count or outcome != "skipped"
                )
                terminalreporter.write_line(f"  {check.name:<10} {shown}")
