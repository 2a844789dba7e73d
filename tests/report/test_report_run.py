"""--tinyai-report and --tinyai-json on small registries: what a reviewer finds there without the terminal, a
failing gate and a failing budget included, alone and under xdist; JUnit XML's measured values.

The fold's channels encode its masks (see dynamic_builders): a model thresholding green scores 1, 1, 1, 0 on its
four images (0.75), one thresholding blue 1, 1, 0, 0 (0.5).
"""

from __future__ import annotations

import sys
import xml.etree.ElementTree as ET

import pytest
from dynamic_builders import assert_clean_failure, assert_no_internals, lines, outcomes
from report_builders import (
    REPORT,
    RESULTS,
    add_budgeted_pair,
    add_failing_gate,
    blank,
    by_model,
    figures,
    item,
    page,
    page_text,
    results,
    run_report,
)


@pytest.fixture
def failing_gate(workspace, fold_hash):
    add_failing_gate(workspace, fold_hash)


def test_a_failing_gate_is_in_the_results_with_its_numbers_every_sample_and_the_worst_samples(pytester, failing_gate):
    result = run_report(pytester, "tinyai_gate")
    assert_clean_failure(result)
    gates = by_model(results(pytester.path)["gates"])
    assert gates["v2"]["outcome"] == "failed"
    assert gates["v2"]["record"] | {"margin": round(gates["v2"]["record"]["margin"], 6)} == {
        "model": "v2",
        "fold": "tiny-fold",
        "metric": "mean_iou@0.5",
        "measured": 0.5,
        "baseline": "v1",
        "baseline_measured": 0.75,
        "floor": 0.4,
        "claimed": 0.5,
        "margin": -0.25,
    }
    fold = gates["v2"]["fold"]
    assert fold["samples"] == 4
    assert fold["scores"] == [1.0, 1.0, 0.0, 0.0]
    assert fold["baseline_scores"] == [1.0, 1.0, 1.0, 0.0]
    assert [(s["label"], s["score"], s["baseline_score"]) for s in fold["worst"]] == [
        ("s2", 0.0, 1.0),
        ("s3", 0.0, 0.0),
        ("s0", 1.0, 1.0),
        ("s1", 1.0, 1.0),
    ]
    assert "image" not in fold["worst"][0]  # the pictures are the page's; the document holds numbers


def test_a_failing_gate_is_on_the_page_with_its_finding_its_numbers_and_its_pictures(pytester, failing_gate):
    assert_clean_failure(run_report(pytester, "tinyai_gate"))
    text = page_text(pytester.path)
    assert "tinyai conformance report failed" in text
    assert "v2: mean_iou@0.5 0.5000 < baseline v1 0.7500 on fold 'tiny-fold' (margin -0.2500)" in text
    assert "measured 0.5000 baseline v1 0.7500 floor 0.400 claimed 0.5000 (off by 0.0000) margin -0.2500" in text
    assert "The 4 worst held-out samples" in text
    shown = figures(pytester.path)
    assert set(shown) == {
        "figures/gate-0-histogram.png",
        "figures/gate-0-worst.png",
        "figures/gate-1-histogram.png",
        "figures/gate-1-worst.png",
    }
    assert not any(blank(picture) for picture in shown.values())


def test_a_failing_budget_is_in_the_report_with_its_ratio_interval_chart_and_the_latencies(pytester, workspace):
    add_budgeted_pair(workspace, max_ratio=1.0)
    result = run_report(pytester, "tinyai_bench")
    assert_clean_failure(result)
    document = results(pytester.path)
    budget = by_model(document["budgets"])["heavy"]
    assert budget["outcome"] == "failed"
    record = budget["record"]
    assert record["verdict"] == "fail"
    assert 1.0 < record["low"] <= record["ratio"] <= record["high"]
    assert record["median_ms"] > record["relative_to_median_ms"] > 0
    timed = {(entry["model"], entry["source"]) for entry in document["latency"]}
    assert timed == {("light", "bench"), ("heavy", "bench"), ("heavy", "latency_budget"), ("light", "latency_budget")}
    text = page_text(pytester.path)
    assert "heavy: latency at 64x64 is" in text and "over the budget of 1.0x" in text
    interval = f"[{record['low']:.3f}, {record['high']:.3f}] 1.00x fail"
    assert f"heavy light 64x64 {record['ratio']:.3f}x {interval}" in text
    shown = figures(pytester.path)
    assert set(shown) == {"figures/latency.png", "figures/budgets.png"}
    assert not any(blank(picture) for picture in shown.values())


