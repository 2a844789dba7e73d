"""Hostile input and the conformance report: text a registry controls (a fold's file names, a graph's op types)
reaches the page escaped and the JSON cut, and results that arrive malformed (as from a broken worker or plugin)
are shown as malformed, never an INTERNALERROR; the rest of the report is still written."""

from __future__ import annotations

import re
import textwrap

import jsonschema
import pytest
from dynamic_builders import assert_no_internals, channel_model
from report_builders import RESULTS, page, results, run_report

from pytest_tinyai.dataset import content_hash
from pytest_tinyai.specs import json_schema

MARKUP = "<img src=x onerror=alert(1)>"


def test_markup_in_a_folds_file_names_and_a_graphs_op_types_is_shown_escaped(pytester, workspace):
    fold = workspace.fold()
    workspace.write_fold()
    for folder in ("Image", "Mask"):
        (fold / folder / "s0.png").rename(fold / folder / f"{MARKUP}.png")
    workspace.add_gated("v1", "blue", fold_hash=content_hash(fold), floor=0.1)
    workspace.write_ledger()
    forged = channel_model()
    forged.graph.node[0].op_type = "<script>alert(1)</script>"
    workspace.add("forged", forged)
    result = run_report(pytester, "tinyai_gate or tinyai_allowlist")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    assert_no_internals(result)
    shown = page(pytester.path)
    assert "<script" not in shown
    assert all(source.startswith("figures/") for source in re.findall(r'<img src="([^"]*)"', shown))
    assert "op &#x27;&lt;script&gt;alert(1)&lt;/script&gt;&#x27;" in shown
    labels = [sample["label"] for sample in results(pytester.path)["gates"][0]["fold"]["worst"]]
    assert MARKUP in labels


TAMPER = textwrap.dedent(
    """
    import pytest

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(item, call):
        report = yield
        properties = dict(report.user_properties)
        if report.when == "call" and properties.get("tinyai_model") == "v2":
            properties["tinyai_gate_result"] = {"measured": "high"}
            properties["iou"] = [1, 2]
        if report.when == "call" and properties.get("tinyai_model") == "v1":
            for sample in properties["tinyai_gate_attachment"]["worst"]:
                sample["prediction"] = "AAAA"
        report.user_properties = list(properties.items())
        return report
    """
)


def test_results_that_arrive_malformed_are_shown_as_such_and_the_rest_is_still_reported(pytester, workspace, fold_hash):
    workspace.add_gated("v1", "green", fold_hash=fold_hash, floor=0.5)
    workspace.add_gated("v2", "blue", fold_hash=fold_hash, floor=0.4, baseline="v1")
    workspace.write_ledger()
    (pytester.path / "plugins").mkdir()
    (pytester.path / "plugins" / "tamper.py").write_text(TAMPER)
    pytester.syspathinsert(pytester.path / "plugins")
    result = run_report(pytester, "tinyai_gate", "-p", "tamper")
    assert result.ret == pytest.ExitCode.TESTS_FAILED  # v2 is below its baseline
    assert_no_internals(result)
    document = results(pytester.path)
    jsonschema.validate(document, json_schema("results.schema.json"))
    malformed = {item["name"]: item.get("malformed") for item in document["items"]}
    assert malformed["gate[v1]"] is None
    assert malformed["gate[v2]"] == [
        "property 'iou' is list, not a number",
        "tinyai_gate_result: record: 'model' is a required property",
    ]
    assert [gate["record"]["model"] for gate in document["gates"]] == ["v1"]
    shown = page(pytester.path)
    assert "malformed results</span> <code>registry.json::gate[v2]</code>" in shown
    assert "figure not drawn: ValueError: a tile is not a PNG or JPEG picture" in shown
    assert '<img src="figures/gate-0-histogram.png"' in shown
    assert (pytester.path / RESULTS).is_file()
