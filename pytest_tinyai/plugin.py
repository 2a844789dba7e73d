"""pytest entry point: options, ini keys and hookspecs. It imports nothing heavy (no onnx, onnxruntime, numpy,
Pillow, Hypothesis or torch): the conformance machinery is imported and registered only when a run names a
registry, so a pytest session that never does pays nothing for the plugin being installed."""

from __future__ import annotations

import pytest

from pytest_tinyai import hookspec, startup  # noqa: F401  (startup: the home folders as pytest began)
from pytest_tinyai.options import add_options


def pytest_addhooks(pluginmanager: pytest.PytestPluginManager) -> None:
    pluginmanager.add_hookspecs(hookspec)


def pytest_addoption(parser: pytest.Parser) -> None:
    add_options(parser)


def pytest_configure(config: pytest.Config) -> None:
    if config.option.tinyai_registry:
        from pytest_tinyai.conformance_plugin import ConformancePlugin

        config.pluginmanager.register(ConformancePlugin(config), ConformancePlugin.name)
