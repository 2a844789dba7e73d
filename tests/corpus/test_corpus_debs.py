"""Pinned .debs: reading the pins, verifying digests, explaining what to do without apt, unpacking."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from corpus_fixtures import make_deb, make_rcc

from trainers.corpus import fetch
from trainers.corpus.extract import COMPLETE_MARKER, ExtractError, extract_deb, unpacked_tree
from trainers.corpus.fetch import FetchError, fetch_debs
from trainers.corpus.pins import Pin, load_pins


def _pinned(path: Path) -> Pin:
    return Pin(filename=path.name, sha256=hashlib.sha256(path.read_bytes()).hexdigest())


def test_pins_name_sixteen_packages_with_debian_versions() -> None:
    pins = {pin.package: pin for pin in load_pins()}
    assert len(pins) == 16
    assert pins["tuxpaint-data"].version == "1:0.9.28-sdl2-1"
    assert pins["tuxpaint-stamps-default"].spec == "tuxpaint-stamps-default=2022.06.04-1"
    assert pins["foobillardplus-data"].spec == "foobillardplus-data=3.43~svn170+dfsg-7"
    assert pins["qabcs-data"].spec == "qabcs-data=1.0.2-6"
    assert pins["stellarium-data"].spec == "stellarium-data=0.22.2-1"
    assert all(len(pin.sha256) == 64 for pin in pins.values())


def test_matching_debs_are_returned_by_package(tmp_path: Path) -> None:
    deb = make_deb(tmp_path / "pkg_1.0-1_all.deb", {"./usr/share/a.png": b"x"})
    assert fetch_debs([_pinned(deb)], tmp_path, download=False) == {"pkg": deb}


def test_a_deb_with_another_digest_is_refused(tmp_path: Path) -> None:
    deb = make_deb(tmp_path / "pkg_1.0-1_all.deb", {"./usr/share/a.png": b"x"})
    with pytest.raises(FetchError, match="does not match the pinned"):
        fetch_debs([Pin(deb.name, "0" * 64)], tmp_path, download=False)


def test_missing_debs_in_a_given_folder_are_listed_with_a_hint(tmp_path: Path) -> None:
    with pytest.raises(FetchError, match=r"missing pinned .debs:\n  pkg_1.0-1_all.deb\n.*--debs DIR"):
        fetch_debs([Pin("pkg_1.0-1_all.deb", "0" * 64)], tmp_path, download=False)


def test_without_apt_get_the_error_explains_how_to_supply_debs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fetch.shutil, "which", lambda name: None)
    with pytest.raises(FetchError, match=r"apt-get is not on PATH \(this host is not Debian-based\)(.|\n)*--debs DIR"):
        fetch_debs([Pin("pkg_1.0-1_all.deb", "0" * 64)], tmp_path, download=True)


def test_extraction_writes_only_wanted_regular_files(tmp_path: Path) -> None:
    deb = make_deb(
        tmp_path / "pkg_1_all.deb",
        {"./usr/share/a.png": b"png", "./usr/share/b.ogg": b"ogg", "../escape.png": b"bad"},
        links={"./usr/share/link.png": "a.png"},
    )
    written = extract_deb(deb, tmp_path / "tree", lambda path: path.endswith(".png"))
    assert written == 1
    assert (tmp_path / "tree" / "usr" / "share" / "a.png").read_bytes() == b"png"
    assert sorted(p.name for p in (tmp_path / "tree").rglob("*") if p.is_file()) == ["a.png"]
    assert not (tmp_path / "escape.png").exists()


def test_a_file_that_is_not_a_deb_is_reported(tmp_path: Path) -> None:
    (tmp_path / "x.deb").write_bytes(b"not an archive")
    with pytest.raises(ExtractError, match=r"not a \.deb"):
        extract_deb(tmp_path / "x.deb", tmp_path / "tree", lambda path: True)


def test_unpacked_tree_keeps_images_and_copyright_and_is_reused(tmp_path: Path) -> None:
    deb = make_deb(
        tmp_path / "pkg_1_all.deb",
        {"./usr/share/p/a.jpg": b"jpg", "./usr/share/doc/pkg/copyright": b"GPL", "./usr/bin/tool": b"elf"},
    )
    root = unpacked_tree(deb, "ab" * 32, tmp_path / "cache")
    assert (root / COMPLETE_MARKER).is_file()
    assert (root / "usr/share/p/a.jpg").is_file() and (root / "usr/share/doc/pkg/copyright").is_file()
    assert not (root / "usr/bin/tool").exists()
    deb.unlink()
    assert unpacked_tree(deb, "ab" * 32, tmp_path / "cache") == root


def test_images_inside_a_qt_resource_are_written_beside_it_under_a_bang_folder(tmp_path: Path) -> None:
    resource = make_rcc({"game/pics/sea.webp": b"webp", "game/main.qml": b"qml"})
    deb = make_deb(tmp_path / "pkg_1_all.deb", {"./usr/share/pkg/rcc/game.rcc": resource})
    root = unpacked_tree(deb, "ab" * 32, tmp_path / "cache")
    assert (root / "usr/share/pkg/rcc/game.rcc!/game/pics/sea.webp").read_bytes() == b"webp"
    assert not (root / "usr/share/pkg/rcc/game.rcc!/game/main.qml").exists()


def test_an_unreadable_qt_resource_names_itself(tmp_path: Path) -> None:
    deb = make_deb(tmp_path / "pkg_1_all.deb", {"./usr/share/pkg/broken.rcc": b"qres" + b"\0" * 3})
    with pytest.raises(ExtractError, match=r"usr/share/pkg/broken\.rcc: not a Qt binary resource"):
        unpacked_tree(deb, "ab" * 32, tmp_path / "cache")


def test_a_cache_unpacked_by_an_older_rule_is_unpacked_again(tmp_path: Path) -> None:
    deb = make_deb(tmp_path / "pkg_1_all.deb", {"./usr/share/p/a.webp": b"webp"})
    stale = tmp_path / "cache" / f"pkg-{'ab' * 8}"
    stale.mkdir(parents=True)
    (stale / COMPLETE_MARKER).write_text("ab" * 32 + "\n")  # the marker before webp and Qt resources were read
    assert (unpacked_tree(deb, "ab" * 32, tmp_path / "cache") / "usr/share/p/a.webp").read_bytes() == b"webp"
