"""The names of what items record in `user_properties` (pytest's `record_property` channel): one home, so the
summary, JUnit XML and any report read the same keys, from workers and controller alike."""

from __future__ import annotations

CHECK = "tinyai_check"
MODEL = "tinyai_model"


def result(check: str) -> str:
    """The key of the measured record a check's item leaves (e.g. `tinyai_gate_result`)."""
    return f"tinyai_{check}_result"
