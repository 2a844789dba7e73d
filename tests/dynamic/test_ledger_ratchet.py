"""The gate ledger: a sidecar may only tighten what the ledger records; --tinyai-update-ledger never loosens it."""

from __future__ import annotations

import json

import pytest
from dynamic_builders import (
    assert_clean_failure,
    assert_no_internals,
    channel_model,
    ledger_record,
    lines,
    outcomes,
    run_tinyai,
    sidecar,
)
from plugin_builders import ledger_document


def run_gate(pytester, *args):
    return run_tinyai(pytester, "tinyai_gate", *args)


def update_ledger(pytester, *args):
    return run_tinyai(pytester, "tinyai_gate", "--tinyai-update-ledger", *args)


def test_a_sidecar_and_ledger_in_step_pass(pytester, workspace, fold_hash):
    workspace.add_gated("v1", "green", fold_hash=fold_hash, floor=0.7)
    workspace.write_ledger()
    result = run_gate(pytester)
    assert outcomes(result) == {"gate[v1]": "passed"}
    assert_no_internals(result)


def test_a_floor_lowered_below_the_ledger_fails(pytester, workspace, fold_hash):
    block = workspace.add_gated("v1", "green", fold_hash=fold_hash, floor=0.7)
    workspace.write_ledger({"v1": ledger_record(block, floor=0.72)})
    result = run_gate(pytester)
    assert_clean_failure(result)
    result.stdout.fnmatch_lines(lines("v1: ledger ledger.json: floor lowered from 0.72 (ledger) to 0.7"))


def test_a_floor_removed_while_the_ledger_records_one_fails(pytester, workspace, fold_hash):
    workspace.add("v0", channel_model("blue"), sidecar("v0"))
    block = workspace.add_gated("v1", "green", fold_hash=fold_hash, baseline="v0")
    workspace.write_ledger({"v1": ledger_record(block, floor=0.7)})
    result = run_gate(pytester)
    assert_clean_failure(result)
    result.stdout.fnmatch_lines(lines("v1: ledger ledger.json: floor lowered from 0.7 (ledger) to None"))


def test_a_floor_raised_above_the_ledger_passes_without_touching_the_ledger(pytester, workspace, fold_hash):
    block = workspace.add_gated("v1", "green", fold_hash=fold_hash, floor=0.7)
    ledger = workspace.write_ledger({"v1": ledger_record(block, floor=0.6)})
    before = ledger.read_text()
    result = run_gate(pytester)
    assert outcomes(result) == {"gate[v1]": "passed"}
    assert ledger.read_text() == before


def test_a_fold_hash_other_than_the_ledgers_fails(pytester, workspace, fold_hash):
    block = workspace.add_gated("v1", "green", fold_hash=fold_hash, floor=0.7)
    recorded = ledger_record(block)
    recorded["fold"]["content_sha256"] = "a" * 64
    workspace.write_ledger({"v1": recorded})
    result = run_gate(pytester)
    assert_clean_failure(result)
    result.stdout.fnmatch_lines(
        lines(f"v1: ledger ledger.json: fold changed from tiny-fold@{'a' * 12} (ledger) to tiny-fold@{fold_hash[:12]}")
    )


def test_a_fold_name_other_than_the_ledgers_fails(pytester, workspace, fold_hash):
    block = workspace.add_gated("v1", "green", fold_hash=fold_hash, floor=0.7)
    workspace.write_ledger({"v1": ledger_record(block, fold={"name": "old-fold", "content_sha256": fold_hash})})
    result = run_gate(pytester)
    assert_clean_failure(result)
    result.stdout.fnmatch_lines(lines("v1: ledger ledger.json: fold changed from old-fold@", "to tiny-fold@"))


def test_a_metric_other_than_the_ledgers_fails(pytester, workspace, fold_hash):
    # The sidecar schema knows one metric, so the change is seen from a ledger that recorded another.
    block = workspace.add_gated("v1", "green", fold_hash=fold_hash, floor=0.7)
    workspace.write_ledger({"v1": ledger_record(block, metric="mean_iou@0.7")})
    result = run_gate(pytester)
    assert_clean_failure(result)
    result.stdout.fnmatch_lines(
        lines("v1: ledger ledger.json: metric changed from 'mean_iou@0.7' (ledger) to 'mean_iou@0.5'")
    )


