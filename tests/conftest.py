"""Fixtures shared by the plugin and hostile-input tests: a registry folder inside pytester's directory and a runner."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

# The plugin's entry point imports nothing heavy, so an inner pytester run would import the conformance modules
# first, and pytester drops what an inner run imported: the next run would import them again (a second ParityError
# class, a second hypothesis). They are imported here, once, for every inner run to share; so is onnxruntime, which
# writes a device id under the home's cache when first imported, and must do so under the real home, not under
# the test folder an inner run uses as its home.
import onnxruntime  # noqa: F401
import pytest
from plugin_builders import CORE_CHECKS, RegistryDir, run_in_process

import pytest_tinyai.conformance_plugin
import pytest_tinyai.parity.compare
import pytest_tinyai.parity.prepare  # noqa: F401


@pytest.fixture
def registry(pytester: pytest.Pytester) -> RegistryDir:
    """An empty registry folder, `models/`, one level below pytester's directory (so files can lie outside it)."""
    return RegistryDir(pytester.path / "models")


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
