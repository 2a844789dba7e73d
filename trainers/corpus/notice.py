"""The NOTICE of a fold or of the source pack: where its images come from, under which licences, and by whom."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

CHANGES = (
    "Changes made to the sources: cropped, resized, mirrored, colour-adjusted (train fold only) and "
    "composited; masks derived from the cut-outs' alpha channel."
)
PACK_CHANGES = (
    "Changes made to the sources: cut-outs cropped to their alpha box and downscaled, backgrounds downscaled "
    "and re-encoded; trainers composite them on the fly (resized, mirrored, colour-adjusted, blurred)."
)
LICENCES = (
    "GPL-2+ works: GNU General Public License, version 2 or later. CC-BY-4.0, CC-BY-SA-3.0/4.0 and CC0-1.0:",
    "Creative Commons licences, https://creativecommons.org/licenses/. Full copyright statements: the file",
    "usr/share/doc/<package>/copyright of each package.",
)
LICENCE_IDS = ("GPL-2+", "CC-BY-4.0", "CC-BY-SA-3.0", "CC-BY-SA-4.0", "CC0-1.0")  # the ones LICENCES explains
# Licences of later sources, explained only where a fold or pack uses them (older NOTICEs stay as they were).
MORE_LICENCES = {
    "Apache-2.0 AND BSD-3-Clause": (
        "Apache-2.0 AND BSD-3-Clause works: both the Apache License 2.0 and the 3-clause BSD licence apply."
    ),
    "CC-BY-3.0": "CC-BY-3.0 works: Creative Commons Attribution 3.0 (same address).",
    "GPL-2": "GPL-2 works: GNU General Public License, version 2 only.",
    "GPL-3": "GPL-3 works: GNU General Public License, version 3 only.",
    "GPL-3+": "GPL-3+ works: GNU General Public License, version 3 or later.",
    "public-domain": "public-domain works: no copyright restrictions (the package's copyright file says why).",
}

# What a package's copyright file leaves in doubt, said where a fold or pack draws on that package.
PACKAGE_NOTES = {
    "qabcs-data": (
        "  qabcs-data: its copyright file puts every file not named otherwise under GPL-3+ (2019-2020 DanSoft),\n"
        "  but does not say where the pictures come from, and several look copied from the web; pictures of\n"
        "  brands, products and characters were left out, only photographs of animals, food and things kept."
    ),
    "gcompris-qt-data": (
        "  gcompris-qt-data: its copyright file puts the monument photographs under GPL-3+ (Files: *) and the sea\n"
        "  photographs under GPL-3; GCompris itself credits the monuments as photos taken from Wikipedia and names\n"
        "  photographer and licence (CC BY-SA 4.0) for three it shows (none used here), so each one's own licence\n"
        "  is likely a Commons one: that licence is the package's word, and they are used for training only."
    ),
    "opencv-doc": (
        "  opencv-doc: its copyright file has no stanza for the example photographs, so they carry the package's\n"
        "  licence (Files: *); it names no photographer."
    ),
    "stellarium-data": (
        "  stellarium-data: its copyright file puts every file under GPL-2+ (Files: *); the authors are those each\n"
        "  landscape's landscape.ini names. The panoramas' transparent sky is cut off: only the opaque ground is used."
    ),
}


def _sources_by_package(sources: list[dict[str, str]]) -> dict[str, list[dict[str, str]]]:
    grouped: dict[str, list[dict[str, str]]] = defaultdict(list)
    for source in sources:
        grouped[source["package"]].append(source)
    return dict(sorted(grouped.items()))


def _provenance(meta: dict[str, Any], changes: str) -> list[str]:
    """Licences, changes, packages, then every object and background of ``meta`` grouped by package."""
    used = {source["license"] for key in ("objects", "backgrounds") for source in meta[key]}
    more = [text for licence, text in sorted(MORE_LICENCES.items()) if licence in used]
    lines = [*LICENCES, *more, changes, "", "Packages (version, sha256 of the .deb):"]
    lines += [f"  {name} {pin['version']} {pin['sha256']}" for name, pin in sorted(meta["packages"].items())]
    lines += [note for name, note in sorted(PACKAGE_NOTES.items()) if name in meta["packages"]]
    for title, key in (("Objects (cut-outs)", "objects"), ("Backgrounds", "backgrounds")):
        lines += ["", f"{title}:"]
        for package, sources in _sources_by_package(meta[key]).items():
            lines.append(f"  from {package}:")
            lines += [f"    {s['path']} | {s['license']} | {s['author']}" for s in sources]
    return lines


def notice_text(meta: dict[str, Any]) -> str:
    """NOTICE text for a fold's meta.json content: packages, then every object and background used."""
    lines = [
        f"Saliency corpus, fold {meta['fold']!r}: {meta['count']} composite images "
        f"{meta['image_size']}x{meta['image_size']} (Image/*.jpg) with masks (Mask/*.png),",
        f"built by `tinyai-corpus build --seed {meta['seed']}` (trainers/corpus in pytest-tinyai).",
        "",
        "Each image is a derivative work of the photographs listed below, taken from Debian bookworm",
        "packages; it is distributed under the licences of its sources (meta.json names them per image).",
    ]
    return "\n".join([*lines, *_provenance(meta, CHANGES)]) + "\n"


def pack_notice(manifest: dict[str, Any]) -> str:
    """NOTICE text for a source pack's manifest: the files it holds (train and val splits) and their sources."""
    lines = [
        f"Saliency source pack: {len(manifest['objects'])} cut-outs (objects/*/*.png, RGBA) and "
        f"{len(manifest['backgrounds'])} backgrounds (backgrounds/*/*.jpg),",
        "built by `tinyai-corpus pack` (trainers/corpus in pytest-tinyai); manifest.json names the split,",
        "source, licence and author of every file. The eval split is listed in manifest.json, not stored.",
        "",
        "Each file is a derivative work of the photograph listed below, taken from Debian bookworm packages;",
        "it is distributed under the licence of its source.",
    ]
    return "\n".join([*lines, *_provenance(manifest, PACK_CHANGES)]) + "\n"