def test_a_gate_block_removed_while_the_ledger_has_it_fails_as_vanished(pytester, workspace, fold_hash):
    workspace.add_gated("v1", "green", fold_hash=fold_hash, floor=0.7)
    workspace.write_ledger()
    # Re-register v1 without its gate: the gate item still exists, because the ledger knows the model.
    workspace.entries.clear()
    workspace.add("v1", channel_model("green"), sidecar("v1"))
    result = run_gate(pytester)
    assert_clean_failure(result)
    assert outcomes(result) == {"gate[v1]": "failed"}
    result.stdout.fnmatch_lines(
        lines("v1: ledger ledger.json: gate vanished: the ledger records a gate but the sidecar declares none")
    )


def test_a_baseline_removed_from_the_sidecar_fails(pytester, workspace, fold_hash):
    workspace.add("v0", channel_model("blue"), sidecar("v0"))
    block = workspace.add_gated("v1", "green", fold_hash=fold_hash, floor=0.7)
    workspace.write_ledger({"v1": ledger_record(block, baseline="v0")})
    result = run_gate(pytester)
    assert_clean_failure(result)
    result.stdout.fnmatch_lines(lines("v1: ledger ledger.json: baseline removed (the ledger records 'v0')"))


def test_a_baseline_swapped_for_another_fails(pytester, workspace, fold_hash):
    workspace.add("v0", channel_model("blue"), sidecar("v0"))
    workspace.add("weak", channel_model("blue"), sidecar("weak"))
    block = workspace.add_gated("v1", "green", fold_hash=fold_hash, baseline="weak")
    workspace.write_ledger({"v1": ledger_record(block, baseline="v0")})
    result = run_gate(pytester)
    assert_clean_failure(result)
    result.stdout.fnmatch_lines(lines("v1: ledger ledger.json: baseline changed from 'v0' (ledger) to 'weak'"))


@pytest.mark.parametrize(
    ("ledger", "why"),
    [
        ("empty", "gate is not recorded in the ledger (run with --tinyai-update-ledger)"),
        ("absent", "does not govern registry.json (it governs no registry): record its gates and thresholds with --"),
    ],
    ids=["empty", "absent"],
)
def test_a_gate_missing_from_the_ledger_fails_and_asks_for_update_ledger(pytester, workspace, fold_hash, ledger, why):
    workspace.add_gated("v1", "green", fold_hash=fold_hash, floor=0.7)
    if ledger == "empty":
        workspace.write_ledger({})
    result = run_gate(pytester)
    assert_clean_failure(result)
    result.stdout.fnmatch_lines(lines(f"v1: ledger ledger.json: {why}"))


def test_update_ledger_records_a_new_gate(pytester, workspace, fold_hash):
    workspace.add("v0", channel_model("blue"), sidecar("v0"))
    block = workspace.add_gated("v1", "green", fold_hash=fold_hash, floor=0.7, baseline="v0")
    result = update_ledger(pytester)
    assert outcomes(result) == {"gate[v1]": "passed"}
    result.stdout.fnmatch_lines(lines("ledger: v1: recorded new gate (floor 0.7, baseline v0)"))
    assert workspace.read_ledger() == ledger_document(
        {
            "v1": {
                "metric": "mean_iou@0.5",
                "fold": {"name": "tiny-fold", "content_sha256": fold_hash},
                "floor": 0.7,
                "baseline": "v0",
            }
        }
    )
    assert workspace.read_records()["gates"]["v1"] == ledger_record(block)
    assert outcomes(run_gate(pytester)) == {"gate[v1]": "passed"}


def test_update_ledger_raises_a_floor(pytester, workspace, fold_hash):
    block = workspace.add_gated("v1", "green", fold_hash=fold_hash, floor=0.7)
    workspace.write_ledger({"v1": ledger_record(block, floor=0.6)})
    result = update_ledger(pytester)
    assert outcomes(result) == {"gate[v1]": "passed"}
    result.stdout.fnmatch_lines(lines("ledger: v1: raised the ledger floor to 0.7"))
    assert workspace.read_records()["gates"]["v1"]["floor"] == 0.7


