"""The source pack on disk: pre-scaled files, a manifest that hashes them, reproducible builds, refused tampering."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from corpus_fixtures import photo_stamp
from PIL import Image
from source_pack_fixtures import PACKAGES, generated_sources, write_source_pack

from trainers.corpus.cli import main
from trainers.corpus.pack import build_pack, scaled_background, scaled_object
from trainers.corpus.pack_format import PackError, entries, pack_content_hash, read_manifest
from trainers.corpus.sources import Source


def _files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_building_twice_gives_byte_identical_packs(tmp_path: Path) -> None:
    first, second = write_source_pack(tmp_path / "a"), write_source_pack(tmp_path / "b")
    assert _files(first) == _files(second)


def test_the_manifest_hash_is_the_content_hash_of_the_stored_files(tmp_path: Path) -> None:
    pack = write_source_pack(tmp_path)
    manifest = read_manifest(pack)
    assert (
        manifest["content_sha256"] == pack_content_hash(pack, manifest) == (pack / "CONTENT_SHA256").read_text().strip()
    )


def test_only_train_and_val_are_stored_and_eval_is_listed(tmp_path: Path) -> None:
    manifest = read_manifest(write_source_pack(tmp_path))
    stored = {entry["split"] for kind in ("objects", "backgrounds") for entry in manifest[kind]}
    assert stored == {"train", "val"}
    assert len(manifest["eval"]["backgrounds"]) == manifest["counts"]["eval"]["backgrounds"] == 2
    assert all(entry["license"] and entry["author"] and entry["package"] for entry in manifest["objects"])
    with pytest.raises(PackError, match="not stored"):
        entries(manifest, "objects", "eval")


def test_a_changed_file_is_refused(tmp_path: Path) -> None:
    pack = write_source_pack(tmp_path)
    victim = pack / read_manifest(pack)["backgrounds"][0]["file"]
    victim.write_bytes(victim.read_bytes() + b"\0")
    with pytest.raises(PackError, match="sha256 differs"):
        read_manifest(pack)


def test_a_missing_file_is_refused(tmp_path: Path) -> None:
    pack = write_source_pack(tmp_path)
    (pack / read_manifest(pack)["objects"][0]["file"]).unlink()
    with pytest.raises(PackError, match="missing"):
        read_manifest(pack)


def test_notice_names_every_stored_source_with_licence_and_author(tmp_path: Path) -> None:
    pack = write_source_pack(tmp_path)
    notice = (pack / "NOTICE").read_text()
    for entry in read_manifest(pack)["objects"]:
        assert f"{entry['path']} | GPL-2+ | someone" in notice
    assert "stamps 1 " + "0" * 64 in notice


def test_notice_explains_gpl3_and_what_qabcs_leaves_in_doubt_when_the_pack_draws_on_it(tmp_path: Path) -> None:
    objects, backgrounds = generated_sources(tmp_path / "sources")
    bear = Source("qabcs-data", "pics/bear.png", "GPL-3+", "DanSoft", "train", photo_stamp(tmp_path / "bear.png"))
    packages = {**PACKAGES, "qabcs-data": {"version": "3", "sha256": "2" * 64}}
    build_pack([*objects, bear], backgrounds, packages, tmp_path / "pack")
    notice = (tmp_path / "pack" / "NOTICE").read_text()
    assert "GPL-3+ works: GNU General Public License, version 3 or later." in notice
    assert "pics/bear.png | GPL-3+ | DanSoft" in notice
    assert "qabcs-data: its copyright file puts every file not named otherwise under GPL-3+" in notice
    assert "GPL-3+" not in (write_source_pack(tmp_path / "plain") / "NOTICE").read_text()


def test_cut_outs_are_cropped_to_alpha_and_capped_at_the_long_side(tmp_path: Path) -> None:
    objects, backgrounds = generated_sources(tmp_path)
    cutout = scaled_object(objects[0].file, long_side=20)
    assert max(cutout.size) == 20 and cutout.mode == "RGBA"
    left, top, right, bottom = Image.open(objects[0].file).getchannel("A").getbbox()
    assert scaled_object(objects[0].file).size == (right - left, bottom - top)
    assert min(scaled_background(backgrounds[0].file, short_side=32).size) == 32


def test_a_background_with_a_transparent_sky_is_stored_as_its_opaque_ground(tmp_path: Path) -> None:
    rgba = np.zeros((60, 200, 4), dtype=np.uint8)
    rgba[25:, :] = (90, 140, 60, 255)
    Image.fromarray(rgba, "RGBA").save(tmp_path / "strip.png")
    ground = scaled_background(tmp_path / "strip.png", short_side=768)
    assert (ground.mode, ground.size) == ("RGB", (200, 35))


def test_hash_prints_a_packs_content_hash(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pack = write_source_pack(tmp_path)
    assert main(["hash", str(pack)]) == 0
    assert capsys.readouterr().out.strip() == json.loads((pack / "manifest.json").read_text())["content_sha256"]


def test_a_folder_that_is_not_a_pack_is_not_replaced(tmp_path: Path) -> None:
    (tmp_path / "pack").mkdir()
    (tmp_path / "pack" / "precious.txt").write_text("keep")
    with pytest.raises(FileExistsError, match="not a source pack"):
        write_source_pack(tmp_path)
    assert (tmp_path / "pack" / "precious.txt").exists()


def test_the_packages_are_recorded(tmp_path: Path) -> None:
    assert read_manifest(write_source_pack(tmp_path))["packages"] == PACKAGES
