"""The tinyai-corpus command line: hash, argument checks and errors without a traceback."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from source_pack_fixtures import write_source_pack

from pytest_tinyai.dataset import content_hash
from trainers.corpus.cli import main


def test_hash_prints_the_content_hash(dataset: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["hash", str(dataset)]) == 0
    assert capsys.readouterr().out.strip() == content_hash(dataset)


def test_hash_of_a_folder_that_is_no_dataset_fails_with_a_message(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["hash", str(tmp_path)]) == 1
    assert "no image folder found" in capsys.readouterr().err


def test_build_from_a_folder_without_the_debs_fails_with_a_message(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "debs").mkdir()
    argv = ["build", "--out", str(tmp_path / "out"), "--debs", str(tmp_path / "debs"), "--cache", str(tmp_path)]
    assert main(argv) == 1
    assert "missing pinned .debs" in capsys.readouterr().err


def test_unknown_folds_are_rejected(tmp_path: Path) -> None:
    with pytest.raises(SystemExit):
        main(["build", "--out", str(tmp_path), "--folds", "train,test"])


def test_keep_existing_skips_a_completed_fold_without_touching_the_packages(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "out" / "train").mkdir(parents=True)
    (tmp_path / "out" / "train" / "meta.json").write_text("{}")
    (tmp_path / "debs").mkdir()  # empty: a build would fail for want of the .debs
    argv = ["build", "--out", str(tmp_path / "out"), "--debs", str(tmp_path / "debs"), "--cache", str(tmp_path)]
    assert main([*argv, "--folds", "train", "--keep-existing"]) == 0
    assert "already built, kept" in capsys.readouterr().out


def _pack_argv(tmp_path: Path, pack: Path) -> list[str]:
    (tmp_path / "debs").mkdir()  # empty: a build would fail for want of the .debs
    return ["pack", "--out", str(pack), "--debs", str(tmp_path / "debs"), "--cache", str(tmp_path), "--keep-existing"]


def test_keep_existing_keeps_a_pack_of_the_current_curation_without_touching_the_packages(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pack = write_source_pack(tmp_path / "built")
    assert main(_pack_argv(tmp_path, pack)) == 0
    assert "already built, kept" in capsys.readouterr().out


def test_keep_existing_rebuilds_a_pack_built_from_another_curation(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pack = write_source_pack(tmp_path / "built")
    manifest = json.loads((pack / "manifest.json").read_text())
    (pack / "manifest.json").write_text(json.dumps({**manifest, "curation_sha256": "0" * 64}))
    assert main(_pack_argv(tmp_path, pack)) == 1  # it tried to rebuild: the .debs are missing
    captured = capsys.readouterr()
    assert "built from another curation" in captured.out
    assert "missing pinned .debs" in captured.err
