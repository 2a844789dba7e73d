"""pytest entry point: options, markers and the hooks that wire registries into collection and reporting."""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_tinyai.checks import MARKERS
from pytest_tinyai.collection import RegistryFile
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


@pytest.hookimpl(tryfirst=True)
def pytest_load_initial_conftests(early_config: pytest.Config) -> None:
    """Load the conftests above each registry as initial ones.

    The registries join the args only at configure time, so a conftest above a registry outside the invocation
    directory would first be met during collection, where pytest refuses one that sets `pytest_plugins`.
    """
    namespace = early_config.known_args_namespace
    registries = getattr(namespace, "tinyai_registry", None)
    if registries:
        given = namespace.file_or_dir or [str(early_config.invocation_params.dir)]
        namespace.file_or_dir = [*given, *registries]


def pytest_configure(config: pytest.Config) -> None:
    for marker, description in MARKERS.items():
        config.addinivalue_line("markers", f"{marker}: pytest-tinyai: {description}")
    session = TinyaiSession.from_config(config)
    config.stash[session_key] = session
    if not session.registries:
        return
    if config.option.tinyai_update_ledger and not hasattr(config, "workerinput"):
        session.update_ledger()
    config.pluginmanager.register(ConformanceReport(session), "tinyai-report")
    _add_registries_to_args(config, session.registries)


def _add_registries_to_args(config: pytest.Config, registries: list[Path]) -> None:
    """Collect the registries: alone when no paths were given, beside the given paths otherwise."""
    if config.args_source != pytest.Config.ArgsSource.ARGS:
        config.args = [str(path) for path in registries]
        return
    given = [Path(arg.split("::")[0]).resolve() for arg in config.args]
    for registry in registries:
        if not any(registry == path or registry.is_relative_to(path) for path in given):
            config.args.append(str(registry))


@pytest.hookimpl(tryfirst=True)
def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    """A registry named by --tinyai-registry is collected even below a norecursedirs folder (build/, .x/, venv)."""
    session = config.stash.get(session_key, None)
    if session is None or not session.registries:
        return None
    path = collection_path.resolve()
    return False if any(registry.is_relative_to(path) for registry in session.registries) else None


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> RegistryFile | None:
    session = parent.config.stash[session_key]
    if file_path.resolve() in session.registries:
        return RegistryFile.from_parent(parent, path=file_path)
    return None
