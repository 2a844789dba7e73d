"""Fixtures of the dynamic checks' tests: pytester's directory as a registry folder, with a held-out fold."""

from __future__ import annotations

import pytest
from dynamic_builders import Workspace


@pytest.fixture
def workspace(pytester: pytest.Pytester) -> Workspace:
    """An empty registry folder: pytester's directory (registry.json, models, folds/, ledger.json)."""
    return Workspace(pytester.path)


@pytest.fixture
def fold_hash(workspace: Workspace) -> str:
    """The content hash of a freshly written four-image fold `folds/tiny-fold`."""
    return workspace.write_fold()
