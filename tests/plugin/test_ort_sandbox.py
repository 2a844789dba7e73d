"""The ORT sandbox on its own: results, one-line errors, the time limit, a dying sandbox process, the memory cap,
shutdown, and no sandbox process outliving its parent."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import onnxruntime
import pytest
from execution_builders import busy_loop_middle, custom_op_middle, memory_bomb_middle
from onnx import TensorProto, helper, numpy_helper
from plugin_builders import saliency_model

from pytest_tinyai.ort_sandbox import GIB, OrtError, OrtSandbox, OutOfMemory, SandboxedOrtSession, SandboxKilled

FEEDS = {"input": np.random.default_rng(0).standard_normal((1, 3, 8, 8)).astype(np.float32)}


@pytest.fixture
def sandbox() -> Iterator[OrtSandbox]:
    sandbox = OrtSandbox(2 * GIB)
    yield sandbox
    sandbox.shutdown()


def load(sandbox: OrtSandbox, middle=(), timeout: float = 60.0) -> SandboxedOrtSession:
    return sandbox.load(saliency_model(middle).SerializeToString(), "all", 1, timeout)


def gone(pid: int) -> bool:
    """The process has exited (a zombie left to an init that does not reap counts as exited)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] == "Z"
    except FileNotFoundError:
        return True


def test_a_run_in_the_sandbox_gives_what_onnxruntime_gives_in_process(sandbox):
    session = load(sandbox)
    [output] = session.run(None, FEEDS)
    in_process = onnxruntime.InferenceSession(saliency_model().SerializeToString(), providers=["CPUExecutionProvider"])
    np.testing.assert_array_equal(output, in_process.run(None, FEEDS)[0])
    assert output.flags.writeable
    assert [(i.name, i.shape, i.type) for i in session.get_inputs()] == [("input", [1, 3, "H", "W"], "tensor(float)")]
    assert [o.name for o in session.get_outputs()] == ["saliency_map"]


def test_an_onnxruntime_error_comes_back_in_one_line_under_its_own_name_and_the_sandbox_process_lives_on(sandbox):
    session = load(sandbox)
    pid = sandbox.pid
    with pytest.raises(OrtError) as raised:
        session.run(None, {"input": np.zeros((1, 3, 8), np.float32)})
    assert type(raised.value).__name__ == "InvalidArgument"
    assert str(raised.value).startswith("[ONNXRuntimeError]") and "\n" not in str(raised.value)
    assert sandbox.pid == pid
    assert session.run(None, FEEDS)[0].shape == (1, 1, 8, 8)


def test_a_model_onnxruntime_cannot_load_fails_the_load_in_one_line(sandbox):
    model = saliency_model(custom_op_middle("com.example.evil", "Boom"), extra_opsets={"com.example.evil": 1})
    with pytest.raises(OrtError, match="Boom") as raised:
        sandbox.load(model.SerializeToString(), "all", 1, 60.0)
    assert "\n" not in str(raised.value)


def test_a_run_over_the_time_limit_is_killed_and_the_next_run_gets_a_fresh_sandbox_process(sandbox):
    healthy = load(sandbox)
    busy = load(sandbox, busy_loop_middle(1000), timeout=1.0)
    pid = sandbox.pid
    with pytest.raises(SandboxKilled, match=r"^onnxruntime run exceeded 1 s at input \[1, 3, 8, 8\] \(killed\)$"):
        busy.run(None, FEEDS)
    assert sandbox.pid is None and gone(pid)
    assert healthy.run(None, FEEDS)[0].shape == (1, 1, 8, 8)  # loaded again, in a new sandbox process
    assert sandbox.pid not in (None, pid)


@pytest.mark.parametrize(("signal_number", "name"), [(signal.SIGSEGV, "SIGSEGV"), (signal.SIGKILL, "SIGKILL")])
def test_a_sandbox_process_that_dies_mid_run_fails_that_run_in_one_line(sandbox, signal_number, name):
    busy = load(sandbox, busy_loop_middle(1000))
    pid = sandbox.pid
    assert pid is not None
    threading.Timer(0.5, os.kill, (pid, signal_number)).start()
    died = rf"^the onnxruntime sandbox process died during the run at input \[1, 3, 8, 8\] \(killed by {name}\)$"
    with pytest.raises(SandboxKilled, match=died):
        busy.run(None, FEEDS)
    assert gone(pid)
    assert load(sandbox).run(None, FEEDS)[0].shape == (1, 1, 8, 8)


def test_a_sandbox_process_that_died_while_idle_is_replaced_without_failing_anything(sandbox):
    session = load(sandbox)
    pid = sandbox.pid
    assert pid is not None
    os.kill(pid, signal.SIGKILL)
    while os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is None:  # all its threads gone, unreaped
        time.sleep(0.05)
    assert session.run(None, FEEDS)[0].shape == (1, 1, 8, 8)
    assert sandbox.pid != pid


def test_a_memory_bomb_fails_in_one_line_naming_the_cap():
    sandbox = OrtSandbox(1 * GIB)
    try:
        with pytest.raises(OutOfMemory, match=r"capped at 1 GiB: --tinyai-run-memory-gib\)$") as raised:
            load(sandbox, memory_bomb_middle([512, 1024, 1024])).run(None, FEEDS)  # 2 GiB of float32
        assert "\n" not in str(raised.value)
    finally:
        sandbox.shutdown()


def test_outputs_over_a_quarter_of_the_memory_cap_are_not_handed_back():
    expand = helper.make_node("Expand", ["x", "shape"], ["y"])
    shape = numpy_helper.from_array(np.array([80, 1024, 1024], np.int64), "shape")  # 320 MiB of float32
    graph = helper.make_graph(
        [expand],
        "wide",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
        [shape],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    sandbox = OrtSandbox(1 * GIB)
    try:
        session = sandbox.load(model.SerializeToString(), "all", 1, 60.0)
        with pytest.raises(OutOfMemory, match=r"^the outputs hold 335,544,320 bytes, over the 268,435,456 handed back"):
            session.run(None, {"x": np.ones(1, np.float32)})
    finally:
        sandbox.shutdown()


def test_shutdown_stops_and_reaps_the_sandbox_process(sandbox):
    load(sandbox)
    pid = sandbox.pid
    assert pid is not None
    sandbox.shutdown()
    assert sandbox.pid is None
    assert gone(pid)
    with pytest.raises(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)  # reaped: no zombie left behind


def test_the_sandbox_process_does_not_outlive_a_parent_that_exits_without_cleaning_up(tmp_path):
    script = textwrap.dedent(
        f"""
        import os, sys
        sys.path[:0] = {[str(Path(__file__).parent), str(Path(__file__).parents[1])]!r}
        from plugin_builders import saliency_model
        from pytest_tinyai.ort_sandbox import GIB, OrtSandbox
        sandbox = OrtSandbox(GIB)
        sandbox.load(saliency_model().SerializeToString(), "all", 1, 60.0)
        print(sandbox.pid, flush=True)
        os._exit(0)  # no atexit, no shutdown
        """
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    pid = int(done.stdout)
    deadline = time.monotonic() + 60
    while not gone(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert gone(pid)
