"""Hostile models at run time: nothing the allowlist or registry trust refused is run, every run has a time limit
and a memory cap in a sandbox process that can be killed, and declared shapes are capped in pixels."""

from __future__ import annotations

import pytest
from execution_builders import (
    busy_loop_middle,
    custom_op_middle,
    gated_sidecar,
    memory_bomb_middle,
    quadratic_bomb_middle,
    wide_middle,
    write_fold,
)
from hostile_builders import (
    HEALTHY,
    assert_contained,
    assert_declined,
    failure,
    hostile_registry,
    run_hostile,
)
from plugin_builders import CORE_CHECKS, saliency_model, with_sidecar
from saliency_sidecar import square_dims

from pytest_tinyai.specs import packaged_spec

RUN_TIMEOUT = ("--tinyai-run-timeout", "1")
FEW_EXAMPLES = ("--tinyai-fuzz-examples", "3")
OVER_THE_PIXEL_CAP = "over the cap of 16,777,216 (--tinyai-max-pixels)"


def select(*markers: str) -> tuple[str, str]:
    return "-m", " or ".join([CORE_CHECKS, *(f"tinyai_{marker}" for marker in markers)])


def test_a_loop_of_a_billion_trips_fails_the_allowlist_and_no_check_runs_it(pytester, hostile):
    fold_hash = write_fold(hostile.folder)
    hostile.add("billion", saliency_model(busy_loop_middle(10**9, side=2)), sidecar=gated_sidecar("billion", fold_hash))
    run = run_hostile(pytester, hostile, *select("fuzz", "gate"), *FEW_EXAMPLES)
    assert_contained(run, "billion", "trip count 1000000000 is outside [0, 1024]")
    for check in ("contract", "fuzz", "gate"):
        text = failure(run, f"{check}[billion]")
        assert (
            text == "billion: not run: allowlist failed: Loop 'busy_loop': trip count 1000000000 is outside [0, 1024]"
        )


def test_a_slow_loop_on_the_allowlist_is_killed_at_the_time_limit_and_never_run_again(pytester, hostile):
    hostile.add("busy", saliency_model(busy_loop_middle(1000)))
    run = run_hostile(pytester, hostile, *select("fuzz"), *RUN_TIMEOUT, *FEW_EXAMPLES)
    killed = "busy: onnxruntime run exceeded 1 s at input [1, 3, 32, 32] (killed)"
    assert_contained(run, "busy", killed)
    assert failure(run, "contract[busy]") == killed
    assert failure(run, "fuzz[busy]") == killed  # refused at once: the killed model is not run again


def test_a_run_killed_inside_the_fuzz_property_fails_fuzz_in_one_line_without_shrinking_through_kills(
    pytester, hostile
):
    hostile.add("busy", saliency_model(busy_loop_middle(1000)))
    run = run_hostile(pytester, hostile, "-m", "tinyai_registry or tinyai_fuzz", *RUN_TIMEOUT, *FEW_EXAMPLES)
    assert_contained(run, "busy", "busy: onnxruntime run exceeded 1 s at input [1, 3, ")
    assert "Falsifying" not in run.output


def test_a_memory_bomb_on_the_allowlist_fails_in_one_line_under_the_memory_cap(pytester, hostile):
    hostile.add("bomb", saliency_model(memory_bomb_middle([512, 1024, 1024])))  # 2 GiB of float32
    run = run_hostile(pytester, hostile, "--tinyai-run-memory-gib", "1")
    assert_contained(run, "bomb", "(the sandbox process is capped at 1 GiB: --tinyai-run-memory-gib)")
    # onnxruntime's arena could not take the bomb's 2 GiB under the cap; 'good' runs after it (sorted order) and passes
    assert "Failed to allocate memory for requested buffer of size 2147483648" in failure(run, "contract[bomb]")


def test_a_nominal_shape_of_28000_squared_fails_the_registry_check_and_nothing_runs(pytester, hostile):
    sidecar = with_sidecar(
        "huge", contract={**with_sidecar("huge")["tinyai"]["contract"], "nominal": {"H": 28000, "W": 28000}}
    )
    hostile.add("huge", sidecar=sidecar)
    run = run_hostile(pytester, hostile)
    assert_contained(run, "huge", f"contract nominal H=28000 W=28000 is 784,000,000 pixels, {OVER_THE_PIXEL_CAP}")
    assert failure(run, "contract[huge]").startswith("huge: not checked: registry trust failed: sidecar 'huge.json'")


