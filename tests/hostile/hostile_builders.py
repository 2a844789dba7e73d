"""The hostile-input suite's yardstick: a registry holding one hostile model beside a healthy one, and the
assertions every hostile case is held to (one clean line, the healthy model untouched, nothing written, no code run).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

import pytest
from onnx import TensorProto
from plugin_builders import CORE_CHECKS, RegistryDir, item_outcomes, run_in_process

HEALTHY = "good"
CANARY = "CANARY-tinyai-code-ran"
GIVE_UP_SECONDS = 60


def canary_code(folder: Path) -> str:
    """Python source that, if anything ever runs it, leaves the canary file in `folder`."""
    return f"import pathlib\npathlib.Path({str(folder / CANARY)!r}).write_text('ran')\n"


def hostile_registry(folder: Path) -> RegistryDir:
    """A registry folder that already holds the healthy model `good`."""
    registry = RegistryDir(folder)
    registry.add(HEALTHY)
    return registry


def external(tensor: TensorProto, location: str) -> TensorProto:
    """`tensor` with its bytes moved to the external file `location` (which need not exist)."""
    tensor.ClearField("raw_data")
    tensor.data_location = TensorProto.EXTERNAL
    tensor.external_data.add(key="location", value=location)
    return tensor


def _snapshot(root: Path) -> dict[str, tuple[int, int]]:
    def files() -> Iterator[Path]:
        for path in root.rglob("*"):
            if path.is_file() and not path.is_symlink() and not ({"__pycache__", ".pytest_cache"} & set(path.parts)):
                yield path

    return {str(path.relative_to(root)): (path.stat().st_size, path.stat().st_mtime_ns) for path in files()}


@dataclass
class HostileRun:
    """One pytest run of a hostile registry, with the files around it snapshotted before and after."""

    result: pytest.RunResult
    before: dict[str, tuple[int, int]]
    after: dict[str, tuple[int, int]]
    root: Path

    @property
    def output(self) -> str:
        return self.result.stdout.str() + self.result.stderr.str()


def run_hostile(pytester: pytest.Pytester, registry: RegistryDir | Path, *args: str, write: bool = True) -> HostileRun:
    """Write the registry (unless told not to), then run the core checks (or the given `-m`) on it in-process."""
    path = registry.write() if isinstance(registry, RegistryDir) and write else getattr(registry, "path", registry)
    root = pytester.path
    before = _snapshot(root)
    result = run_in_process(pytester, "--tinyai-registry", str(path), "-m", CORE_CHECKS, *args)
    return HostileRun(result, before, _snapshot(root), root)


def assert_contained(run: HostileRun, model_id: str, cause: str) -> None:
    """The yardstick of every hostile case.

    - the run ends in failed tests (exit 1) with no INTERNALERROR, no traceback and no crash;
    - a failure line names `model_id` and contains `cause`, on one line;
    - every selected item of the healthy model passes;
    - no file under the run's folder was created, changed or removed, and the canary was never written.
    """
    assert run.result.ret == pytest.ExitCode.TESTS_FAILED, run.output
    assert_unharmed(run)
    assert any(model_id in line and cause in line for line in run.output.splitlines()), run.output


def assert_declined(run: HostileRun, item: str, cause: str) -> None:
    """A check that refused to run hostile data: its item skipped with `cause`, the summary says it was NOT run,
    and the run is otherwise unharmed (see `assert_unharmed`)."""
    assert item_outcomes(run.result).get(item) == "skipped", item_outcomes(run.result)
    assert_unharmed(run)
    summary = run.output[run.output.index("tinyai conformance") :]
    assert "NOT run" in summary and cause in summary, summary


def assert_unharmed(run: HostileRun) -> None:
    """No INTERNALERROR or traceback, every item of the healthy model passed, nothing written, no code ran."""
    for forbidden in ("INTERNALERROR", "Traceback", "pytest_tinyai/"):
        assert forbidden not in run.output, run.output
    outcomes = item_outcomes(run.result)
    healthy = {name: outcome for name, outcome in outcomes.items() if name.endswith(f"[{HEALTHY}]")}
    assert healthy, outcomes
    assert set(healthy.values()) == {"passed"}, healthy
    assert run.after == run.before, sorted(set(run.after.items()) ^ set(run.before.items()))
    assert not list(run.root.rglob(CANARY)), "hostile code ran"


def failure(run: HostileRun, item: str) -> str:
    """The failure text of one item, which must have failed."""
    [report] = [
        report
        for report in run.result.reprec.getreports("pytest_runtest_logreport")
        if report.nodeid.endswith(f"::{item}") and report.when == "call"
    ]
    assert report.failed, report
    return report.longreprtext


@contextmanager
def fifo(path: Path) -> Iterator[None]:
    """A FIFO at `path` (replacing any file). Should anything block opening it for reading, its writing end is opened
    after GIVE_UP_SECONDS, so that the test fails on its assertions instead of hanging."""
    path.unlink(missing_ok=True)
    os.mkfifo(path)

    def release() -> None:
        with suppress(OSError):  # ENXIO: nobody is reading, nothing to release
            os.close(os.open(path, os.O_WRONLY | os.O_NONBLOCK))

    timer = threading.Timer(GIVE_UP_SECONDS, release)
    timer.start()
    try:
        yield
    finally:
        timer.cancel()
