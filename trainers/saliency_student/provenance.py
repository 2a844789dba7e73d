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


def git_revision(repo: Path) -> dict[str, Any]:
    """HEAD commit and whether the working tree has uncommitted changes (None outside a git checkout)."""

    def git(*args: str) -> str | None:
        try:
            done = subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True, check=True)
        except (OSError, subprocess.CalledProcessError):
            return None
        return done.stdout.strip()

    status = git("status", "--porcelain")
    return {"commit": git("rev-parse", "HEAD"), "dirty": None if status is None else bool(status)}


def provenance(dataset_root: Path, dataset_sha256: str, device: str) -> dict[str, Any]:
    """The provenance block of a metrics JSON."""
    return {
        "git": git_revision(Path(__file__).resolve().parent),
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
        "device": device,
        "torch_threads": torch.get_num_threads(),
    }
