"""The pinned Debian packages: names, versions and .deb sha256 digests (data/debs.sha256)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote

DATA_DIR = Path(__file__).parent / "data"
PINS_FILE = DATA_DIR / "debs.sha256"


@dataclass(frozen=True)
class Pin:
    """One pinned .deb, named as ``apt-get download`` saves it (``name_version_arch.deb``, ':' as %3a)."""

    filename: str
    sha256: str

    @property
    def package(self) -> str:
        return self.filename.split("_")[0]

    @property
    def version(self) -> str:
        return unquote(self.filename.split("_")[1])

    @property
    def spec(self) -> str:
        """The ``apt-get download`` argument: ``package=version``."""
        return f"{self.package}={self.version}"


def load_pins(path: Path = PINS_FILE) -> list[Pin]:
    """Read ``sha256  filename`` lines (sha256sum format)."""
    pins = []
    for line in path.read_text().splitlines():
        if line.strip():
            digest, filename = line.split()
            pins.append(Pin(filename=filename, sha256=digest))
    return pins
