"""Registry trust on names the OS cannot resolve and files that are not regular: always `Untrusted`, never another
exception, never a blocking open; and a hostile peer cannot break a healthy model's gate."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from plugin_builders import RegistryDir, saliency_sidecar
from saliency_sidecar import placed

from pytest_tinyai.checks.gate import check_gate
from pytest_tinyai.context import CheckContext
from pytest_tinyai.findings import NotChecked
from pytest_tinyai.model import ModelUnderTest
from pytest_tinyai.registry import load_registry
from pytest_tinyai.trust import Limits, Untrusted, confined, present, read_capped


def loop(path: Path) -> Path:
    path.symlink_to(path.name)
    return path


def fifo(path: Path) -> Path:
    os.mkfifo(path)
    return path


# --- confined ----------------------------------------------------------------------------------------------------


def refusal(folder: Path, relative: str) -> str:
    """Why `confined` refuses the ONNX path `relative` (it must refuse it)."""
    with pytest.raises(Untrusted) as refused:
        confined(folder, relative, "ONNX")
    return str(refused.value)


def test_confined_refuses_a_symlink_loop(tmp_path):
    assert refusal(tmp_path, loop(tmp_path / "m.onnx").name) == "ONNX path 'm.onnx' cannot be resolved: symlink loop"


def test_confined_refuses_a_nul_byte_and_prints_it_escaped(tmp_path):
    assert refusal(tmp_path, "m\x00.onnx") == "ONNX path 'm\\x00.onnx' cannot be resolved: embedded null byte"


def test_confined_refuses_an_over_long_name(tmp_path):
    assert refusal(tmp_path, "m" * 300 + ".onnx").endswith("cannot be resolved: File name too long")


def test_confined_names_a_fifo_as_what_it_is(tmp_path):
    assert refusal(tmp_path, fifo(tmp_path / "m.onnx").name) == "ONNX 'm.onnx' is a FIFO, not a regular file"


def test_confined_still_says_a_missing_file_does_not_exist(tmp_path):
    assert refusal(tmp_path, "m.onnx") == "ONNX 'm.onnx' does not exist"


# --- read_capped --------------------------------------------------------------------------------------------------


def test_read_capped_refuses_a_fifo_without_blocking(tmp_path):
    with pytest.raises(Untrusted, match="is a FIFO, not a regular file"):
        read_capped(fifo(tmp_path / "m.onnx"), 1024, "ONNX")


def test_read_capped_stops_at_the_cap_when_the_size_on_record_understates_the_content():
    # /proc files are regular files that report size 0 and yield more
    with pytest.raises(Untrusted, match="grew past the cap of 16 bytes"):
        read_capped(Path("/proc/self/status"), 16, "ONNX")


def test_read_capped_returns_the_bytes_of_a_file_within_the_cap(tmp_path):
    (tmp_path / "m.onnx").write_bytes(b"abc")
    assert read_capped(tmp_path / "m.onnx", 3, "ONNX") == b"abc"


# --- present ------------------------------------------------------------------------------------------------------


def test_present_counts_a_symlink_loop_as_present(tmp_path):
    assert present(tmp_path, loop(tmp_path / "m.json").name)


def test_present_counts_a_name_the_os_refuses_as_present(tmp_path):
    assert present(tmp_path, "m\x00.json")


def test_present_counts_a_missing_file_as_absent(tmp_path):
    assert not present(tmp_path, "m.json")


# --- a hostile peer of a healthy model ----------------------------------------------------------------------------

HOSTILE_ONNX = {
    "a symlink loop": lambda folder: loop(folder / "bad.onnx").name,
    "a NUL byte": lambda folder: "bad\x00.onnx",
    "a FIFO": lambda folder: fifo(folder / "bad.onnx").name,
}


def registry_with_hostile_peer(folder: Path, kind: str) -> RegistryDir:
    """`good`, production in role 'saliency' with a gate, beside `bad`, also production, whose ONNX path is `kind`."""
    registry = RegistryDir(folder)
    gate = {
        "fold": {"name": "absent", "content_sha256": "0" * 64},
        "metric": "mean_iou@0.5",
        "claimed": 0.5,
        "floor": 0.5,
    }
    registry.add("good", sidecar=placed(saliency_sidecar("good"), status="production", role="saliency", gate=gate))
    registry.add("bad", sidecar=placed(saliency_sidecar("bad"), status="production", role="saliency"))
    (folder / "bad.onnx").unlink()
    registry.entries[-1]["onnx"] = HOSTILE_ONNX[kind](folder)
    return registry


@pytest.mark.parametrize("kind", sorted(HOSTILE_ONNX))
def test_a_hostile_peer_only_ever_raises_not_checked(tmp_path, kind):
    registry = registry_with_hostile_peer(tmp_path, kind)
    bad = load_registry(registry.write()).entries[1]
    with pytest.raises(NotChecked):
        _ = ModelUnderTest(bad, Limits()).sidecar


@pytest.mark.parametrize("kind", sorted(HOSTILE_ONNX))
def test_a_healthy_models_gate_scans_a_hostile_peer_without_raising(tmp_path, kind):
    registry = registry_with_hostile_peer(tmp_path, kind)
    good, bad = (ModelUnderTest(entry, Limits()) for entry in load_registry(registry.write()).entries)
    context = CheckContext.defaults()
    context.peers = lambda model: {"good": good, "bad": bad}
    messages = [finding.message for finding in check_gate(good, context)]
    assert len(messages) == 1 and messages[0].startswith("fold 'absent' is missing"), messages
