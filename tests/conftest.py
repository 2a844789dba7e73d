"""Fixtures shared by the plugin, hostile-input, dynamic-check and report tests: a registry folder inside pytester's
directory, a runner, and the dynamic checks' workspace with its held-out fold."""

from __future__ import annotations

import contextlib
import importlib
from collections.abc import Callable
from pathlib import Path

import pytest
from dynamic_builders import Workspace
from plugin_builders import CORE_CHECKS, RegistryDir, run_in_process

HERE = Path(__file__).parent
# The plugin's entry point imports nothing heavy, so an inner pytester run would import the conformance modules
# first, and pytester drops what an inner run imported: the next run would import them again (a second ParityError
# class, a second hypothesis). They are imported once, before the first test, for every inner run to share; so is
# onnxruntime, which writes a device id under the home's cache when first imported, and must do so under the real
# home, not under the test folder an inner run uses as its home.
SHARED_WITH_INNER_RUNS = (
    "onnxruntime",
    "pytest_tinyai.conformance_plugin",
    "pytest_tinyai.parity.compare",
    "pytest_tinyai.parity.prepare",
)
# The report's figures, likewise: matplotlib builds its font cache under the home when first imported, and contourpy
# (imported when a figure first draws a contour) is a pybind11 module, which cannot be imported twice in one process.
# Without the report extra (in the dev extra) the report tests fail and say so.
REPORT_SHARED_WITH_INNER_RUNS = ("contourpy", "matplotlib.backends.backend_agg", "pytest_tinyai.html_report")


def pytest_collection_finish(session: pytest.Session) -> None:
    """The shared modules are imported once this folder's tests are collected, before the first runs. A run that
    collects none of them imports none: the conformance run from the repository's root (the main job, and each of
    its xdist workers) loads this file too, and imports torch and matplotlib only where a check needs them."""
    if not any(item.path.is_relative_to(HERE) for item in session.items):
        return
    for name in SHARED_WITH_INNER_RUNS:
        importlib.import_module(name)
    with contextlib.suppress(ImportError):
        for name in REPORT_SHARED_WITH_INNER_RUNS:
            importlib.import_module(name)


@pytest.fixture
def registry(pytester: pytest.Pytester) -> RegistryDir:
    """An empty registry folder, `models/`, one level below pytester's directory (so files can lie outside it)."""
    return RegistryDir(pytester.path / "models")


@pytest.fixture
def workspace(pytester: pytest.Pytester) -> Workspace:
    """An empty registry folder for the dynamic checks: pytester's directory (registry.json, models, folds/,
    ledger.json)."""
    return Workspace(pytester.path)


@pytest.fixture
def fold_hash(workspace: Workspace) -> str:
    """The content hash of a freshly written four-image fold `folds/tiny-fold`."""
    return workspace.write_fold()


@pytest.fixture
def run_tinyai(pytester: pytest.Pytester) -> Callable[..., pytest.RunResult]:
    """Run pytest in-process on a registry (written first when a RegistryDir is given), with extra arguments.

    Only the five core checks are selected unless the arguments carry their own `-m` (the last `-m` wins).
    """

    def run(target: RegistryDir | Path, *args: str) -> pytest.RunResult:
        path = target.write() if isinstance(target, RegistryDir) else target
        return run_in_process(pytester, "--tinyai-registry", str(path), "-m", CORE_CHECKS, *args)

    return run


@pytest.fixture(autouse=True)
def inner_runs_are_not_xdist_workers(monkeypatch: pytest.MonkeyPatch) -> None:
    """pytest-benchmark disables itself (and warns) when PYTEST_XDIST_WORKER is set, as it is while these tests
    run under -n: the inner pytester runs are not distributed, so they must behave like a plain run."""
    monkeypatch.delenv("PYTEST_XDIST_WORKER", raising=False)
