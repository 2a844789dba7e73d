"""Hostile registry files: a registry that cannot be read fails its own `registry[registry.json]` item, and a
second, healthy registry in the same run is checked as usual."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hostile_builders import HEALTHY, HostileRun, _snapshot, assert_contained
from plugin_builders import CORE_CHECKS, RegistryDir, run_in_process


def run_beside_a_healthy_registry(pytester: pytest.Pytester, hostile_path: Path, *args: str) -> HostileRun:
    healthy = RegistryDir(pytester.path / "healthy")
    healthy.add(HEALTHY)
    healthy_path = healthy.write()
    before = _snapshot(pytester.path)
    registries = ("--tinyai-registry", str(hostile_path), "--tinyai-registry", str(healthy_path))
    result = run_in_process(pytester, *registries, "-m", CORE_CHECKS, *args)
    return HostileRun(result, before, _snapshot(pytester.path), pytester.path)


def hostile_folder(pytester: pytest.Pytester) -> Path:
    folder = pytester.path / "hostile"
    folder.mkdir()
    return folder


def test_a_registry_that_is_a_link_to_dev_zero_is_refused_without_reading_it(pytester):
    path = hostile_folder(pytester) / "registry.json"
    os.symlink("/dev/zero", path)
    ledger = pytester.path / "ledger.json"
    run = run_beside_a_healthy_registry(pytester, path, "--tinyai-update-ledger", "--tinyai-ledger", str(ledger))
    assert_contained(run, "registry.json", "registry 'registry.json' is a character device, not a regular file")


def test_a_registry_nested_a_hundred_thousand_deep_fails_alone(pytester):
    path = hostile_folder(pytester) / "registry.json"
    path.write_text("[" * 100_000 + "]" * 100_000)
    assert_contained(run_beside_a_healthy_registry(pytester, path), "registry.json", "nests deeper than 64 levels")


def test_a_registry_over_the_size_cap_is_not_read(pytester):
    path = hostile_folder(pytester) / "registry.json"
    path.write_text('{"schema_version": 1, "models": [], "pad": "' + "x" * (9 * 1024 * 1024) + '"}')
    run = run_beside_a_healthy_registry(pytester, path)
    assert_contained(run, "registry.json", "over the cap of 8,388,608 bytes")


def test_a_duplicate_top_level_key_fails_the_registry_file(pytester):
    path = hostile_folder(pytester) / "registry.json"
    path.write_text('{"schema_version": 1, "models": [], "models": []}')
    run = run_beside_a_healthy_registry(pytester, path)
    assert_contained(run, "registry.json", "registry $: duplicate key 'models'")


def test_a_registry_that_is_a_fifo_is_never_opened(pytester):
    path = hostile_folder(pytester) / "registry.json"
    os.mkfifo(path)
    run = run_beside_a_healthy_registry(pytester, path)
    assert_contained(run, "registry.json", "registry 'registry.json' is a FIFO, not a regular file")