def test_dims_up_to_100000_fail_the_registry_check(pytester, hostile):
    contract = {**with_sidecar("wide")["tinyai"]["contract"], "dims": square_dims(1, 100000)}
    hostile.add("wide", sidecar=with_sidecar("wide", contract=contract))
    run = run_hostile(pytester, hostile, *select("fuzz"))
    assert_contained(run, "wide", f"contract dims max H=100000 W=100000 is 10,000,000,000 pixels, {OVER_THE_PIXEL_CAP}")
    assert "registry trust failed" in failure(run, "fuzz[wide]")


def test_a_latency_resolution_of_50000_squared_fails_the_registry_check(pytester, hostile):
    hostile.add("slow", sidecar=with_sidecar("slow", latency={"resolutions": [[50000, 50000]]}))
    run = run_hostile(pytester, hostile)
    assert_contained(run, "slow", f"latency resolution H=50000 W=50000 is 2,500,000,000 pixels, {OVER_THE_PIXEL_CAP}")


def test_an_input_whose_fixed_dims_hold_a_bomb_fails_the_registry_check(pytester, hostile):
    contract = with_sidecar("batch")["tinyai"]["contract"]
    contract["inputs"] = [{**contract["inputs"][0], "shape": [100000, 3, "H", "W"]}]
    hostile.add("batch", sidecar=with_sidecar("batch", contract=contract))
    run = run_hostile(pytester, hostile, *select("fuzz"))
    assert_contained(run, "batch", "input 'input' [100000, 3, 'H', 'W'] holds 307,200,000 values, over 16 per pixel")


def test_a_graph_without_a_contract_whose_fixed_dims_hold_a_bomb_is_not_run(pytester, hostile):
    """A model that declares no contract is run at its graph's shape, held to the same cap as a declared one."""
    model = saliency_model(input_shape=(1, 3, 100000, 100000))
    hostile.add("fixed", model, sidecar=None, smoke=True)
    run = run_hostile(pytester, hostile)
    assert_contained(
        run, "fixed", "derived shape: input 'input' [1, 3, 100000, 100000] holds 30,000,000,000 values, over 16"
    )


def test_a_graph_without_a_contract_cannot_dodge_its_run_with_an_open_dim(pytester, hostile):
    """A symbolic dim that leaves a derived contract with no shape to run at is declined loudly, never passed."""
    hostile.add("open", saliency_model(input_shape=(1, 3, "H", 8)), sidecar=None, smoke=True)
    run = run_hostile(pytester, hostile)
    assert_declined(run, "contract[open]", "symbolic dims H of 'input' have no nominal value")


def test_an_op_of_a_custom_domain_that_onnxruntime_cannot_load_fails_in_one_line(pytester, hostile):
    allowlist = pytester.path / "allowlist.config"
    allowlist.write_text(packaged_spec("allowlist.config").read_text() + "com.example.evil;1;Boom\n")
    model = saliency_model(custom_op_middle("com.example.evil", "Boom"), extra_opsets={"com.example.evil": 1})
    hostile.add("custom", model)
    run = run_hostile(pytester, hostile, "--tinyai-allowlist", str(allowlist))
    assert_contained(run, "custom", "custom: not checked: onnxruntime cannot load the model: [ONNXRuntimeError]")
    assert "Boom" in failure(run, "contract[custom]")


def test_a_sandbox_process_that_dies_mid_run_fails_that_model_only(pytester, hostile):
    pytester.makeconftest(
        """
        import os, signal, threading
        from pytest_tinyai import ort_sandbox

        KILL_NEXT_RUN = []
        _request = ort_sandbox.OrtSandbox.request

        def request(self, message, *args, **kwargs):
            if message[0] == "run" and KILL_NEXT_RUN:
                KILL_NEXT_RUN.clear()
                threading.Timer(0.2, os.kill, (self.pid, signal.SIGSEGV)).start()  # mid-run: the loop takes seconds
            return _request(self, message, *args, **kwargs)

        ort_sandbox.OrtSandbox.request = request

        def pytest_unconfigure(config):
            ort_sandbox.OrtSandbox.request = _request  # this process's later runs get the real one back

        def pytest_runtest_call(item):
            if item.name == "contract[busy]":
                KILL_NEXT_RUN.append(True)
        """
    )
    hostile.add("busy", saliency_model(busy_loop_middle(1000)))
    run = run_hostile(pytester, hostile)
    died = "busy: the onnxruntime sandbox process died during the run at input [1, 3, 32, 32] (killed by SIGSEGV)"
    assert_contained(run, "busy", died)


