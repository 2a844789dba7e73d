"""ModelUnderTest: one registry entry's trusted artefacts, loaded once per process and shared by all checks.

It is also the one gate for execution: a model is run only in the ORT sandbox, and only while its registry trust
and its allowlist screening hold and no run of it has been killed. A model is one graph or two: its own ONNX and,
when its quant_mode makes the runtime load it instead, its int8 sibling; each graph runs only once its own screening
passed. Latency timing alone gets an in-process session, and only at shapes where the same model has already
completed a sandboxed run on the same seeded inputs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, NoReturn

import numpy as np
import onnx
import onnxruntime as ort

from pytest_tinyai.derived_contract import Derivation, derive_contract
from pytest_tinyai.findings import Finding, NotChecked, NotRunnable
from pytest_tinyai.graph import graph_io
from pytest_tinyai.options import DEFAULT_MEMORY_GIB, DEFAULT_TIMEOUT_S
from pytest_tinyai.ort_sandbox import (
    GIB,
    OrtError,
    OrtSandbox,
    OutOfMemory,
    SandboxedOrtSession,
    SandboxKilled,
    TensorInfo,
    session_options,
    shared_sandbox,
)
from pytest_tinyai.registry import Entry
from pytest_tinyai.sidecar import namespace
from pytest_tinyai.tensor_contract import Contract, declares_tensors
from pytest_tinyai.trust import Limits, Trust, assess


def _packaged_screen(model: ModelUnderTest) -> list[Finding]:
    """The allowlist check with the packaged allowlist (the checks import this module, so it is imported late)."""
    from pytest_tinyai.checks.allowlist import check_allowlist
    from pytest_tinyai.context import CheckContext

    return check_allowlist(model, CheckContext.defaults())


@dataclass(frozen=True)
class Execution:
    """How a run executes models: the screen that admits a model (the allowlist check), the sandbox, the time limit."""

    screen: Callable[[ModelUnderTest], list[Finding]] = _packaged_screen
    sandbox: OrtSandbox = field(default_factory=lambda: shared_sandbox(int(DEFAULT_MEMORY_GIB * GIB)))
    timeout: float = DEFAULT_TIMEOUT_S


@dataclass(frozen=True)
class ModelGraph:
    """One graph of a model under test: its own ONNX (`file` None), or the int8 sibling (`file` its name) that the
    runtime loads instead when the entry's quant_mode asks for it."""

    proto: onnx.ModelProto
    file: str | None = None

    def finding(self, model_id: str, check: str, message: str, scope: str | None = None) -> Finding:
        """A finding about this graph: one about the sibling names its file."""
        return Finding(model_id, check, message, scope, self.file)


