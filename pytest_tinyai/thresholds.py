"""The thresholds a sidecar's namespace declares, by name: upper bounds that the ledger ratchets (tighter means lower).

Today: the parity tolerance of a model with a PyTorch reference (its default when the sidecar names none), each
relative latency budget, and the golden tolerance of a model with golden sets (its default when the block names none).
The gate's floor is a lower bound and lives in the gate record instead.
"""

from __future__ import annotations

from typing import Any

DEFAULT_PARITY_TOLERANCE = 1e-5
PARITY_TOLERANCE = "parity tolerance"
GOLDEN_TOLERANCE = "golden tolerance"  # pytest_tinyai.golden uses the same name
DEFAULT_GOLDEN_TOLERANCE = 1e-5
THRESHOLD_BLOCKS = ("reference", "latency", "golden")  # the namespace blocks that declare or imply a threshold


def parity_tolerance(blocks: dict[str, Any]) -> float:
    """The parity tolerance of the sidecar's `tinyai` blocks."""
    return blocks.get("parity", {}).get("tolerance", DEFAULT_PARITY_TOLERANCE)


def golden_tolerance(blocks: dict[str, Any]) -> float:
    """The golden tolerance of the sidecar's `tinyai` blocks."""
    return blocks.get("golden", {}).get("tolerance", DEFAULT_GOLDEN_TOLERANCE)


def budget_key(budget: dict[str, Any]) -> str:
    height, width = budget["resolution"]
    return f"latency budget {height}x{width} vs {budget['relative_to']}"


def declared_thresholds(blocks: dict[str, Any]) -> dict[str, float]:
    """Name → value of every threshold the (schema-valid) sidecar's `tinyai` blocks declare or imply."""
    thresholds = {}
    if "reference" in blocks:
        thresholds[PARITY_TOLERANCE] = parity_tolerance(blocks)
    for budget in blocks.get("latency", {}).get("budgets", []):
        thresholds[budget_key(budget)] = budget["max_ratio"]
    if "golden" in blocks:
        thresholds[GOLDEN_TOLERANCE] = golden_tolerance(blocks)
    return thresholds
