"""Findings: what a check reports, as plain data, and the exceptions that turn them into test outcomes."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

MAX_SHOWN = 500  # characters of one registry-supplied text in a line of output


def first_line(error: BaseException) -> str:
    """The first line of an error's message (its type's name when it says nothing): one line for a finding."""
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def printable(text: str, limit: int = MAX_SHOWN) -> str:
    """Text from a registry made safe for one line of output: control and other non-printing characters
    escaped (no forged lines, no terminal escapes), and anything past `limit` characters cut and counted."""
    shown = "".join(char if char.isprintable() else ascii(char)[1:-1] for char in text[:limit])
    return shown if len(text) <= limit else f"{shown}… ({len(text):,} characters)"


@dataclass(frozen=True)
class Finding:
    """One thing a check found wrong with one model; `file` names the graph it is about when that is not the
    model's own ONNX (its int8 sibling)."""

    model_id: str
    check: str
    message: str
    scope: str | None = None
    file: str | None = None

    def render(self) -> str:
        where = f" (in {printable(self.scope)})" if self.scope else ""
        file = f"{printable(self.file)}: " if self.file else ""
        return f"{printable(self.model_id)}: {file}{printable(self.message)}{where}"


@dataclass(frozen=True)
class CheckResult:
    """What a check returns: its findings (empty when the model passes) and what it measured, if anything.

    `record` is the measured record the summary reads; `properties` are its headline numbers by name (`iou`,
    `max_abs_diff`, ...), which the item records `record_property`-style so that JUnit XML carries them;
    `attachment` is what only the conformance report shows (per-sample scores, small pictures), bounded by the
    check and carried by the item's call report alone, never into JUnit XML.
    """

    findings: list[Finding]
    record: dict[str, Any] | None = None
    properties: dict[str, float] = field(default_factory=dict)
    attachment: dict[str, Any] | None = None


def as_result(outcome: list[Finding] | CheckResult) -> CheckResult:
    return outcome if isinstance(outcome, CheckResult) else CheckResult(list(outcome))


class ConformanceFailure(Exception):
    """Raised by a test item whose check returned findings; rendered without a traceback."""

    def __init__(self, check: str, findings: list[Finding]) -> None:
        super().__init__(check, findings)
        self.check = check
        self.findings = findings

    def render(self) -> str:
        """One line per finding, so that pytest's short summary shows the first one."""
        return "\n".join(finding.render() for finding in self.findings)


class NotRun(Exception):
    """A check that declines to run for a stated reason (missing data, untrusted reference); the item skips loudly
    and the summary lists it."""

    def __init__(self, model_id: str, check: str, reason: str) -> None:
        super().__init__(model_id, check, reason)
        self.model_id = model_id
        self.check = check
        self.reason = reason

    def __str__(self) -> str:
        return f"{printable(self.model_id)}: {self.check} not run: {printable(self.reason)}"


class NotChecked(Exception):
    """Raised when a model cannot be checked at all (untrusted file, unreadable sidecar); fails the item."""

    def __init__(self, model_id: str, reason: str) -> None:
        super().__init__(model_id, reason)
        self.model_id = model_id
        self.reason = reason

    def render(self) -> str:
        return f"{printable(self.model_id)}: not checked: {printable(self.reason)}"


class NotRunnable(NotChecked):
    """Raised when a model may not be run: untrusted, off the allowlist, or a run of it was killed."""

    def render(self) -> str:
        return f"{printable(self.model_id)}: {printable(self.reason)}"