def test_update_ledger_refuses_to_lower_a_floor_and_says_so(pytester, workspace, fold_hash):
    block = workspace.add_gated("v1", "green", fold_hash=fold_hash, floor=0.7)
    ledger = workspace.write_ledger({"v1": ledger_record(block, floor=0.72)})
    before = workspace.read_ledger()
    result = update_ledger(pytester)
    assert_clean_failure(result)
    assert outcomes(result) == {"gate[v1]": "failed"}
    result.stdout.fnmatch_lines(
        lines("ledger: v1: ledger NOT updated, it never loosens: floor lowered from 0.72 (ledger) to 0.7", "by hand")
    )
    assert workspace.read_ledger() == before
    assert ledger.exists()


def test_update_ledger_refuses_to_change_a_fold(pytester, workspace, fold_hash):
    block = workspace.add_gated("v1", "green", fold_hash=fold_hash, floor=0.7)
    recorded = ledger_record(block)
    recorded["fold"]["content_sha256"] = "b" * 64
    workspace.write_ledger({"v1": recorded})
    result = update_ledger(pytester)
    assert_clean_failure(result)
    result.stdout.fnmatch_lines(lines("ledger: v1: ledger NOT updated, it never loosens: fold changed from"))
    assert workspace.read_records()["gates"]["v1"]["fold"]["content_sha256"] == "b" * 64


@pytest.mark.parametrize(
    "text",
    [
        "{not json",
        '{"schema_version": 4, "registries": {}}',
        '{"schema_version": 3}',
        '["gates"]',
        '{"schema_version": 3, "registries": {"/abs/registry.json": {"gates": {}}}}',
        '{"schema_version": 3, "registries": {"' + "x" * 5000 + '": {"gates": {}}}}',
        '{"schema_version": 3, "registries": {"registry.json": {"gates": {"v1": [0.7]}}}}',
    ],
    ids=["not-json", "future-version", "no-registries", "not-an-object", "absolute-key", "huge-key", "record-a-list"],
)
def test_an_unreadable_ledger_stops_the_run_once_as_a_usage_error(pytester, workspace, fold_hash, text):
    workspace.add_gated("v1", "green", fold_hash=fold_hash, floor=0.7)
    workspace.ledger_path.write_text(text)
    result = run_gate(pytester)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert_no_internals(result)
    result.stderr.fnmatch_lines(lines("ERROR: pytest-tinyai: gate ledger ", "json is unreadable"))


def test_update_ledger_leaves_an_unreadable_ledger_alone_and_says_why(pytester, workspace, fold_hash):
    workspace.add_gated("v1", "green", fold_hash=fold_hash, floor=0.7)
    workspace.ledger_path.write_text("{not json")
    result = update_ledger(pytester)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert workspace.ledger_path.read_text() == "{not json"
    result.stderr.fnmatch_lines(lines("ERROR: pytest-tinyai: gate ledger ", "ledger.json is unreadable"))


def test_update_ledger_records_a_baseline_added_to_a_recorded_gate(pytester, workspace, fold_hash):
    workspace.add("v0", channel_model("blue"), sidecar("v0"))
    block = workspace.add_gated("v1", "green", fold_hash=fold_hash, floor=0.7, baseline="v0")
    workspace.write_ledger({"v1": ledger_record(block, baseline=None)})
    result = update_ledger(pytester)
    assert outcomes(result) == {"gate[v1]": "passed"}
    result.stdout.fnmatch_lines(lines("ledger: v1: recorded baseline 'v0'"))
    assert workspace.read_records()["gates"]["v1"] == ledger_record(block)


def test_update_ledger_records_a_raised_floor_and_an_added_baseline_together(pytester, workspace, fold_hash):
    workspace.add("v0", channel_model("blue"), sidecar("v0"))
    block = workspace.add_gated("v1", "green", fold_hash=fold_hash, floor=0.7, baseline="v0")
    workspace.write_ledger({"v1": ledger_record(block, floor=0.6, baseline=None)})
    result = update_ledger(pytester)
    assert outcomes(result) == {"gate[v1]": "passed"}
    assert workspace.read_records()["gates"]["v1"] == ledger_record(block)
    result.stdout.fnmatch_lines(lines("ledger: v1: raised the ledger floor to 0.7", "recorded baseline 'v0'"))


