"""The NOTICE of a fold: where its images come from, under which licences, and by whom."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

CHANGES = (
    "Changes made to the sources: cropped, resized, mirrored, colour-adjusted (train fold only) and "
    "composited; masks derived from the cut-outs' alpha channel."
)


def _sources_by_package(sources: list[dict[str, str]]) -> dict[str, list[dict[str, str]]]:
    grouped: dict[str, list[dict[str, str]]] = defaultdict(list)
    for source in sources:
        grouped[source["package"]].append(source)
    return dict(sorted(grouped.items()))


def notice_text(meta: dict[str, Any]) -> str:
    """NOTICE text for a fold's meta.json content: packages, then every object and background used."""
    lines = [
        f"Saliency corpus, fold {meta['fold']!r}: {meta['count']} composite images "
        f"{meta['image_size']}x{meta['image_size']} (Image/*.jpg) with masks (Mask/*.png),",
        f"built by `tinyai-corpus build --seed {meta['seed']}` (trainers/corpus in pytest-tinyai).",
        "",
        "Each image is a derivative work of the photographs listed below, taken from Debian bookworm",
        "packages; it is distributed under the licences of its sources (meta.json names them per image).",
        "GPL-2+ works: GNU General Public License, version 2 or later. CC-BY-4.0, CC-BY-SA-3.0/4.0 and CC0-1.0:",
        "Creative Commons licences, https://creativecommons.org/licenses/. Full copyright statements: the file",
        "usr/share/doc/<package>/copyright of each package.",
        CHANGES,
        "",
        "Packages (version, sha256 of the .deb):",
    ]
    lines += [f"  {name} {pin['version']} {pin['sha256']}" for name, pin in sorted(meta["packages"].items())]
    for title, key in (("Objects (cut-outs)", "objects"), ("Backgrounds", "backgrounds")):
        lines += ["", f"{title}:"]
        for package, sources in _sources_by_package(meta[key]).items():
            lines.append(f"  from {package}:")
            lines += [f"    {s['path']} | {s['license']} | {s['author']}" for s in sources]
    return "\n".join(lines) + "\n"
