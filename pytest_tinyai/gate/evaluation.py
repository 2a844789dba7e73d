"""Fold evaluations shared within a run: each fold hashed once per kind, each model scored once per fold and metric."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import numpy as np

from pytest_tinyai.findings import NotChecked, first_line
from pytest_tinyai.fold_eval import FoldScore, score_fold
from pytest_tinyai.kinds import ModelKind
from pytest_tinyai.metrics import Metric
from pytest_tinyai.model import ModelUnderTest
from pytest_tinyai.tensor_contract import Contract

T = TypeVar("T")


class EvaluationError(Exception):
    """The fold cannot be read, or the model cannot be scored on it; the message says which and why."""


@dataclass
class FoldEvaluations:
    hashes: dict[tuple[Path, str], str | EvaluationError] = field(default_factory=dict)
    scores: dict[tuple[Path, Path, str], FoldScore | EvaluationError] = field(default_factory=dict)

    def content_hash(self, fold_root: Path, kind: ModelKind) -> str:
        """The fold's content hash as the kind reads it (raises EvaluationError when it cannot be read)."""
        key = (fold_root, kind.name)
        if key not in self.hashes:
            try:
                self.hashes[key] = kind.content_hash(fold_root)
            except (OSError, ValueError) as error:  # DatasetLayoutError, unreadable or undecodable images
                why = first_line(error)
                self.hashes[key] = EvaluationError(f"fold '{fold_root.name}' cannot be read: {why}")
        return _value(self.hashes[key])

    def score(self, model: ModelUnderTest, fold_root: Path, kinds: dict[str, ModelKind], metric: Metric) -> FoldScore:
        """The model's `metric` on the fold, read through its contract's kind and run by onnxruntime, once per run.

        Raises NotChecked if the model is untrusted, EvaluationError if it cannot be run or scored on the fold.
        """
        key = (model.onnx_path, fold_root, metric.name)
        if key not in self.scores:
            try:
                contract, kind = _contract_and_kind(model, kinds)
                self.scores[key] = score_fold(runner(model), kind, metric, contract, fold_root)
            except NotChecked:
                raise
            except EvaluationError as error:
                self.scores[key] = error
            except Exception as error:  # onnxruntime's own error types, a map/mask shape mismatch, a bad image
                why = f"{type(error).__name__}: {first_line(error)}"
                self.scores[key] = EvaluationError(f"'{model.id}' cannot be scored on fold '{fold_root.name}': {why}")
        return _value(self.scores[key])


def runner(model: ModelUnderTest) -> Callable[[dict[str, np.ndarray]], dict[str, np.ndarray]]:
    """Feeds → outputs by name, through the model's sandboxed onnxruntime session."""
    ort_session = model.ort_session()
    names = [output.name for output in ort_session.get_outputs()]

    def run(feeds: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        return dict(zip(names, ort_session.run(None, feeds), strict=True))

    return run


def _contract_and_kind(model: ModelUnderTest, kinds: dict[str, ModelKind]) -> tuple[Contract, ModelKind]:
    contract = model.contract
    if contract is None:
        raise EvaluationError(f"'{model.id}' declares no contract: the fold cannot be fed to it")
    if contract.kind not in kinds:
        known = ", ".join(sorted(kinds))
        raise EvaluationError(f"'{model.id}' declares model kind '{contract.kind}', not a registered kind ({known})")
    return contract, kinds[contract.kind]


def _value(cached: T | EvaluationError) -> T:
    if isinstance(cached, EvaluationError):
        raise EvaluationError(str(cached))
    return cached
