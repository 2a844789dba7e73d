"""CheckContext: the run-wide specs, options and shared services (ledger, fold evaluations, peer models)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from pytest_tinyai.gate.evaluation import FoldEvaluations
from pytest_tinyai.gate.ledger import Ledger
from pytest_tinyai.kinds import BUILTIN_KINDS, ModelKind
from pytest_tinyai.metrics import BUILTIN_METRICS, Metric
from pytest_tinyai.specs import Allowlist, ResizeContract, load_allowlist, load_resize_contract

if TYPE_CHECKING:
    from pytest_tinyai.model import ModelUnderTest


class FoldEscape(ValueError):
    """A fold named by a sidecar resolves outside the registry folder."""


def fold_root(folder: Path, data_dir: Path | None, fold_name: str) -> Path:
    """Where a fold lives: `data_dir` (the user's own), else `folder/folds` (registry data, which must not lead
    outside the registry folder: raises FoldEscape)."""
    if data_dir is not None:
        return data_dir / fold_name
    path = folder / "folds" / fold_name
    if path.exists() and not path.resolve().is_relative_to(folder.resolve()):
        raise FoldEscape(f"fold '{fold_name}' leads outside the registry folder, to {path.resolve()}")
    return path


@dataclass
class CheckContext:
    allowlist: Allowlist
    resize_contract: ResizeContract
    max_nesting_depth: int = 8
    max_loops: int = 16
    max_loop_trip_count: int = 1024
    fuzz_examples: int | None = None
    fuzz_pixel_budget: int | None = None
    data_dir: Path | None = None
    allow_missing_data: bool = False
    reference_roots: tuple[str, ...] = ()
    worst_samples: int = 0  # a gate's worst samples it pictures for the conformance report (0: no report asked)
    kinds: dict[str, ModelKind] = field(default_factory=lambda: {kind.name: kind for kind in BUILTIN_KINDS})
    metrics: dict[str, Metric] = field(default_factory=lambda: {metric.name: metric for metric in BUILTIN_METRICS})
    ledger: Ledger | None = None
    evaluations: FoldEvaluations = field(default_factory=FoldEvaluations)
    peers: Callable[[ModelUnderTest], dict[str, ModelUnderTest]] = field(default=lambda model: {})

    @classmethod
    def defaults(cls) -> CheckContext:
        return cls(allowlist=load_allowlist(), resize_contract=load_resize_contract())

    def fold_path(self, model: ModelUnderTest, fold_name: str) -> Path:
        """Where a named data fold lives: --tinyai-data-dir, else the registry folder's folds/.

        A fold in the registry folder is registry data: one that leads outside it (a `folds` link elsewhere)
        raises FoldEscape.
        """
        return fold_root(model.entry.folder, self.data_dir, fold_name)
