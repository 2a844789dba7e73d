"""Fold evaluations shared within a run: each fold hashed once, each model scored once per fold."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from pytest_tinyai.dataset import content_hash
from pytest_tinyai.findings import NotChecked
from pytest_tinyai.fold_eval import FoldScore, evaluate_fold, session_runner
from pytest_tinyai.model import ModelUnderTest

T = TypeVar("T")


class EvaluationError(Exception):
    """The fold cannot be read, or the model cannot be scored on it; the message says which and why."""


@dataclass
class FoldEvaluations:
    hashes: dict[Path, str | EvaluationError] = field(default_factory=dict)
    scores: dict[tuple[Path, Path], FoldScore | EvaluationError] = field(default_factory=dict)

    def content_hash(self, fold_root: Path) -> str:
        """The fold's content hash (raises EvaluationError when it is not a readable fold)."""
        if fold_root not in self.hashes:
            try:
                self.hashes[fold_root] = content_hash(fold_root)
            except (OSError, ValueError) as error:  # DatasetLayoutError, unreadable or undecodable images
                why = _first_line(error)
                self.hashes[fold_root] = EvaluationError(f"fold '{fold_root.name}' cannot be read: {why}")
        return _value(self.hashes[fold_root])

    def score(self, model: ModelUnderTest, fold_root: Path) -> FoldScore:
        """The model's mean per-image IoU@0.5 on the fold, through onnxruntime, computed once per run.

        Raises NotChecked if the model is untrusted, EvaluationError if it cannot be run or scored on the fold.
        """
        key = (model.onnx_path, fold_root)
        if key not in self.scores:
            runner = session_runner(model.session())
            try:
                self.scores[key] = evaluate_fold(runner, fold_root)
            except NotChecked:
                raise
            except Exception as error:  # onnxruntime's own error types, a map/mask shape mismatch, a bad image
                why = f"{type(error).__name__}: {_first_line(error)}"
                self.scores[key] = EvaluationError(f"'{model.id}' cannot be scored on fold '{fold_root.name}': {why}")
        return _value(self.scores[key])


def _value(cached: T | EvaluationError) -> T:
    if isinstance(cached, EvaluationError):
        raise EvaluationError(str(cached))
    return cached


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__
