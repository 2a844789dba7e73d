"""The ORT sandbox: onnxruntime sessions hosted in a persistent child process with a memory cap and a time limit.

A registry is hostile data, so no model is run by onnxruntime inside the pytest process. One sandbox process per
memory cap and per pytest process (xdist workers each have their own) holds the InferenceSessions. It is a fresh
interpreter (never a fork of the pytest process) running this module alone, and the parent talks to it over a
multiprocessing Pipe: a model's bytes are loaded once per (model, opt level), then feeds go in and outputs
come back as raw array buffers. The parent waits for each reply with a time limit; on expiry it kills the
sandbox process, and the next load or run starts a fresh one. A sandbox process that dies (segfault, OOM
kill) fails the request it was serving in one line. Errors of onnxruntime come back as one-line strings.

Its sessions share one CPU memory arena, the process's (onnxruntime's environment allocator): between runs the
process holds the buffers of the largest run it served once, not once per session as with each session's own
arena (about 1 GiB per session after 1080x1920), so the sessions of a registry of any size fit the memory cap side
by side, and a large run reuses buffers instead of faulting in fresh pages (without any arena a 1080x1920 run took
about 1.7x as long). A run that fails for want of memory ends the sandbox process, so the arena it grew is not
left to the next model. The sandbox process caps its own address space (RLIMIT_AS), ignores Ctrl-C (the parent
owns its lifetime), dies with its parent (PR_SET_PDEATHSIG, and EOF on the pipe), and is shut down at interpreter
exit. What it sends back is JSON and checked array buffers, never a pickle: a sandbox process taken over by a
model cannot run code in pytest's process.
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import functools
import itertools
import json
import math
import multiprocessing
import os
import resource
import signal
import subprocess
import sys
from collections import OrderedDict
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime as ort

from pytest_tinyai.findings import first_line
from pytest_tinyai.startup import HOME_VARIABLES, STARTUP_HOME

ARENA_SAME_AS_REQUESTED = 1  # onnxruntime's ArenaExtendStrategy::kSameAsRequested
_OUT_OF_MEMORY = ("failed to allocate", "bad_alloc", "bad allocation")  # onnxruntime's words for it

OPT_LEVELS = {
    "all": ort.GraphOptimizationLevel.ORT_ENABLE_ALL,
    "disabled": ort.GraphOptimizationLevel.ORT_DISABLE_ALL,
}
GIB = 1 << 30
STARTUP_LIMIT_S = 120.0  # the sandbox process importing onnxruntime, on a busy machine; not a model's run
REPLY_SHARE = 4  # outputs are handed back up to this fraction of the memory cap: pytest's process holds them too
HELD_SESSIONS = 16  # sessions kept loaded in the sandbox process; an evicted one is reloaded on its next run
MAX_REPLY_BYTES = 16 << 20  # a reply's JSON (names, shapes, one error line); the arrays follow it as raw buffers
MAX_ERROR_CHARS = 2000  # an error line names the model's nodes, whose names the model chooses
_PR_SET_PDEATHSIG = 1


class SandboxError(Exception):
    """A load or run that did not produce a result; the message is one line."""


class OrtError(SandboxError):
    """onnxruntime refused to load or run the model; the sandbox process is fine."""


@functools.cache
def ort_error_type(kind: str) -> type[OrtError]:
    """OrtError under the name of the exception onnxruntime raised (Fail, InvalidArgument...), as reports show it."""
    return type(kind, (OrtError,), {"__module__": __name__})


class OutOfMemory(OrtError):
    """An allocation failed in the sandbox process, under its memory cap."""


class SandboxKilled(SandboxError):
    """The sandbox process ran past the time limit (and was killed) or died; the next request gets a fresh one."""


@dataclass(frozen=True)
class TensorInfo:
    """What `get_inputs()`/`get_outputs()` of an InferenceSession tell about a tensor."""

    name: str
    shape: list[int | str | None]
    type: str


def session_options(opt_level: str, threads: int) -> ort.SessionOptions:
    """CPU session options: the optimisation level by name, pinned intra-op threads, one inter-op thread, quiet."""
    options = ort.SessionOptions()
    options.graph_optimization_level = OPT_LEVELS[opt_level]
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    return options


def _describe_feeds(feeds: dict[str, np.ndarray]) -> str:
    """'input [1, 3, 32, 32]' per feed: where a run was when it was stopped."""
    return ", ".join(f"{name} {list(np.shape(value))}" for name, value in feeds.items())


class OrtSandbox:
    """One sandbox process (started lazily, restarted after a kill) holding onnxruntime sessions by key."""

    def __init__(self, memory_bytes: int) -> None:
        self.memory_bytes = memory_bytes
        self._keys = itertools.count()
        self._sandbox_process: subprocess.Popen[bytes] | None = None
        self._conn: Connection | None = None

    @property
    def pid(self) -> int | None:
        """The sandbox process's pid, None while none runs."""
        return self._sandbox_process.pid if self._sandbox_process is not None else None

    def load(self, model_bytes: bytes, opt_level: str, threads: int, timeout: float) -> SandboxedOrtSession:
        """A session of the model in the sandbox; raises OrtError when onnxruntime cannot load it."""
        session = SandboxedOrtSession(self, next(self._keys), model_bytes, opt_level, threads, timeout)
        session.load()
        return session

    def request(
        self,
        message: tuple[Any, ...],
        arrays: list[np.ndarray],
        timeout: float,
        what: str,
        expected: tuple[str, ...],
        where: str = "",
    ) -> tuple[str, Any]:
        """Send a request (and its arrays), wait up to `timeout` s for a reply of an `expected` status and return it,
        or raise what went wrong: OrtError (onnxruntime failed), SandboxKilled (over time, the sandbox process died,
        or it replied what this module's sandbox process never sends)."""
        conn = self._connection()
        try:
            conn.send(message)
            for array in arrays:
                conn.send_bytes(_raw(array))
        except OSError:  # the pipe broke: the sandbox process died on the way in
            raise self._died(what, where) from None
        if not conn.poll(timeout):
            self.shutdown(kill=True)
            raise SandboxKilled(f"onnxruntime {what} exceeded {timeout:g} s{where} (killed)")
        try:
            status, payload = json.loads(conn.recv_bytes(MAX_REPLY_BYTES))
            if status == "arrays":
                payload = _receive_arrays(conn, payload, self.memory_bytes // REPLY_SHARE)
            if status == "error" and not (isinstance(payload, list) and all(isinstance(part, str) for part in payload)):
                raise TypeError(f"an error reply of {type(payload).__name__}")
            if status not in (*expected, "error", "fatal"):
                raise ValueError(f"a '{status}' reply")
        except (EOFError, OSError):
            raise self._died(what, where) from None
        except (ValueError, TypeError) as error:  # not what this module's sandbox process sends: trust it no more
            raise self.malformed(what, where, error) from None
        if status == "error":
            kind, text = payload
            if kind == OutOfMemory.__name__:
                self.shutdown()  # the shared arena keeps what the failed run took: the next request starts afresh
                raise OutOfMemory(text)
            raise ort_error_type(kind)(text)
        if status == "fatal":  # the sandbox process could not go on and is exiting
            self.shutdown(kill=True)
            raise SandboxKilled(f"the onnxruntime sandbox process failed during the {what}{where}: {payload}")
        return status, payload

    def malformed(self, what: str, where: str, error: Exception) -> SandboxKilled:
        """Kill a sandbox process that replied what this module's sandbox process never sends, and say so."""
        self.shutdown(kill=True)
        return SandboxKilled(f"the onnxruntime sandbox process sent a malformed reply to the {what}{where}: {error}")

    def shutdown(self, kill: bool = False) -> None:
        """Stop the sandbox process (asking it to exit unless `kill`) and reap it; the next request starts another."""
        process, conn = self._sandbox_process, self._conn
        self._sandbox_process, self._conn = None, None
        if process is None or conn is None:
            return
        if not kill:
            with contextlib.suppress(OSError):
                conn.send(("exit",))
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=5)
        if process.poll() is None:
            process.kill()
        process.wait()
        conn.close()

    def _connection(self) -> Connection:
        if self._sandbox_process is not None and self._sandbox_process.poll() is not None:
            self.shutdown(kill=True)  # died while idle (e.g. the OOM killer): reap it, start afresh
        if self._conn is None:
            self._start()
        assert self._conn is not None
        return self._conn

    def _start(self) -> None:
        parent, child = multiprocessing.Pipe()
        command = [sys.executable, "-P", "-c", _BOOT, str(child.fileno()), str(self.memory_bytes), str(os.getpid())]
        env = {**{name: value for name, value in os.environ.items() if name not in HOME_VARIABLES}, **STARTUP_HOME}
        try:
            process = subprocess.Popen(command, pass_fds=[child.fileno()], stdin=subprocess.DEVNULL, env=env)
        finally:
            child.close()
        self._sandbox_process, self._conn = process, parent
        if not parent.poll(STARTUP_LIMIT_S):
            self.shutdown(kill=True)
            raise SandboxKilled(f"the onnxruntime sandbox process did not start within {STARTUP_LIMIT_S:g} s")
        try:
            parent.recv_bytes(MAX_REPLY_BYTES)
        except (EOFError, OSError):
            raise self._died("start") from None

    def _died(self, what: str, where: str = "") -> SandboxKilled:
        code = None
        if self._sandbox_process is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                code = self._sandbox_process.wait(timeout=5)
        self.shutdown(kill=True)
        how = f"killed by {signal.Signals(-code).name}" if code is not None and code < 0 else f"exit code {code}"
        return SandboxKilled(f"the onnxruntime sandbox process died during the {what}{where} ({how})")


