"""Slow: a small eval fold built from the real pinned Debian packages (downloads them if needed)."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from pytest_tinyai.dataset import content_hash, find_samples
from trainers.corpus.build import build_fold
from trainers.corpus.pins import load_pins
from trainers.corpus.pipeline import plan_folds, unpack_packages

PREFETCHED = Path("/tmp/debs")


@pytest.fixture(scope="module")
def plans(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """Fold plans from the pinned packages: /tmp/debs when it holds them all, else ``apt-get download``."""
    prefetched = all((PREFETCHED / pin.filename).is_file() for pin in load_pins())
    if not prefetched and shutil.which("apt-get") is None:
        pytest.skip("apt-get is not on PATH and /tmp/debs does not hold the pinned .debs")
    cache = tmp_path_factory.mktemp("corpus-cache")
    trees, packages = unpack_packages(PREFETCHED if prefetched else None, cache)
    return {plan.name: plan for plan in plan_folds(trees, packages, seed=0, sizes={"train": 20, "eval": 20})}


@pytest.mark.slow
def test_the_rule_selects_200_stamps_166_for_train_and_34_for_eval(plans: dict) -> None:
    assert (len(plans["train"].objects), len(plans["eval"].objects)) == (166, 34)
    assert (len(plans["train"].backgrounds), len(plans["eval"].backgrounds)) == (34, 12)


@pytest.mark.slow
def test_a_small_real_fold_builds_identically_twice(plans: dict, tmp_path: Path) -> None:
    first = build_fold(plans["eval"], tmp_path / "a", workers=2)
    second = build_fold(plans["eval"], tmp_path / "b", workers=1)
    assert first["content_sha256"] == second["content_sha256"] == content_hash(tmp_path / "a" / "eval")
    samples = find_samples(tmp_path / "a" / "eval")
    assert len(samples) == 20
    for sample in samples:
        assert set(np.unique(np.asarray(Image.open(sample.mask_path)))) == {0, 255}
    assert (tmp_path / "a" / "eval" / "meta.json").read_bytes() == (tmp_path / "b" / "eval" / "meta.json").read_bytes()
