"""pytest entry point: options, markers and the hooks that wire registries into collection and reporting."""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_tinyai.checks import CATALOGUE
from pytest_tinyai.collection import RegistryFile
from pytest_tinyai.report import ConformanceReport
from pytest_tinyai.session import TinyaiSession, session_key


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("tinyai", "tiny ONNX model conformance (pytest-tinyai)")
    group.addoption(
        "--tinyai-registry",
        action="append",
        metavar="FILE",
        help="registry.json whose models are checked (repeatable)",
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
        help="size cap for each .onnx and its external data (default 50)",
    )
    group.addoption(
        "--tinyai-threads",
        type=int,
        default=1,
        metavar="N",
        help="onnxruntime intra-op threads for every session (default 1, pinned for reproducibility)",
    )


def pytest_configure(config: pytest.Config) -> None:
    for check in CATALOGUE:
        config.addinivalue_line("markers", f"{check.marker}: pytest-tinyai {check.name} check: {check.description}")
    session = TinyaiSession.from_config(config)
    config.stash[session_key] = session
    if session.registries:
        config.pluginmanager.register(ConformanceReport(session), "tinyai-report")
    _add_registries_to_args(config, session.registries)


def _add_registries_to_args(config: pytest.Config, registries: list[Path]) -> None:
    """Collect the registries: alone when no paths were given, beside the given paths otherwise."""
    if not registries:
        return
    if config.args_source != pytest.Config.ArgsSource.ARGS:
        config.args = [str(path) for path in registries]
        return
    given = [Path(arg.split("::")[0]).resolve() for arg in config.args]
    for registry in registries:
        if not any(registry == path or registry.is_relative_to(path) for path in given):
            config.args.append(str(registry))


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> RegistryFile | None:
    session = parent.config.stash[session_key]
    if file_path.resolve() in session.registries:
        return RegistryFile.from_parent(parent, path=file_path)
    return None
