"""Hostile thresholds: a sidecar may tighten a threshold the ledger records, never loosen or drop it, and the
ledger never takes a number that is not finite."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hostile_builders import HEALTHY, assert_contained, run_hostile
from plugin_builders import CORE_CHECKS, assert_usage_error, ledger_document, with_sidecar

REFERENCE = "trainers.saliency_student.model:saliency_student_v2"
BUDGET = {"relative_to": HEALTHY, "resolution": [8, 8], "max_ratio": 1.3}
LATENCY = {"resolutions": [[8, 8]], "budgets": [BUDGET]}


@pytest.fixture
def ledger(pytester):
    """A ledger recording `bad`'s parity tolerance 1e-5 and its latency budget 1.3x the healthy model at 8x8."""
    path = pytester.path / "ledger.json"
    thresholds = {"parity tolerance": 1e-5, "latency budget 8x8 vs good": 1.3}
    path.write_text(json.dumps(ledger_document(thresholds={"bad": thresholds}, registry="models/registry.json")))
    return path


def run_thresholds(pytester, hostile, ledger, *args):
    selection = ("-m", f"{CORE_CHECKS} or tinyai_thresholds")
    return run_hostile(pytester, hostile, "--tinyai-ledger", str(ledger), *selection, *args)


def test_a_parity_tolerance_looser_than_the_ledger_fails(pytester, hostile, ledger):
    hostile.add("bad", sidecar=with_sidecar("bad", reference=REFERENCE, parity={"tolerance": 0.01}, latency=LATENCY))
    run = run_thresholds(pytester, hostile, ledger)
    assert_contained(run, "bad", "parity tolerance loosened from 1e-05 (ledger) to 0.01")


def test_a_dropped_parity_block_falls_back_to_a_default_that_must_not_be_looser(pytester, hostile, ledger):
    ledger.write_text(ledger.read_text().replace("1e-05", "1e-06"))
    hostile.add("bad", sidecar=with_sidecar("bad", reference=REFERENCE, latency=LATENCY))
    run = run_thresholds(pytester, hostile, ledger)
    assert_contained(run, "bad", "parity tolerance loosened from 1e-06 (ledger) to 1e-05")


def test_a_raised_latency_budget_fails(pytester, hostile, ledger):
    latency = {**LATENCY, "budgets": [{**BUDGET, "max_ratio": 2.0}]}
    hostile.add("bad", sidecar=with_sidecar("bad", reference=REFERENCE, latency=latency))
    run = run_thresholds(pytester, hostile, ledger)
    assert_contained(run, "bad", "latency budget 8x8 vs good loosened from 1.3 (ledger) to 2")


def test_a_dropped_latency_budget_fails(pytester, hostile, ledger):
    hostile.add("bad", sidecar=with_sidecar("bad", reference=REFERENCE))
    run = run_thresholds(pytester, hostile, ledger)
    assert_contained(run, "bad", "latency budget 8x8 vs good vanished: the ledger records 1.3")


def test_a_threshold_the_ledger_does_not_know_fails_until_recorded(pytester, hostile, ledger):
    latency = {**LATENCY, "budgets": [BUDGET, {**BUDGET, "resolution": [16, 16]}]}
    hostile.add("bad", sidecar=with_sidecar("bad", reference=REFERENCE, latency=latency))
    run = run_thresholds(pytester, hostile, ledger)
    assert_contained(run, "bad", "latency budget 16x16 vs good = 1.3 is not recorded in the ledger")


def test_thresholds_recorded_for_another_registry_do_not_cover_a_model_with_the_same_id(pytester, hostile, ledger):
    ledger.write_text(ledger.read_text().replace("models/registry.json", "elsewhere/registry.json"))
    hostile.add("bad", sidecar=with_sidecar("bad", reference=REFERENCE, latency=LATENCY))
    run = run_thresholds(pytester, hostile, ledger)
    assert_contained(run, "bad", "ledger ledger.json: does not govern models/registry.json")


def test_update_ledger_refuses_a_looser_threshold_and_leaves_the_ledger_alone(pytester, hostile, ledger):
    hostile.add("bad", sidecar=with_sidecar("bad", reference=REFERENCE, parity={"tolerance": 0.01}, latency=LATENCY))
    before = ledger.read_text()
    run = run_thresholds(pytester, hostile, ledger, "--tinyai-update-ledger")
    assert ledger.read_text() == before
    run.result.stdout.fnmatch_lines(["*ledger: bad: thresholds NOT updated, the ledger never loosens: parity*"])


def test_update_ledger_records_a_tighter_threshold(pytester, hostile, ledger):
    hostile.add("bad", sidecar=with_sidecar("bad", reference=REFERENCE, parity={"tolerance": 1e-6}, latency=LATENCY))
    run_thresholds(pytester, hostile, ledger, "--tinyai-update-ledger")
    assert recorded_thresholds(ledger)["bad"]["parity tolerance"] == 1e-6


def test_update_ledger_never_records_a_non_finite_floor(pytester, hostile, ledger):
    gate = {"fold": {"name": "f", "content_sha256": "0" * 64}, "metric": "mean_iou@0.5", "floor": 0.5, "claimed": 0.5}
    text = json.dumps(with_sidecar("bad", gate=gate)).replace('"floor": 0.5', '"floor": NaN')
    hostile.add("bad", sidecar=text)
    before = ledger.read_text()
    run = run_thresholds(pytester, hostile, ledger, "--tinyai-update-ledger")
    assert ledger.read_text() == before
    assert_contained(run, "bad", "$.tinyai.gate.floor: NaN is not a finite number")


def test_a_ledger_holding_nan_is_refused(pytester, hostile, ledger):
    ledger.write_text(ledger.read_text().replace("1e-05", "NaN"))
    hostile.add("bad", sidecar=with_sidecar("bad", reference=REFERENCE, latency=LATENCY))
    result = run_thresholds(pytester, hostile, ledger).result
    assert_usage_error(result, "pytest-tinyai: gate ledger * is unreadable: *NaN is not a finite number*")


def recorded_thresholds(ledger: Path) -> dict:
    return json.loads(ledger.read_text())["registries"]["models/registry.json"]["thresholds"]
