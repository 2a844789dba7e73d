"""Latency (`tinyai_bench`): one pytest-benchmark item per declared resolution, grouped; relative budgets."""

from __future__ import annotations

import json

from dynamic_builders import (
    assert_clean_failure,
    assert_no_internals,
    channel_model,
    heavy_model,
    lines,
    odd_height_crash_model,
    outcomes,
    run_tinyai,
    sidecar,
)


def latency(*resolutions, budgets=()):
    block = {"resolutions": [list(r) for r in resolutions]}
    if budgets:
        block["budgets"] = [
            {"relative_to": other, "resolution": list(resolution), "max_ratio": ratio}
            for other, resolution, ratio in budgets
        ]
    return block


def add_light_and_heavy(workspace, *, heavy_budget=None, light_budget=None):
    """'light' (one 1x1 conv) and 'heavy' (eight 3x3 convs of 16 channels), both timed at 64x64."""
    light_budgets = [("heavy", (64, 64), light_budget)] if light_budget else []
    heavy_budgets = [("light", (64, 64), heavy_budget)] if heavy_budget else []
    workspace.add("light", channel_model(), sidecar("light", latency=latency((64, 64), budgets=light_budgets)))
    workspace.add("heavy", heavy_model(layers=8), sidecar("heavy", latency=latency((64, 64), budgets=heavy_budgets)))


def test_each_declared_resolution_is_a_bench_item_grouped_by_resolution(pytester, workspace):
    workspace.add("light", channel_model(), sidecar("light", latency=latency((32, 32), (48, 64))))
    workspace.add("other", channel_model("green"), sidecar("other", latency=latency((32, 32))))
    result = run_tinyai(pytester, "tinyai_bench", "--benchmark-json", "out.json")
    assert outcomes(result) == {
        "bench[light-32x32]": "passed",
        "bench[light-48x64]": "passed",
        "bench[other-32x32]": "passed",
    }
    assert result.ret == 0
    assert_no_internals(result)
    report = json.loads((pytester.path / "out.json").read_text())
    timed = {bench["name"]: bench for bench in report["benchmarks"]}
    assert set(timed) == {"bench[light-32x32]", "bench[light-48x64]", "bench[other-32x32]"}
    assert {name: bench["group"] for name, bench in timed.items()} == {
        "bench[light-32x32]": "32x32",
        "bench[light-48x64]": "48x64",
        "bench[other-32x32]": "32x32",
    }
    assert timed["bench[light-48x64]"]["extra_info"] == {"model": "light", "resolution": [48, 64], "threads": 1}
    assert all(bench["stats"]["rounds"] >= 5 and bench["stats"]["median"] > 0 for bench in timed.values())
    result.stdout.fnmatch_lines(["*benchmark '32x32': 2 tests*", "*bench?light-32x32?*", "*benchmark '48x64': 1 test*"])


def test_bench_rounds_follow_pytest_benchmarks_min_rounds_and_max_time(pytester, workspace):
    workspace.add("light", channel_model(), sidecar("light", latency=latency((32, 32))))
    options = ("--benchmark-min-rounds", "9", "--benchmark-max-time", "0.000001", "--benchmark-json", "out.json")
    result = run_tinyai(pytester, "tinyai_bench", *options)
    assert result.ret == 0
    (timed,) = json.loads((pytester.path / "out.json").read_text())["benchmarks"]
    assert timed["stats"]["rounds"] == 9


def test_a_relative_latency_budget_that_is_exceeded_fails_with_its_ratio_and_interval(pytester, workspace):
    add_light_and_heavy(workspace, heavy_budget=1.0)
    result = run_tinyai(pytester, "tinyai_bench")
    assert_clean_failure(result)
    assert outcomes(result) == {
        "bench[heavy-64x64]": "passed",
        "bench[light-64x64]": "passed",
        "latency_budget[heavy-64x64-vs-light]": "failed",
    }
    result.stdout.fnmatch_lines(
        lines("heavy: latency at 64x64 is ", "x light's (95% interval [", "interleaved pairs), over the budget of 1.0x")
    )


def test_a_relative_latency_budget_that_is_met_passes(pytester, workspace):
    add_light_and_heavy(workspace, light_budget=1.0)
    result = run_tinyai(pytester, "tinyai_bench")
    assert outcomes(result)["latency_budget[light-64x64-vs-heavy]"] == "passed"
    assert result.ret == 0