class SandboxedOrtSession:
    """The subset of onnxruntime.InferenceSession the checks use, served by the sandbox process."""

    def __init__(
        self, sandbox: OrtSandbox, key: int, model_bytes: bytes, opt_level: str, threads: int, timeout: float
    ) -> None:
        self._sandbox = sandbox
        self._key = key
        self._model_bytes = model_bytes
        self._opt_level = opt_level
        self._threads = threads
        self._timeout = timeout
        self._inputs: list[TensorInfo] = []
        self._outputs: list[TensorInfo] = []

    def load(self) -> None:
        message = ("load", self._key, self._model_bytes, self._opt_level, self._threads)
        _, payload = self._sandbox.request(message, [], self._timeout, "load", ("loaded",))
        try:
            inputs, outputs = payload
            self._inputs = [TensorInfo(*info) for info in inputs]
            self._outputs = [TensorInfo(*info) for info in outputs]
        except (ValueError, TypeError) as error:
            raise self._sandbox.malformed("load", "", error) from None

    def get_inputs(self) -> list[TensorInfo]:
        return list(self._inputs)

    def get_outputs(self) -> list[TensorInfo]:
        return list(self._outputs)

    def run(self, output_names: list[str] | None, feeds: dict[str, np.ndarray]) -> list[np.ndarray]:
        arrays = [np.require(value, requirements="C") for value in feeds.values()]
        headers = [(name, array.dtype.str, array.shape) for name, array in zip(feeds, arrays, strict=True)]
        where = f" at {_describe_feeds(feeds)}"
        for _ in range(2):  # a sandbox process that restarted or evicted the session gets it loaded again
            status, outputs = self._sandbox.request(
                ("run", self._key, output_names, headers), arrays, self._timeout, "run", ("arrays", "unloaded"), where
            )
            if status != "unloaded":
                return outputs
            self.load()
        raise SandboxKilled(f"the onnxruntime sandbox process lost the session twice during the run{where}")


