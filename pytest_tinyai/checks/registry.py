"""Registry check: reports every trust problem of an entry (the other checks refuse untrusted models)."""

from __future__ import annotations

from pytest_tinyai.context import CheckContext
from pytest_tinyai.findings import Finding
from pytest_tinyai.model import ModelUnderTest


def check_registry(model: ModelUnderTest, context: CheckContext) -> list[Finding]:
    return [Finding(model.id, "registry", problem) for problem in model.trust.problems]
