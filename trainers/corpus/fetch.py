"""Get the pinned .debs: from a folder the user supplies, or with ``apt-get download``; verify sha256."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from pytest_tinyai.trust import sha256_of
from trainers.corpus.pins import Pin

SNAPSHOT_HINT = (
    "Download them on any machine from a Debian bookworm mirror (https://packages.debian.org/bookworm/<package>"
    " or https://snapshot.debian.org), keep the file names listed above, and pass the folder with --debs DIR."
)


class FetchError(RuntimeError):
    """A pinned .deb is missing, cannot be downloaded, or does not match its pinned digest."""


def _download(pins: list[Pin], folder: Path) -> None:
    """Run ``apt-get download`` for the given pins inside ``folder``."""
    names = "\n  ".join(pin.filename for pin in pins)
    if shutil.which("apt-get") is None:
        raise FetchError(
            f"apt-get is not on PATH (this host is not Debian-based), so these .debs cannot be fetched:\n"
            f"  {names}\n{SNAPSHOT_HINT}"
        )
    folder.mkdir(parents=True, exist_ok=True)
    result = subprocess.run(
        ["apt-get", "download", *(pin.spec for pin in pins)],
        cwd=folder,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise FetchError(
            f"apt-get download failed (are Debian bookworm sources configured?):\n{result.stderr.strip()}\n"
            f"Needed:\n  {names}\n{SNAPSHOT_HINT}"
        )


def fetch_debs(pins: list[Pin], folder: Path, download: bool) -> dict[str, Path]:
    """Return package name -> verified .deb in ``folder``, downloading missing ones when ``download``."""
    missing = [pin for pin in pins if not (folder / pin.filename).is_file()]
    if missing and not download:
        names = "\n  ".join(pin.filename for pin in missing)
        raise FetchError(f"{folder}: missing pinned .debs:\n  {names}\n{SNAPSHOT_HINT}")
    if missing:
        _download(missing, folder)
    debs = {}
    for pin in pins:
        path = folder / pin.filename
        actual = sha256_of(path)
        if actual != pin.sha256:
            raise FetchError(f"{path}: sha256 {actual} does not match the pinned {pin.sha256}")
        debs[pin.package] = path
    return debs
