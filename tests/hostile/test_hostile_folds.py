"""Hostile folds: the held-out fold a gate reads lies in the registry folder and is untrusted data like the rest.
A FIFO, a link to a device or outside the fold, or a decompression bomb fails the gate that reads it in one
line, and the healthy model's gate, on its own fold, still passes."""

from __future__ import annotations

import os

import numpy as np
import pytest
from dynamic_builders import Workspace, run_tinyai
from hostile_builders import HEALTHY, HostileRun, _snapshot, assert_contained
from PIL import Image

HOSTILE_FOLD = "hostile-fold"


@pytest.fixture
def workspace(pytester: pytest.Pytester) -> Workspace:
    """A healthy gated model on its own fold, and `bad` gated on `hostile-fold` (healthy until a test breaks it)."""
    workspace = Workspace(pytester.path)
    healthy_hash = workspace.write_fold("healthy-fold")
    workspace.add_gated(HEALTHY, "green", fold_hash=healthy_hash, floor=0.7, fold="healthy-fold")
    workspace.add_gated("bad", "green", fold_hash=workspace.write_fold(HOSTILE_FOLD), floor=0.7, fold=HOSTILE_FOLD)
    workspace.write_ledger()
    return workspace


def run_gates(pytester: pytest.Pytester) -> HostileRun:
    before = _snapshot(pytester.path)
    result = run_tinyai(pytester, "tinyai_gate")
    return HostileRun(result, before, _snapshot(pytester.path), pytester.path)


def test_a_fifo_in_the_fold_is_never_opened(pytester, workspace):
    image = workspace.fold(HOSTILE_FOLD) / "Image" / "s0.png"
    image.unlink()
    os.mkfifo(image)
    assert_contained(run_gates(pytester), "bad", "image 's0.png' is a FIFO, not a regular file")


def test_a_mask_linked_to_a_device_is_refused(pytester, workspace):
    mask = workspace.fold(HOSTILE_FOLD) / "Mask" / "s1.png"
    mask.unlink()
    mask.symlink_to("/dev/zero")
    assert_contained(run_gates(pytester), "bad", "leads outside the dataset folder")


def test_an_image_linked_outside_the_fold_is_refused(pytester, workspace):
    outside = pytester.path / "elsewhere.png"
    image = workspace.fold(HOSTILE_FOLD) / "Image" / "s2.png"
    image.rename(outside)
    image.symlink_to(outside)
    assert_contained(run_gates(pytester), "bad", "s2.png: leads outside the dataset folder")


def test_a_fold_linked_outside_the_registry_folder_is_refused(pytester, workspace, tmp_path_factory):
    elsewhere = tmp_path_factory.mktemp("elsewhere") / HOSTILE_FOLD
    workspace.fold(HOSTILE_FOLD).rename(elsewhere)
    workspace.fold(HOSTILE_FOLD).symlink_to(elsewhere)
    assert_contained(run_gates(pytester), "bad", f"fold '{HOSTILE_FOLD}' leads outside the registry folder")


def test_a_decompression_bomb_is_refused_before_it_is_decoded(pytester, workspace):
    image = workspace.fold(HOSTILE_FOLD) / "Image" / "s3.png"
    Image.fromarray(np.zeros((4500, 4500), np.uint8), "L").save(image)
    assert_contained(run_gates(pytester), "bad", "s3.png: 4500x4500 pixels, over the cap of 16,777,216")