class ModelUnderTest:
    """Lazily establishes trust, then hands out the parsed model, sidecar and gated ORT sessions (cached)."""

    def __init__(self, entry: Entry, limits: Limits, threads: int = 1, execution: Execution | None = None) -> None:
        self.entry = entry
        self.limits = limits
        self.threads = threads
        self.execution = execution or Execution()
        self.killed: str | None = None  # why a sandboxed run of this model was killed, once one was
        self._sessions: dict[tuple[str | None, str], GatedOrtSession] = {}
        self._serialised: dict[str | None, bytes] = {}
        self._derivations: dict[str | None, Derivation] = {}
        self._timing_sessions: dict[str, ort.InferenceSession] = {}
        self._probed: set[tuple[tuple[str, int], ...]] = set()  # dims whose seeded inputs ran in the sandbox

    @property
    def id(self) -> str:
        return self.entry.id

    @cached_property
    def trust(self) -> Trust:
        return assess(self.entry, self.limits)

    def require_trusted(self) -> None:
        if self.trust.problems:
            raise NotChecked(self.id, f"registry trust failed: {_first_of(self.trust.problems, 'registry')}")

    @cached_property
    def allowlist_findings(self) -> list[Finding]:
        """The allowlist verdict, computed once: the allowlist check reports it and the execution gate obeys it."""
        return self.execution.screen(self)

    @property
    def run_refusal(self) -> str | None:
        """Why this model's own graph must not be run (untrusted, off the allowlist, a run killed), or None."""
        return self.refusal()

    def refusal(self, file: str | None = None) -> str | None:
        """Why the graph `file` (None: the model's own ONNX; else its int8 sibling) must not be run, or None: its
        registry trust and its own allowlist screening must hold, and no run of the model may have been killed."""
        if self.trust.problems:
            return f"not run: registry trust failed: {_first_of(self.trust.problems, 'registry')}"
        messages = [finding.message for finding in self.allowlist_findings if finding.file == file]
        if messages:
            return f"not run: allowlist failed: {_first_of(messages, 'allowlist')}"
        return self.killed

    def require_runnable(self, file: str | None = None) -> None:
        refusal = self.refusal(file)
        if refusal is not None:
            _refuse(self.id, refusal)

    def halt(self, killed: SandboxKilled, file: str | None = None) -> NoReturn:
        """Record a killed run (of the graph `file`: None for the model's own ONNX) and refuse it: no graph of the
        model is run again in this process."""
        self.killed = str(killed) if file is None else f"{file}: {killed}"
        _refuse(self.id, self.killed)

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
    def graphs(self) -> list[ModelGraph]:
        """The graphs the runtime may load for this model: its own ONNX, then its int8 sibling when the entry's
        quant_mode makes the runtime load that instead. The static checks and the nominal run cover each."""
        graphs = [ModelGraph(self.proto)]
        if self.trust.int8_proto is not None:
            graphs.append(ModelGraph(self.trust.int8_proto, self.trust.int8_file))
        return graphs

    def _graph(self, file: str | None) -> ModelGraph:
        graph = next((graph for graph in self.graphs if graph.file == file), None)
        if graph is None:
            raise NotChecked(self.id, f"the model has no graph '{file}'")
        return graph

    @property
    def sidecar(self) -> dict[str, Any]:
        """The owner's whole sidecar document, validated, or {} for a smoke model that has none."""
        self.require_trusted()
        return self.trust.sidecar or {}

    @property
    def tinyai(self) -> dict[str, Any]:
        """pytest-tinyai's blocks: the sidecar's `tinyai` namespace, {} when it declares none."""
        return namespace(self.sidecar)

    @property
    def weights(self) -> dict[str, np.ndarray] | None:
        """The trained weights the sidecar declares (read, hashed and parsed once by the trust check), or None."""
        self.require_trusted()
        return self.trust.weights

    @cached_property
    def contract(self) -> Contract | None:
        """The namespace's tensor contract, parsed once (None when the sidecar declares none, or only the nominal
        values of the derived one)."""
        block = self.tinyai.get("contract")
        return None if block is None or not declares_tensors(block) else Contract.from_sidecar(block)

    def derivation(self, file: str | None = None) -> Derivation:
        """The contract derived from the graph `file` (None: the model's own ONNX; else its int8 sibling) and the
        owner's fields (names, shapes, kind: the sidecar's, else the registry entry's) and the nominal values
        `tinyai.contract` may declare alone, computed once per graph; what the contract check holds a model that
        declares no tensors to."""
        if file not in self._derivations:
            inputs, outputs = graph_io(self._graph(file).proto)
            owner = {"kind": self.entry.raw.get("kind"), **self.sidecar}
            nominal = (self.tinyai.get("contract") or {}).get("nominal")
            self._derivations[file] = derive_contract(list(inputs.values()), list(outputs.values()), owner, nominal)
        return self._derivations[file]

    def _model_bytes(self, file: str | None = None) -> bytes:
        """A trusted graph, serialised once from the parsed bytes (external data inlined): a file swapped after
        the sha256 check is never run."""
        if file not in self._serialised:
            self._serialised[file] = self._graph(file).proto.SerializeToString()
        return self._serialised[file]

    def ort_session(self, opt_level: str = "all", file: str | None = None) -> GatedOrtSession:
        """The ORT CPU session of the model's own graph (or of its int8 sibling `file`) in the sandbox, pinned
        threads, built once per graph and optimisation level.

        Raises NotRunnable when the graph may not run, NotChecked when onnxruntime cannot load it.
        """
        self.require_runnable(file)
        key = (file, opt_level)
        if key not in self._sessions:
            try:
                sandboxed = self.execution.sandbox.load(
                    self._model_bytes(file), opt_level, self.threads, self.execution.timeout
                )
            except OrtError as error:
                what = "the model" if file is None else f"'{file}'"
                raise NotChecked(self.id, f"onnxruntime cannot load {what}: {error}") from error
            except SandboxKilled as killed:
                self.halt(killed, file)
            self._sessions[key] = GatedOrtSession(self, sandboxed, file)
        return self._sessions[key]

    def run_seeded(self, dims: dict[str, int], opt_level: str = "all") -> list[np.ndarray]:
        """The contract's seeded inputs at `dims` (`make_inputs`), run in the sandbox; once a run completes, the
        shape may be timed in-process (`timing_session`) without running it in the sandbox again."""
        contract = self.contract
        if contract is None:
            raise NotRunnable(self.id, "no contract to build seeded inputs from")
        outputs = self.ort_session(opt_level).run(None, contract.make_inputs(dims))
        self._probed.add(_dims_key(dims))
        return outputs

    def timing_session(self, dims: dict[str, int], opt_level: str = "all") -> ort.InferenceSession:
        """An in-process ORT session for timing at `dims` (a sandbox round trip would distort latency).

        Handed out only to a model that may (still) run, once a sandboxed run of the seeded inputs at those very
        dims has completed (an earlier check's, such as fuzz's, else one made here), so a model that is
        pathological at a shape it is timed at is stopped in the sandbox first. A shape onnxruntime refuses is left
        to the timing item to report, unless the refusal is the sandbox's memory cap; a run past the time limit is
        killed.
        """
        self.require_runnable()
        key = _dims_key(dims)
        if key not in self._probed:
            if self.contract is None:
                raise NotRunnable(self.id, "not timed: no contract to run its shapes in the sandbox first")
            try:
                self.run_seeded(dims, opt_level)
            except OutOfMemory as error:
                raise NotRunnable(self.id, f"not timed: {error}") from None
            except OrtError:
                self._probed.add(key)
        if opt_level not in self._timing_sessions:
            options = session_options(opt_level, self.threads)
            # no memory pattern: planning one at each new shape made the first two runs at 1080x1920 cost 2-6 s
            # instead of about 1.4 s, and buys nothing once warm (steady medians within 1 %, paired, at 256x256
            # and 1080x1920 alike, for both students)
            options.enable_mem_pattern = False
            self._timing_sessions[opt_level] = ort.InferenceSession(
                self._model_bytes(), options, providers=["CPUExecutionProvider"]
            )
        return self._timing_sessions[opt_level]


