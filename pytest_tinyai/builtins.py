"""The built-in parts, offered through the same hooks a conftest uses (registered first, so they come first)."""

from __future__ import annotations

import pytest

from pytest_tinyai.checks import CATALOGUE, Check
from pytest_tinyai.kinds import BUILTIN_KINDS, ModelKind
from pytest_tinyai.metrics import BUILTIN_METRICS, Metric


@pytest.hookimpl(tryfirst=True)
def pytest_tinyai_checks() -> list[Check]:
    return list(CATALOGUE)


@pytest.hookimpl(tryfirst=True)
def pytest_tinyai_model_kinds() -> list[ModelKind]:
    return list(BUILTIN_KINDS)


@pytest.hookimpl(tryfirst=True)
def pytest_tinyai_metrics() -> list[Metric]:
    return list(BUILTIN_METRICS)
