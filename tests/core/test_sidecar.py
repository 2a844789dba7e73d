"""The sidecar's namespace rules as pure functions: the owner's documents pass, our blocks belong under `tinyai`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pytest_tinyai.sidecar import BLOCKS, NAMESPACE, namespace, sidecar_problems

ROOT = Path(__file__).resolve().parents[2]
UPSTREAM = ROOT / "tests/data/upstream-vmaf-tiny"
SHIPPED = ROOT / "model/tiny/saliency_student_v2.json"  # declares every block but `weights` and `parity`
UPSTREAM_SIDECARS = sorted(path for path in UPSTREAM.glob("*.json") if not path.name.startswith("registry"))


@pytest.mark.parametrize("path", UPSTREAM_SIDECARS, ids=lambda path: path.name)
def test_every_vendored_upstream_sidecar_passes_the_sidecar_schema(path):
    assert sidecar_problems(json.loads(path.read_text())) == []


def test_the_vendored_upstream_registry_has_sidecars_to_check():
    assert len(UPSTREAM_SIDECARS) >= 20


@pytest.mark.parametrize("block", sorted(namespace(json.loads(SHIPPED.read_text()))))
def test_each_shipped_block_moved_to_the_top_level_is_pointed_to_the_namespace(block):
    sidecar = json.loads(SHIPPED.read_text())
    sidecar[block] = sidecar[NAMESPACE].pop(block)
    assert sidecar_problems(sidecar) == [
        f"declares '{block}' at the top level: pytest-tinyai's blocks belong under 'tinyai'"
    ]


def test_the_shipped_sidecars_declare_every_block_under_the_namespace():
    for path in sorted((ROOT / "model/tiny").glob("*.json")):
        if path.name == "registry.json" or path.name.endswith(".metrics.json"):
            continue
        sidecar = json.loads(path.read_text())
        assert sidecar_problems(sidecar) == [], path.name
        assert not set(sidecar) & set(BLOCKS), path.name


def test_a_sidecar_without_the_namespace_declares_no_blocks():
    assert namespace({"input_name": "x", "gate": {"verdict": "PROMOTE"}}) == {}


def test_a_top_level_status_outside_our_vocabulary_is_the_owners():
    assert sidecar_problems({"status": "released"}) == []