def test_the_healthy_models_gate_still_works_after_the_sandbox_process_was_killed_for_a_hostile_one(pytester):
    registry = hostile_registry(pytester.path / "models")
    registry.entries.clear()
    registry.add(HEALTHY, sidecar=gated_sidecar(HEALTHY, write_fold(registry.folder)))
    registry.add("busy", saliency_model(busy_loop_middle(1000)))  # sorts first: killed before the healthy runs
    run = run_hostile(pytester, registry, *select("gate"), *RUN_TIMEOUT)
    assert_contained(run, "busy", "busy: onnxruntime run exceeded 1 s at input [1, 3, 32, 32] (killed)")
    run.result.stdout.fnmatch_lines([f"*{HEALTHY} *1.0000 *-  0.900 *+0.1000  bright-dark (mean_iou@0.5)"])


def test_a_slow_model_is_stopped_in_the_sandbox_before_it_is_timed_in_process(pytester, hostile, monkeypatch):
    monkeypatch.delenv("PYTEST_XDIST_WORKER", raising=False)  # the inner run is not distributed: it times
    hostile.add(
        "busy",
        saliency_model(busy_loop_middle(1000)),
        sidecar=with_sidecar("busy", latency={"resolutions": [[32, 32]]}),
    )
    run = run_hostile(pytester, hostile, "-m", "tinyai_registry or tinyai_bench", *RUN_TIMEOUT)
    assert_contained(run, "busy", "busy: onnxruntime run exceeded 1 s at input [1, 3, 32, 32] (killed)")
    assert "bench[busy-32x32]" in {report.nodeid.split("::")[-1] for report in run.result.reprec.getfailures()}


def test_a_model_that_bombs_only_at_a_latency_resolution_is_stopped_in_the_sandbox_before_it_is_timed(
    pytester, hostile, monkeypatch
):
    monkeypatch.delenv("PYTEST_XDIST_WORKER", raising=False)  # the inner run is not distributed: it times
    latency = {"resolutions": [[32, 32], [160, 160]]}  # 4 MiB, then 2.4 GiB of zeros
    hostile.add("square", saliency_model(quadratic_bomb_middle()), sidecar=with_sidecar("square", latency=latency))
    run = run_hostile(pytester, hostile, *select("bench"), "--tinyai-run-memory-gib", "1")
    assert_contained(run, "square", "square: not timed: [ONNXRuntimeError]")
    assert "capped at 1 GiB" in failure(run, "bench[square-160x160]")


def test_a_peer_that_bombs_only_at_a_budget_resolution_is_stopped_in_the_sandbox_before_it_is_timed(pytester, hostile):
    """The budget item times both models at its resolution, which neither declares among its own resolutions."""
    budget = {"relative_to": "square", "resolution": [160, 160], "max_ratio": 2.0}
    hostile.add("square", saliency_model(quadratic_bomb_middle()))
    hostile.add("fast", sidecar=with_sidecar("fast", latency={"resolutions": [[32, 32]], "budgets": [budget]}))
    run = run_hostile(pytester, hostile, "-m", "tinyai_bench", "-k", "latency_budget", "--tinyai-run-memory-gib", "1")
    assert "capped at 1 GiB" in failure(run, "latency_budget[fast-160x160-vs-square]")


@pytest.mark.parametrize("side", [4096, 4097])
def test_the_pixel_cap_admits_exactly_4096_squared(pytester, hostile, side):
    contract = {**with_sidecar("edge")["tinyai"]["contract"], "dims": square_dims(1, side)}
    hostile.add("edge", sidecar=with_sidecar("edge", contract=contract))
    run = run_hostile(pytester, hostile, "-m", "tinyai_registry")
    outcome = {
        report.nodeid.split("::")[-1]: report.outcome
        for report in run.result.reprec.getreports("pytest_runtest_logreport")
        if report.when == "call"
    }
    assert outcome["registry[edge]"] == ("passed" if side == 4096 else "failed")


def test_sessions_do_not_each_keep_their_largest_run_so_many_models_fit_the_memory_cap(pytester, hostile):
    """Each model takes about 280 MiB in its run at 512 x 512; five of them would hold 1.4 GiB if every session
    kept the buffers of its largest run (onnxruntime's per-session arena), over the 1 GiB cap."""
    contract = {**with_sidecar("wide")["tinyai"]["contract"], "nominal": {"H": 512, "W": 512}}
    for index in range(5):
        name = f"wide{index}"
        hostile.add(name, saliency_model(wide_middle(192)), sidecar=with_sidecar(name, contract=contract))
    run = run_hostile(pytester, hostile, "--tinyai-run-memory-gib", "1")
    assert run.result.ret == pytest.ExitCode.OK, run.output