def shared_sandbox(memory_bytes: int) -> OrtSandbox:
    """The process-wide sandbox of this memory cap (runs in one process, e.g. pytester's, share its process)."""
    if memory_bytes not in _SHARED:
        _SHARED[memory_bytes] = OrtSandbox(memory_bytes)
    return _SHARED[memory_bytes]


_SHARED: dict[int, OrtSandbox] = {}


@atexit.register
def _shutdown_shared() -> None:
    for sandbox in _SHARED.values():
        sandbox.shutdown()


# --- transport ----------------------------------------------------------------------------------------------------


def _raw(array: np.ndarray) -> memoryview:
    return memoryview(array.reshape(-1).view(np.uint8))


def _receive_arrays(conn: Connection, headers: list[Any], limit: int) -> list[np.ndarray]:
    """The arrays announced by `headers` ([dtype, shape] each), refused unless numeric and `limit` bytes in all."""
    specs = [(np.dtype(dtype), tuple(int(dim) for dim in shape)) for dtype, shape in headers]
    if any(dtype.hasobject or min(shape, default=0) < 0 for dtype, shape in specs):
        raise ValueError("an array header that is not a numeric tensor")
    if sum(dtype.itemsize * math.prod(shape) for dtype, shape in specs) > limit:
        raise ValueError(f"arrays over {limit:,} bytes announced")
    return [_receive_array(conn, dtype, shape) for dtype, shape in specs]


def _receive_array(conn: Connection, dtype: np.dtype, shape: tuple[int, ...]) -> np.ndarray:
    buffer = bytearray(dtype.itemsize * math.prod(shape))
    if conn.recv_bytes_into(buffer) != len(buffer):
        raise EOFError("short array buffer")
    return np.frombuffer(buffer, dtype=dtype).reshape(shape)


def _reply(conn: Connection, status: str, payload: Any) -> None:
    """Replies are JSON: pytest's process never unpickles what the sandbox process sends."""
    conn.send_bytes(json.dumps([status, payload]).encode())


# --- the sandbox process ------------------------------------------------------------------------------------------


# The sandbox process runs a fresh interpreter on this module alone. multiprocessing's spawn and forkserver would
# re-import the parent's __main__ in it, which re-runs a script that calls pytest.main() without a __main__ guard.
_BOOT = f"import sys; sys.path.insert(0, {str(Path(__file__).resolve().parents[1])!r}); " + (
    "from pytest_tinyai.ort_sandbox import serve; serve(*map(int, sys.argv[1:]))"
)


