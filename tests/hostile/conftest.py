"""Fixtures of the hostile-input suite: a registry folder that already holds a healthy model."""

from __future__ import annotations

import pytest
import torch  # noqa: F401  (imported once here: inner in-process runs drop modules they import, and torch cannot be

#                           imported twice in one process)
from hostile_builders import hostile_registry
from plugin_builders import RegistryDir


@pytest.fixture
def hostile(pytester: pytest.Pytester) -> RegistryDir:
    """`models/` below pytester's directory, holding the healthy model `good`; tests add one hostile model."""
    return hostile_registry(pytester.path / "models")
