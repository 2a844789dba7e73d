"""ModelUnderTest: one registry entry's trusted artefacts, loaded once per process and shared by all checks."""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import Any

import onnx
import onnxruntime as ort

from pytest_tinyai.findings import NotChecked
from pytest_tinyai.registry import Entry
from pytest_tinyai.trust import Limits, Trust, assess

OPT_LEVELS = {
    "all": ort.GraphOptimizationLevel.ORT_ENABLE_ALL,
    "disabled": ort.GraphOptimizationLevel.ORT_DISABLE_ALL,
}


class ModelUnderTest:
    """Lazily establishes trust, then hands out the parsed model, sidecar and ORT sessions (cached)."""

    def __init__(self, entry: Entry, limits: Limits, threads: int = 1) -> None:
        self.entry = entry
        self.limits = limits
        self.threads = threads
        self._sessions: dict[str, ort.InferenceSession] = {}

    @property
    def id(self) -> str:
        return self.entry.id

    @cached_property
    def trust(self) -> Trust:
        return assess(self.entry, self.limits)

    def require_trusted(self) -> None:
        problems = self.trust.problems
        if problems:
            more = f" (and {len(problems) - 1} more, see the registry check)" if len(problems) > 1 else ""
            raise NotChecked(self.id, f"registry trust failed: {problems[0]}{more}")

    @property
    def onnx_path(self) -> Path:
        self.require_trusted()
        assert self.trust.onnx_path is not None
        return self.trust.onnx_path

    @property
    def proto(self) -> onnx.ModelProto:
        self.require_trusted()
        assert self.trust.proto is not None
        return self.trust.proto

    @property
    def sidecar(self) -> dict[str, Any]:
        """The validated sidecar, or {} for a smoke model that has none."""
        self.require_trusted()
        return self.trust.sidecar or {}

    @property
    def contract(self) -> dict[str, Any] | None:
        return self.sidecar.get("contract")

    def session(self, opt_level: str = "all") -> ort.InferenceSession:
        """An ORT CPU session of the trusted model, pinned threads, built once per optimisation level per process."""
        if opt_level not in self._sessions:
            options = ort.SessionOptions()
            options.graph_optimization_level = OPT_LEVELS[opt_level]
            options.intra_op_num_threads = self.threads
            options.inter_op_num_threads = 1
            options.log_severity_level = 3
            try:
                # from the trusted, already parsed bytes: a file swapped after the sha256 check is never run
                self._sessions[opt_level] = ort.InferenceSession(
                    self.proto.SerializeToString(), options, providers=["CPUExecutionProvider"]
                )
            except Exception as error:  # ORT raises its own Fail/InvalidGraph/RuntimeException types
                raise NotChecked(self.id, f"onnxruntime cannot load the model: {error}") from error
        return self._sessions[opt_level]

    def timing_session(self, opt_level: str = "all") -> ort.InferenceSession:
        """An in-process ORT session to time (bench items, latency budgets): timings must not cross a process."""
        return self.session(opt_level)
