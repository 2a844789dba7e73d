"""Registry check: reports every trust problem of an entry (the other checks refuse untrusted models) and every
problem of its signature (which refuses nothing), and records the signature's state for the summary."""

from __future__ import annotations

from pytest_tinyai.context import CheckContext
from pytest_tinyai.findings import CheckResult, Finding
from pytest_tinyai.model import ModelUnderTest


def check_registry(model: ModelUnderTest, context: CheckContext) -> CheckResult:
    trust = model.trust
    problems = [*trust.problems, *trust.signature_problems]
    return CheckResult([Finding(model.id, "registry", problem) for problem in problems], trust.signature.record)
