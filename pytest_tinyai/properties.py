"""The names of what items record in `user_properties` (pytest's `record_property` channel): one home, so the
summary, JUnit XML and any report read the same keys, from workers and controller alike."""

from __future__ import annotations

CHECK = "tinyai_check"
MODEL = "tinyai_model"

# Measured values, one number each, recorded record_property-style so that --junitxml carries them.
IOU = "iou"
BASELINE_IOU = "baseline_iou"
SCORE = "score"  # a gate's value under a metric other than IoU
BASELINE_SCORE = "baseline_score"
MARGIN = "margin"
MAX_ABS_DIFF = "max_abs_diff"
MEDIAN_MS = "median_ms"
RATIO = "ratio"
MEASURED = (IOU, BASELINE_IOU, SCORE, BASELINE_SCORE, MARGIN, MAX_ABS_DIFF, MEDIAN_MS, RATIO)


def result(check: str) -> str:
    """The key of the measured record a check's item leaves (e.g. `tinyai_gate_result`)."""
    return f"tinyai_{check}_result"


def attachment(check: str) -> str:
    """The key of what a check leaves for the conformance report alone (e.g. `tinyai_gate_attachment`): carried by
    the item's call report, dropped before its teardown report, so JUnit XML never holds it."""
    return f"tinyai_{check}_attachment"