def serve(fd: int, memory_bytes: int, parent_pid: int) -> None:
    """The sandbox process's loop: load and run requests until the pipe closes or the parent says exit."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if sys.platform == "linux":
        ctypes.CDLL(None).prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL))
    if os.getppid() != parent_pid:  # the parent died before the line above
        return
    resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    share_one_arena()
    conn = Connection(fd)
    sessions: OrderedDict[int, ort.InferenceSession] = OrderedDict()
    _reply(conn, "ready", None)
    while True:
        try:
            request = conn.recv()
        except EOFError:
            return
        if request[0] == "exit":
            return
        try:
            if request[0] == "load":
                _reply(conn, *_load(sessions, *request[1:], memory_bytes=memory_bytes))
            else:
                _, key, output_names, headers = request
                feeds = {name: _receive_array(conn, np.dtype(dtype), shape) for name, dtype, shape in headers}
                _reply_run(conn, sessions.get(key), output_names, feeds, memory_bytes)
        except BaseException as error:  # e.g. no memory left to take the feeds: the pipe is out of step, so stop
            with contextlib.suppress(BaseException):
                _reply(conn, "fatal", ": ".join(_error(error, memory_bytes)))
            os._exit(1)  # quietly: a traceback here would land in the test's captured output


def share_one_arena() -> None:
    """Register one CPU arena for the whole process; sessions use it with ``session.use_env_allocators``. It grows
    by what is requested (not by powers of two), so what it holds is close to the largest run's working set."""
    memory_info = ort.OrtMemoryInfo("Cpu", ort.OrtAllocatorType.ORT_ARENA_ALLOCATOR, 0, ort.OrtMemType.DEFAULT)
    ort.create_and_register_allocator(memory_info, ort.OrtArenaCfg({"arena_extend_strategy": ARENA_SAME_AS_REQUESTED}))


def _load(
    sessions: OrderedDict[int, ort.InferenceSession],
    key: int,
    model_bytes: bytes,
    opt_level: str,
    threads: int,
    *,
    memory_bytes: int,
) -> tuple[str, Any]:
    options = session_options(opt_level, threads)
    options.add_session_config_entry("session.use_env_allocators", "1")  # the process's one arena (share_one_arena)
    try:
        ort_session = ort.InferenceSession(model_bytes, options, providers=["CPUExecutionProvider"])
    except Exception as error:  # onnxruntime's Fail/InvalidGraph/NotImplemented..., MemoryError
        return "error", _error(error, memory_bytes)
    sessions[key] = ort_session
    while len(sessions) > HELD_SESSIONS:
        sessions.popitem(last=False)

    def info(args: list[Any]) -> list[tuple[str, list[Any], str]]:
        return [(arg.name, list(arg.shape), arg.type) for arg in args]

    return "loaded", (info(ort_session.get_inputs()), info(ort_session.get_outputs()))


def _reply_run(
    conn: Connection,
    ort_session: ort.InferenceSession | None,
    output_names: list[str] | None,
    feeds: dict[str, np.ndarray],
    memory_bytes: int,
) -> None:
    if ort_session is None:
        _reply(conn, "unloaded", None)
        return
    try:
        outputs = [np.require(value, requirements="C") for value in ort_session.run(output_names, feeds)]
    except Exception as error:  # onnxruntime's own error types, MemoryError
        _reply(conn, "error", _error(error, memory_bytes))
        return
    refused = [str(value.dtype) for value in outputs if value.dtype.hasobject]
    if refused:
        _reply(conn, "error", ("TypeError", f"outputs of dtype {refused} are not numeric tensors"))
        return
    size, cap = sum(value.nbytes for value in outputs), memory_bytes // REPLY_SHARE
    if size > cap:
        message = f"the outputs hold {size:,} bytes, over the {cap:,} handed back (1/{REPLY_SHARE} of the memory cap)"
        _reply(conn, "error", (OutOfMemory.__name__, message))
        return
    _reply(conn, "arrays", [(value.dtype.str, value.shape) for value in outputs])
    for value in outputs:
        conn.send_bytes(_raw(value))


def _error(error: BaseException, memory_bytes: int) -> tuple[str, str]:
    """The error's type name and first line; a failed allocation is OutOfMemory, with the cap named."""
    text = first_line(error)[:MAX_ERROR_CHARS]
    if isinstance(error, MemoryError) or any(marker in text.lower() for marker in _OUT_OF_MEMORY):
        cap = f" (the sandbox process is capped at {memory_bytes / GIB:g} GiB: --tinyai-run-memory-gib)"
        return OutOfMemory.__name__, text + cap
    return type(error).__name__, text
