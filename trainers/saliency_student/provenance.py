"""Where a training run came from: code revision, library versions, command line, data, host and device."""

from __future__ import annotations

import platform
import subprocess
import sys
from pathlib import Path
from typing import Any

import onnx
import onnxruntime
import torch

CODE_PATHS = ("trainers", "pytest_tinyai")


def git_revision(repo: Path, code: tuple[str, ...] = CODE_PATHS) -> dict[str, Any]:
    """HEAD commit and whether the training code (``code`` paths) differs from it; None outside git.

    Only the code paths count: other people's work in progress elsewhere in the tree does not make a
    run irreproducible.
    """

    def git(*args: str) -> str | None:
        try:
            done = subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True, check=True)
        except (OSError, subprocess.CalledProcessError):
            return None
        return done.stdout.strip()

    status = git("status", "--porcelain", "--", *code)
    return {"commit": git("rev-parse", "HEAD"), "dirty": None if status is None else bool(status), "paths": list(code)}


def provenance(dataset_root: Path, dataset_sha256: str) -> dict[str, Any]:
    """The provenance block of a metrics JSON, taken before training so that the git state is the one of
    the code that trained (the caller adds the device)."""
    return {
        "git": git_revision(Path(__file__).resolve().parents[2]),
        "versions": {
            "python": platform.python_version(),
            "torch": torch.__version__,
            "onnx": onnx.__version__,
            "onnxruntime": onnxruntime.__version__,
        },
        "argv": list(sys.argv),
        "dataset": {"root": str(dataset_root), "content_sha256": dataset_sha256},
        "host": platform.node(),
        "platform": platform.platform(),
    }