def test_the_outcome_grid_has_a_row_per_model_and_a_column_per_check_linking_each_failure(pytester, failing_gate):
    run_report(pytester, "tinyai_gate or tinyai_registry")
    grid = page(pytester.path).split('<table class="grid">')[1].split("</table>")[0]
    assert ">registry</th>" in grid and ">gate</th>" in grid
    assert grid.count("<tr>") == 3  # the header and v1, v2
    document = results(pytester.path)
    failed = document["items"].index(item(document, "gate[v2]"))
    assert f'<a href="#item-{failed}">' in grid
    assert f'id="item-{failed}"' in page(pytester.path)


def test_junit_xml_carries_each_items_measured_values_and_never_the_pictures(pytester, failing_gate, workspace):
    add_budgeted_pair(workspace, max_ratio=1.0)
    run_report(pytester, "tinyai_gate or tinyai_bench", "--junitxml", "junit.xml")
    cases = {
        case.get("name"): {p.get("name"): p.get("value") for p in case.iter("property")}
        for case in ET.parse(pytester.path / "junit.xml").iter("testcase")
    }
    gate = cases["gate[v2]"]
    assert (float(gate["iou"]), float(gate["baseline_iou"]), round(float(gate["margin"]), 6)) == (0.5, 0.75, -0.25)
    assert "tinyai_gate_attachment" not in gate and "tinyai_gate_result" in gate
    assert float(cases["gate[v1]"]["iou"]) == 0.75 and "baseline_iou" not in cases["gate[v1]"]
    budget = cases["latency_budget[heavy-64x64-vs-light]"]
    assert float(budget["ratio"]) > 1.0 and float(budget["median_ms"]) > 0
    assert float(cases["bench[light-64x64]"]["median_ms"]) > 0


def test_under_xdist_the_controller_writes_one_report_with_the_workers_pictures(pytester, failing_gate, workspace):
    add_budgeted_pair(workspace, max_ratio=1.0)
    result = pytester.runpytest_subprocess(
        "--tinyai-registry", "registry.json", "--tinyai-ledger", "ledger.json", "-p", "no:cacheprovider",
        "-m", "tinyai_gate or tinyai_bench", "-n", "2", "--dist", "loadgroup",
        "--tinyai-report", REPORT, "--tinyai-json", RESULTS,
    )  # fmt: skip
    assert result.ret == pytest.ExitCode.TESTS_FAILED, result.stdout.str()
    assert_no_internals(result)
    document = results(pytester.path)
    assert document["header"]["workers"] == 2
    assert item(document, "gate[v2]")["lines"] == [
        "v2: mean_iou@0.5 0.5000 < baseline v1 0.7500 on fold 'tiny-fold' (margin -0.2500)"
    ]
    assert item(document, "bench[light-64x64]")["lines"] == [
        "light at 64x64: pytest-benchmark is disabled (under xdist or --benchmark-disable): nothing was timed"
    ]
    assert len(by_model(document["gates"])["v2"]["fold"]["worst"]) == 4
    assert by_model(document["budgets"])["heavy"]["record"]["verdict"] == "fail"
    shown = figures(pytester.path)
    assert {"figures/gate-1-worst.png", "figures/budgets.png"} <= set(shown)
    assert not any(blank(picture) for picture in shown.values())
    result.stdout.fnmatch_lines([f"tinyai report: {pytester.path / REPORT / 'index.html'}"])


def test_asking_for_a_report_without_matplotlib_is_a_usage_error_naming_the_extra(pytester, failing_gate, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib raises ImportError
    result = run_report(pytester, "tinyai_gate")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(lines("--tinyai-report needs matplotlib", "pip install 'pytest-tinyai[report]'"))


def test_without_a_report_the_plugin_needs_no_matplotlib_and_pictures_nothing(pytester, failing_gate, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    result = run_report(pytester, "tinyai_gate", "--tinyai-report", "")  # the last one given wins: none
    assert outcomes(result) == {"gate[v1]": "passed", "gate[v2]": "failed"}
    assert not (pytester.path / REPORT).exists()
    assert by_model(results(pytester.path)["gates"])["v2"]["fold"] is None