def test_the_summary_prints_every_budget_with_its_ratio_interval_and_decision(pytester, workspace):
    add_light_and_heavy(workspace, light_budget=1.0)
    result = run_tinyai(pytester, "tinyai_bench")
    result.stdout.fnmatch_lines(
        [
            "latency budgets (median ratio of interleaved pairs, 95% bootstrap interval):",
            *lines("light vs heavy at 64x64: 0.", "x [0.", "] budget 1.0x pass (30 pairs)"),
        ]
    )


def test_a_budget_item_selected_alone_times_both_models_itself(pytester, workspace):
    add_light_and_heavy(workspace, heavy_budget=1.0)
    result = run_tinyai(pytester, "tinyai_bench", "-k", "latency_budget")
    assert_clean_failure(result)
    assert outcomes(result) == {"latency_budget[heavy-64x64-vs-light]": "failed"}
    result.stdout.fnmatch_lines(lines("heavy: latency at 64x64 is ", "over the budget of 1.0x"))


def test_a_budget_relative_to_a_model_the_registry_lacks_fails_in_one_line(pytester, workspace):
    budget = latency((64, 64), budgets=[("ghost", (64, 64), 1.0)])
    workspace.add("light", channel_model(), sidecar("light", latency=budget))
    result = run_tinyai(pytester, "tinyai_bench", "-k", "latency_budget")
    assert_clean_failure(result)
    result.stdout.fnmatch_lines(lines("light: latency budget relative to 'ghost', which is not in this registry"))


def test_under_xdist_bench_items_are_skipped_and_said_so_while_budgets_are_still_decided(pytester, workspace):
    add_light_and_heavy(workspace, light_budget=1.0)
    result = pytester.runpytest_subprocess(
        "--tinyai-registry", "registry.json", "-m", "tinyai_bench", "-p", "no:cacheprovider", "-n", "2"
    )
    assert result.ret == 0, result.stdout.str()
    result.assert_outcomes(skipped=2, passed=1)
    result.stdout.fnmatch_lines(
        lines("2 bench items NOT timed: pytest-benchmark is disabled under xdist", "-p no:xdist -m tinyai_bench")
    )
    result.stdout.fnmatch_lines(lines("light vs heavy at 64x64: ", "pass"))
    assert_no_internals(result)


def test_benchmark_disable_skips_the_bench_items_and_says_so_while_budgets_are_still_decided(pytester, workspace):
    add_light_and_heavy(workspace, heavy_budget=1.0)
    result = run_tinyai(pytester, "tinyai_bench", "--benchmark-disable")
    assert outcomes(result) == {
        "bench[heavy-64x64]": "skipped",
        "bench[light-64x64]": "skipped",
        "latency_budget[heavy-64x64-vs-light]": "failed",
    }
    result.stdout.fnmatch_lines(lines("2 bench items NOT timed"))


def test_not_tinyai_bench_deselects_bench_and_budget_items(pytester, workspace):
    add_light_and_heavy(workspace, heavy_budget=1.0)
    result = run_tinyai(pytester, "not tinyai_bench", "--collect-only", "-q")
    collected = result.stdout.str()
    assert "fuzz[heavy]" in collected and "contract[light]" in collected
    assert "bench[" not in collected and "latency_budget[" not in collected
    result.stdout.fnmatch_lines(["*3 deselected*"])


def test_a_declared_resolution_outside_the_contract_fails_its_bench_item_in_one_line(pytester, workspace):
    workspace.add("light", channel_model(), sidecar("light", latency=latency((32, 32), (128, 32))))
    result = run_tinyai(pytester, "tinyai_bench")
    assert_clean_failure(result)
    assert outcomes(result) == {"bench[light-32x32]": "passed", "bench[light-128x32]": "failed"}
    result.stdout.fnmatch_lines(["*_ bench[[]light-128x32] _*", "light: resolution 128x32: H=128 is outside [[]1, 64]"])


def test_a_model_that_fails_at_a_declared_resolution_fails_its_bench_item_in_one_line(pytester, workspace):
    # The odd-height model cannot run 33 rows, although its contract admits them.
    workspace.add("odd", odd_height_crash_model(), sidecar("odd", latency=latency((33, 32))))
    result = run_tinyai(pytester, "tinyai_bench")
    assert_clean_failure(result)
    result.stdout.fnmatch_lines(lines("odd: fails at 33x32: ", "ONNXRuntimeError"))


def test_an_untrusted_model_fails_its_bench_item_in_one_line(pytester, workspace):
    workspace.add("light", channel_model(), sidecar("light", latency=latency((32, 32))))
    workspace.entries[0]["sha256"] = "0" * 64
    workspace.write_registry()
    result = run_tinyai(pytester, "tinyai_bench")
    assert_clean_failure(result)
    result.stdout.fnmatch_lines(lines("light: not checked: registry trust failed: sha256 mismatch"))
