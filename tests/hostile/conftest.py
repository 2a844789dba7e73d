"""Fixtures of the hostile-input suite: a registry folder that already holds a healthy model."""

from __future__ import annotations

import pytest
from hostile_builders import hostile_registry
from plugin_builders import RegistryDir


@pytest.fixture
def hostile(pytester: pytest.Pytester) -> RegistryDir:
    """`models/` below pytester's directory, holding the healthy model `good`; tests add one hostile model."""
    return hostile_registry(pytester.path / "models")
