"""What a conformance report says about the run itself: the registries (and the git commit each lies in), the
versions of what ran the models, and the machine.

The commit is read from the repository's files (`HEAD`, loose and packed refs, a worktree's `commondir`), never by
running git: a registry folder is untrusted data, and git run inside a repository obeys that repository's own
configuration (hooks, `core.fsmonitor`). Every file is read bounded (`bounded_read`); anything unexpected gives
no commit rather than an error.
"""

from __future__ import annotations

import os
import platform
import re
from importlib import metadata
from pathlib import Path
from typing import Any

from pytest_tinyai.bounded_read import Refused, read_regular

DISTRIBUTIONS = ("pytest-tinyai", "onnx", "onnxruntime", "torch", "numpy", "pytest", "pytest-xdist", "matplotlib")
MAX_GIT_FILE = 1024 * 1024  # HEAD, a loose ref, commondir; packed-refs below
MAX_PACKED_REFS = 32 * 1024 * 1024
MAX_FOLDERS_UP = 64
COMMIT = re.compile(r"[0-9a-f]{40}([0-9a-f]{24})?")
REF = re.compile(r"refs/[A-Za-z0-9._/-]{1,400}")


def versions() -> dict[str, str | None]:
    """The installed version of each distribution that runs or checks the models (None: not installed). Read from
    package metadata: nothing is imported."""
    found: dict[str, str | None] = {"python": platform.python_version()}
    for name in DISTRIBUTIONS:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = None
    return found


def machine() -> dict[str, Any]:
    """The machine the run timed models on: OS, architecture, CPU model and count, host name."""
    return {
        "platform": platform.platform(),
        "machine": platform.machine(),
        "cpu": _cpu_model() or platform.processor() or None,
        "cpus": os.cpu_count(),
        "hostname": platform.node() or None,
    }


def _cpu_model() -> str | None:
    try:
        text = read_regular(Path("/proc/cpuinfo"), MAX_GIT_FILE, "cpuinfo").decode("utf-8", "replace")
    except Refused:
        return None
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key.strip() in ("model name", "Hardware", "Processor") and value.strip():
            return value.strip()
    return None


def git_commit(path: Path) -> str | None:
    """The commit checked out in the git repository holding `path` (HEAD resolved through its ref), or None when
    `path` is in none or the repository cannot be read."""
    try:
        git_dir = _git_dir(path)
        if git_dir is None:
            return None
        head = _read_text(git_dir / "HEAD").strip()
        if COMMIT.fullmatch(head):
            return head
        ref = head.removeprefix("ref:").strip()
        if not head.startswith("ref:") or not REF.fullmatch(ref) or ".." in ref:
            return None
        return _resolve(ref, git_dir, _common_dir(git_dir))
    except (Refused, OSError, UnicodeDecodeError):
        return None


def _git_dir(path: Path) -> Path | None:
    """The `.git` folder of the repository holding `path` (a worktree's `.git` file followed to its folder)."""
    folder = path.absolute()
    for _ in range(MAX_FOLDERS_UP):
        candidate = folder / ".git"
        if candidate.is_dir():
            return candidate
        if candidate.is_file():
            line = _read_text(candidate).strip()
            if not line.startswith("gitdir:"):
                return None
            target = Path(line.removeprefix("gitdir:").strip())
            return target if target.is_absolute() else folder / target
        if folder.parent == folder:
            return None
        folder = folder.parent
    return None


def _common_dir(git_dir: Path) -> Path:
    """Where a worktree's refs live (its `commondir`), or the git folder itself."""
    pointer = git_dir / "commondir"
    if not pointer.exists():
        return git_dir
    target = Path(_read_text(pointer).strip())
    return target if target.is_absolute() else git_dir / target


def _resolve(ref: str, git_dir: Path, common_dir: Path) -> str | None:
    for folder in dict.fromkeys((git_dir, common_dir)):
        loose = folder / ref
        if loose.is_file():
            value = _read_text(loose).strip()
            return value if COMMIT.fullmatch(value) else None
    packed = common_dir / "packed-refs"
    if packed.is_file():
        for line in _read_text(packed, MAX_PACKED_REFS).splitlines():
            value, _, name = line.partition(" ")
            if name == ref and COMMIT.fullmatch(value):
                return value
    return None


def _read_text(path: Path, cap: int = MAX_GIT_FILE) -> str:
    return read_regular(path, cap, "git file").decode("utf-8")


def run_header(registries: list[Path], **run: Any) -> dict[str, Any]:
    """The report's header: each registry with its commit, versions, machine, and what the caller says of the run
    (times, workers, arguments)."""
    return {
        "registries": [{"path": str(path), "commit": git_commit(path.parent)} for path in registries],
        "versions": versions(),
        "machine": machine(),
        **run,
    }
