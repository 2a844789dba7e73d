"""pytest entry point: options, markers and the hooks that wire registries into collection and reporting."""

from __future__ import annotations

from collections.abc import Generator
from pathlib import Path

import pytest

from pytest_tinyai.checks import MARKERS
from pytest_tinyai.collection import registry_files, registry_selections, select_items
from pytest_tinyai.contract import DEFAULT_MAX_PIXELS
from pytest_tinyai.ort_sandbox import DEFAULT_MEMORY_GIB, DEFAULT_TIMEOUT_S
from pytest_tinyai.report import ConformanceReport
from pytest_tinyai.session import TinyaiSession, session_key


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("tinyai", "tiny ONNX model conformance (pytest-tinyai)")
    group.addoption(
        "--tinyai-registry", action="append", metavar="FILE", help="registry.json whose models are checked (repeatable)"
    )
    group.addoption(
        "--tinyai-allowlist",
        metavar="FILE",
        help="op allowlist in onnxruntime's required-operators config format (replaces the packaged one)",
    )
    group.addoption(
        "--tinyai-resize-contract", metavar="FILE", help="Resize attribute contract JSON (replaces the packaged one)"
    )
    group.addoption(
        "--tinyai-max-onnx-mib",
        type=float,
        default=50.0,
        metavar="MIB",
        help="size cap for each .onnx and for its external data (default 50)",
    )
    group.addoption(
        "--tinyai-threads",
        type=int,
        default=1,
        metavar="N",
        help="onnxruntime intra-op threads of every session (default 1, pinned for reproducibility)",
    )
    group.addoption(
        "--tinyai-fuzz-examples",
        type=int,
        default=None,
        metavar="N",
        help="hypothesis examples per fuzz property (default: the active hypothesis profile's max_examples)",
    )
    group.addoption(
        "--tinyai-fuzz-pixel-budget",
        type=int,
        default=None,
        metavar="N",
        help="the most pixels (product of the fuzzed dims) of a randomly drawn fuzz shape (default 65536 = 256x256)",
    )
    group.addoption(
        "--tinyai-data-dir",
        metavar="DIR",
        help="folder holding the gates' data folds by name (default: <registry folder>/folds)",
    )
    group.addoption(
        "--tinyai-allow-missing-data",
        action="store_true",
        help="skip (loudly) the gates whose fold is missing instead of failing them",
    )
    group.addoption(
        "--tinyai-run-timeout",
        type=float,
        default=DEFAULT_TIMEOUT_S,
        metavar="SECONDS",
        help="time limit of each onnxruntime load and run in the sandbox process, which is killed past it (default 60)",
    )
    group.addoption(
        "--tinyai-run-memory-gib",
        type=float,
        default=DEFAULT_MEMORY_GIB,
        metavar="GIB",
        help="address-space cap of the onnxruntime sandbox process (default 8)",
    )
    group.addoption(
        "--tinyai-max-pixels",
        type=int,
        default=DEFAULT_MAX_PIXELS,
        metavar="N",
        help="cap on the pixels (product of the symbolic dims) of any shape a sidecar makes the plugin run "
        "(default 4096*4096)",
    )
    group.addoption("--tinyai-ledger", metavar="FILE", help="gate ledger JSON (default: the tinyai_ledger ini option)")
    group.addoption(
        "--tinyai-update-ledger",
        action="store_true",
        help="record new gates and higher floors in the ledger; it refuses to loosen anything",
    )
    parser.addini("tinyai_ledger", "gate ledger JSON, relative to the rootdir", default="")
    parser.addini(
        "tinyai_reference_roots",
        "import roots (packages) whose modules a sidecar's PyTorch reference may name; none by default",
        type="args",
        default=[],
    )


def pytest_configure(config: pytest.Config) -> None:
    for marker, description in MARKERS.items():
        config.addinivalue_line("markers", f"{marker}: pytest-tinyai: {description}")
    session = TinyaiSession.from_config(config)
    config.stash[session_key] = session
    if not session.registries:
        return
    missing = [str(path) for path in session.registries if not path.exists()]
    if missing:
        raise pytest.UsageError(f"--tinyai-registry: no such file: {', '.join(missing)}")
    if config.option.tinyai_update_ledger and not hasattr(config, "workerinput"):
        session.update_ledger()
    config.pluginmanager.register(ConformanceReport(session), "tinyai-report")
    if config.args_source != pytest.Config.ArgsSource.ARGS:
        config.args = []  # only the registries: not testpaths, not the current directory
    config.args, session.selected = registry_selections(config.args, session.registries)


@pytest.hookimpl(wrapper=True)
def pytest_make_collect_report(
    collector: pytest.Collector,
) -> Generator[None, pytest.CollectReport, pytest.CollectReport]:
    """The registries join the session's top-level collectors directly.

    A registry is never a collection argument: pytest would import the conftest.py files in and above its
    folder and put that folder on sys.path, and a registry is data, not code.
    """
    report = yield
    if isinstance(collector, pytest.Session) and report.passed:
        session = collector.config.stash[session_key]
        report.result.extend(registry_files(collector, session.registries))
    return report


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """`path/registry.json::name` arguments select those items of the registry, as node ids do for test files."""
    session = config.stash.get(session_key, None)
    if session is None or not session.selected:
        return
    kept, deselected = select_items(items, session.selected)
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = kept


@pytest.hookimpl(tryfirst=True)
def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    """A directory walk never enters a registry's folder: its conftest.py files are data, never imported."""
    session = config.stash.get(session_key, None)
    if session is None or not session.registries:
        return None
    folders = {registry.parent.resolve() for registry in session.registries}
    return True if collection_path.resolve() in folders else None
