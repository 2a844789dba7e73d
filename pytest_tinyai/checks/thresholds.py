"""Thresholds check: every threshold the sidecar declares is recorded in the ledger and no looser than its record."""

from __future__ import annotations

from pytest_tinyai.context import CheckContext
from pytest_tinyai.findings import Finding
from pytest_tinyai.model import ModelUnderTest
from pytest_tinyai.thresholds import declared_thresholds


def check_thresholds(model: ModelUnderTest, context: CheckContext) -> list[Finding]:
    if context.ledger is None:
        return []
    declared = declared_thresholds(model.tinyai)
    problems = context.ledger.threshold_problems(model.entry.registry_path, model.id, declared)
    return [Finding(model.id, "thresholds", f"ledger {context.ledger.path.name}: {problem}") for problem in problems]