class GatedOrtSession:
    """A graph's sandboxed session behind its gate: each run first checks the graph may (still) be run."""

    def __init__(self, model: ModelUnderTest, sandboxed: SandboxedOrtSession, file: str | None = None) -> None:
        self._model = model
        self._sandboxed = sandboxed
        self._file = file

    def get_inputs(self) -> list[TensorInfo]:
        return self._sandboxed.get_inputs()

    def get_outputs(self) -> list[TensorInfo]:
        return self._sandboxed.get_outputs()

    def run(self, output_names: list[str] | None, feeds: dict[str, np.ndarray]) -> list[np.ndarray]:
        self._model.require_runnable(self._file)
        try:
            outputs = self._sandboxed.run(output_names, feeds)
        except SandboxKilled as killed:
            self._model.halt(killed, self._file)
        return outputs


def _dims_key(dims: dict[str, int]) -> tuple[tuple[str, int], ...]:
    return tuple(sorted(dims.items()))


def _refuse(model_id: str, reason: str) -> NoReturn:
    """The one place a model is refused a run (hypothesis sees one origin for a kill and the refusals after it)."""
    raise NotRunnable(model_id, reason)


def _first_of(problems: list[str], check: str) -> str:
    more = f" (and {len(problems) - 1} more, see the {check} check)" if len(problems) > 1 else ""
    return f"{problems[0]}{more}"