def test_a_ledger_record_whose_model_left_the_registry_fails_so_a_rename_cannot_shed_its_gate(
    pytester, workspace, fold_hash
):
    block = workspace.add_gated("v1", "green", fold_hash=fold_hash, floor=0.7)
    workspace.write_ledger({"v1_old": ledger_record(block, floor=0.74), "v1": ledger_record(block)})
    result = run_gate(pytester)
    assert_clean_failure(result)
    assert outcomes(result) == {"gate[v1]": "passed", "gate[v1_old]": "failed"}
    result.stdout.fnmatch_lines(
        lines("v1_old: ledger ledger.json: records a gate or thresholds for a model that its registry no longer holds")
    )


def test_a_ledger_keyed_by_model_id_alone_is_refused_with_how_to_bind_it(pytester, workspace, fold_hash):
    workspace.add_gated("v1", "green", fold_hash=fold_hash, floor=0.7)
    workspace.ledger_path.write_text('{"schema_version": 2, "gates": {}, "thresholds": {}}')
    result = run_gate(pytester)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        lines("schema_version 2 records gates by model id for any registry", "under 'registries' ->")
    )


def another_registry(workspace, folder: str = "other") -> str:
    """An empty registry `folder/registry.json` beside ./registry.json; its name in the ledger."""
    (workspace.root / folder).mkdir()
    (workspace.root / folder / "registry.json").write_text('{"schema_version": 1, "models": []}')
    return f"{folder}/registry.json"


def write_sections(workspace, sections: dict[str, dict]) -> None:
    registries = {key: {"gates": gates, "thresholds": {}} for key, gates in sections.items()}
    workspace.ledger_path.write_text(json.dumps({"schema_version": 3, "registries": registries}))


def test_a_model_is_held_to_its_own_registrys_record_not_to_another_registrys_with_the_same_id(
    pytester, workspace, fold_hash
):
    block = workspace.add_gated("v1", "green", fold_hash=fold_hash, floor=0.7)
    other = another_registry(workspace)
    stricter = ledger_record(block, floor=0.99)
    write_sections(workspace, {"registry.json": {"v1": ledger_record(block)}, other: {"v1": stricter}})
    assert outcomes(run_gate(pytester)) == {"gate[v1]": "passed"}


def test_a_registry_the_ledger_does_not_govern_fails_its_gates_and_names_those_it_governs(
    pytester, workspace, fold_hash
):
    block = workspace.add_gated("v1", "green", fold_hash=fold_hash, floor=0.7)
    other = another_registry(workspace)
    write_sections(workspace, {other: {"v1": ledger_record(block)}})
    result = run_gate(pytester)
    assert_clean_failure(result)
    result.stdout.fnmatch_lines(
        lines("v1: ledger ledger.json: does not govern registry.json (it governs other/registry.json)", "--tinyai-")
    )


def test_update_ledger_binds_a_new_registry_beside_the_ones_it_governs(pytester, workspace, fold_hash):
    block = workspace.add_gated("v1", "green", fold_hash=fold_hash, floor=0.7)
    other = another_registry(workspace)
    write_sections(workspace, {other: {"v1": ledger_record(block, floor=0.99)}})
    update_ledger(pytester)
    assert workspace.read_records()["gates"] == {"v1": ledger_record(block)}
    assert workspace.read_ledger()["registries"][other]["gates"]["v1"]["floor"] == 0.99
    assert outcomes(run_gate(pytester)) == {"gate[v1]": "passed"}


def test_a_governed_registry_that_no_longer_exists_fails_so_a_move_cannot_shed_its_records(
    pytester, workspace, fold_hash
):
    block = workspace.add_gated("v1", "green", fold_hash=fold_hash, floor=0.7)
    record = ledger_record(block)
    write_sections(workspace, {"registry.json": {"v1": record}, "moved/registry.json": {"v1": record}})
    result = run_gate(pytester)
    assert_clean_failure(result)
    assert outcomes(result) == {"gate[v1]": "passed", "ledger[moved/registry.json]": "failed"}
    result.stdout.fnmatch_lines(lines("ledger ledger.json: governs moved/registry.json, which no longer exists"))
