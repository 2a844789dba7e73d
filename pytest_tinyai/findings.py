"""Findings: what a check reports, as plain data, and the exceptions that turn them into test outcomes."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Finding:
    """One thing a check found wrong with one model."""

    model_id: str
    check: str
    message: str
    scope: str | None = None

    def render(self) -> str:
        where = f" (in {self.scope})" if self.scope else ""
        return f"{self.model_id}: {self.message}{where}"


class ConformanceFailure(Exception):
    """Raised by a test item whose check returned findings; rendered without a traceback."""

    def __init__(self, check: str, findings: list[Finding]) -> None:
        super().__init__(check, findings)
        self.check = check
        self.findings = findings

    def render(self) -> str:
        """One line per finding, so that pytest's short summary shows the first one."""
        return "\n".join(finding.render() for finding in self.findings)


class NotChecked(Exception):
    """Raised when a model cannot be checked at all (untrusted file, unreadable sidecar); fails the item."""

    def __init__(self, model_id: str, reason: str) -> None:
        super().__init__(model_id, reason)
        self.model_id = model_id
        self.reason = reason

    def render(self) -> str:
        return f"{self.model_id}: not checked: {self.reason}"


class NotRun(NotChecked):
    """Raised when a model may not be run: untrusted, off the allowlist, or a run of it was killed."""

    def render(self) -> str:
        return f"{self.model_id}: {self.reason}"
