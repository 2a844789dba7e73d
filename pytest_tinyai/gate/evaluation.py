"""Fold evaluations shared within a run: each fold hashed once, each model scored once per fold."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from pytest_tinyai.dataset import content_hash
from pytest_tinyai.fold_eval import FoldScore, evaluate_fold, session_runner
from pytest_tinyai.model import ModelUnderTest


@dataclass
class FoldEvaluations:
    hashes: dict[Path, str] = field(default_factory=dict)
    scores: dict[tuple[Path, Path], FoldScore] = field(default_factory=dict)

    def content_hash(self, fold_root: Path) -> str:
        if fold_root not in self.hashes:
            self.hashes[fold_root] = content_hash(fold_root)
        return self.hashes[fold_root]

    def score(self, model: ModelUnderTest, fold_root: Path) -> FoldScore:
        """The model's mean per-image IoU@0.5 on the fold, through onnxruntime (raises NotChecked if untrusted)."""
        key = (model.onnx_path, fold_root)
        if key not in self.scores:
            self.scores[key] = evaluate_fold(session_runner(model.session()), fold_root)
        return self.scores[key]
