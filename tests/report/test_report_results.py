"""The results document (pytest_tinyai.results): items' outcomes from their reports' phases, records held to the
schema, numbers that are not finite as null, text cut; the document validates against specs/results.schema.json."""

from __future__ import annotations

import math

import jsonschema
import pytest
from report_builders import GATE_RECORD

from pytest_tinyai.results import MAX_LINES, ItemLog, Phase, results_document, schema_problem
from pytest_tinyai.specs import json_schema

HEADER = {"registries": [{"path": "/r/registry.json", "commit": None}], "versions": {}, "machine": {}}
GATE = GATE_RECORD | {"floor": None}


def log(name: str, *phases: Phase, check: str = "gate", model: str | None = "v2") -> ItemLog:
    return ItemLog(f"registry.json::{name}", name, check, model, list(phases))


def phase(when: str = "call", outcome: str = "passed", text: str = "", wasxfail: str | None = None, **found):
    return Phase(when, outcome, text, tuple(found.items()), wasxfail)


def document(*logs: ItemLog) -> dict:
    built = results_document(logs, HEADER).document
    jsonschema.validate(built, json_schema("results.schema.json"))
    return built


@pytest.mark.parametrize(
    ("phases", "outcome"),
    [
        ((phase("setup"), phase(), phase("teardown")), "passed"),
        ((phase("setup"), phase(outcome="failed", text="v2: bad"), phase("teardown")), "failed"),
        ((phase("setup", "failed", "fixture broke"), phase("teardown")), "error"),
        ((phase("setup"), phase(), phase("teardown", "failed", "teardown broke")), "error"),
        ((phase("setup", "skipped", "v2: gate not run: fold missing"), phase("teardown")), "skipped"),
        ((phase("setup"), phase(outcome="skipped", wasxfail="proposed"), phase("teardown")), "xfailed"),
        ((phase("setup"), phase(outcome="failed", wasxfail="proposed"), phase("teardown")), "xpassed"),
    ],
)
def test_an_items_outcome_is_decided_by_its_phases_as_pytest_reports_them(phases, outcome):
    assert log("gate[v2]", *phases).outcome == outcome


def test_a_gate_record_with_its_fold_becomes_a_gate_entry_and_its_pictures_stay_beside_the_document():
    sample = {
        "label": "s2",
        "score": 0.0,
        "baseline_score": 1.0,
        "image": "AAAA",
        "truth": "AAAA",
        "prediction": "AA==",
    }
    fold = {"samples": 4, "scores": [1.0, 1.0, 0.0, 0.0], "worst": [sample]}
    found = {"tinyai_gate_result": GATE, "tinyai_gate_attachment": fold, "iou": 0.5, "margin": -0.25}
    results = results_document([log("gate[v2]", phase(outcome="failed", text="v2: below", **found))], HEADER)
    (gate,) = results.document["gates"]
    assert gate == {
        "nodeid": "registry.json::gate[v2]",
        "outcome": "failed",
        "record": GATE,
        "fold": {
            "samples": 4,
            "scores": [1.0, 1.0, 0.0, 0.0],
            "worst": [{"label": "s2", "score": 0.0, "baseline_score": 1.0}],
        },
    }
    assert results.pictures == {"registry.json::gate[v2]": [sample]}
    (item,) = results.document["items"]
    assert item["properties"] == {"iou": 0.5, "margin": -0.25}
    assert item["lines"] == ["v2: below"]


def test_numbers_that_are_not_finite_are_null_in_the_document():
    record = GATE | {"baseline": None, "baseline_measured": None, "margin": math.nan}
    found = {"tinyai_gate_result": record, "iou": math.inf}
    built = document(log("gate[v2]", phase(**found)))
    assert built["gates"][0]["record"]["margin"] is None
    assert built["items"][0]["properties"] == {"iou": None}


@pytest.mark.parametrize(
    ("found", "problem", "gates"),
    [
        ({"tinyai_gate_result": GATE | {"measured": "high"}}, "tinyai_gate_result: measured: 'high' is not of", 0),
        ({"tinyai_gate_result": ["not", "a", "record"]}, "tinyai_gate_result: record: ['not', 'a', 'record']", 0),
        (
            {"tinyai_gate_result": GATE, "tinyai_gate_attachment": {"samples": 1, "worst": [{"label": "s"}]}},
            "tinyai_gate_attachment: worst/0: 'score' is a required property",
            1,  # the gate's numbers, without its fold
        ),
        ({"iou": "0.5"}, "property 'iou' is str, not a number", 0),
        ({"tinyai_latency_budget_result": {"model": "m"}}, "tinyai_latency_budget_result: record: 'relative_to'", 0),
    ],
)
def test_a_record_that_breaks_its_schema_marks_its_item_malformed_and_is_left_out(found, problem, gates):
    check = "latency_budget" if "tinyai_latency_budget_result" in found else "gate"
    built = document(log("x[v2]", phase(**found), check=check))
    (item,) = built["items"]
    assert item["malformed"][0].startswith(problem), item["malformed"]
    assert [gate["fold"] for gate in built["gates"]] == [None] * gates
    assert built["budgets"] == []


def test_a_long_failure_is_cut_to_its_first_lines_and_says_how_many_were_left_out():
    text = "\n".join(f"v2: finding {index}" for index in range(MAX_LINES + 25))
    (item,) = document(log("allowlist[v2]", phase(outcome="failed", text=text), check="allowlist"))["items"]
    assert len(item["lines"]) == MAX_LINES and item["lines_left_out"] == 25


def test_text_from_a_registry_is_escaped_to_one_printable_line_and_cut():
    text = "v2: op '\x1b[31mred\x1b[0m'\r\nforged: line" + "x" * 2000
    (item,) = document(log("allowlist[v2]", phase(outcome="failed", text=text), check="allowlist"))["items"]
    assert item["lines"][0] == "v2: op '\\x1b[31mred\\x1b[0m'"
    assert item["lines"][1].endswith("(2,012 characters)") and len(item["lines"][1]) < 600


def test_an_item_of_the_registry_file_itself_has_no_model():
    (item,) = document(log("registry[registry.json]", phase(outcome="failed", text="bad"), model=None))["items"]
    assert item["model"] is None


def test_a_bench_record_and_a_budget_record_give_one_latency_row_per_model_timed():
    budget = {
        "model": "v2",
        "relative_to": "v1",
        "resolution": "256x256",
        "max_ratio": 1.3,
        "ratio": 1.2,
        "low": 1.1,
        "high": 1.25,
        "pairs": 30,
        "verdict": "pass",
        "median_ms": 12.0,
        "relative_to_median_ms": 10.0,
    }
    bench = {"model": "v2", "resolution": "256x256", "median_ms": 11.5, "rounds": 40}
    built = document(
        log("bench[v2-256x256]", phase(tinyai_bench_result=bench), check="bench"),
        log("latency_budget[v2-256x256-vs-v1]", phase(tinyai_latency_budget_result=budget), check="latency_budget"),
    )
    assert [(row["model"], row["median_ms"], row["source"]) for row in built["latency"]] == [
        ("v2", 11.5, "bench"),
        ("v2", 12.0, "latency_budget"),
        ("v1", 10.0, "latency_budget"),
    ]
    assert built["budgets"][0]["record"] == budget


def test_the_schema_names_what_breaks_it():
    assert schema_problem({"model": "m", "resolution": "big", "median_ms": 1.0}, "bench_record") == (
        "resolution: 'big' does not match '^[0-9]{1,6}x[0-9]{1,6}$'"
    )
    assert schema_problem({"model": "m", "resolution": "8x8", "median_ms": 1.0}, "bench_record") is None
