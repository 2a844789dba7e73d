"""Held-out gate (`tinyai_gate`): re-measured IoU against baseline, floor and claim; fold pinning; status rules.

The fold's channels encode its masks, so a model thresholding red measures 1.0, green 0.75, blue 0.5.
Every test here writes a ledger in step with the sidecars, so only the rule under test can fail.
"""

from __future__ import annotations

import json
import shutil

import pytest
from dynamic_builders import (
    FOLD,
    assert_clean_failure,
    assert_no_internals,
    channel_model,
    gate,
    ledger_record,
    lines,
    odd_height_crash_model,
    outcomes,
    run_tinyai,
    sidecar,
)

from pytest_tinyai.dataset import content_hash


def run_gate(pytester, *args):
    return run_tinyai(pytester, "tinyai_gate", "-rxX", *args)


def test_a_model_meeting_baseline_floor_and_claim_passes_and_the_summary_prints_its_gate(
    pytester, workspace, fold_hash
):
    workspace.add_gated("v1", "green", fold_hash=fold_hash, floor=0.7, status="production", role="saliency")
    workspace.add_gated("v2", "red", fold_hash=fold_hash, floor=0.9, baseline="v1", status="proposed", role="saliency")
    workspace.write_ledger()
    result = run_gate(pytester)
    assert outcomes(result) == {"gate[v1]": "passed", "gate[v2]": "passed"}
    assert result.ret == 0
    result.stdout.fnmatch_lines(
        [
            "*gates (each measured on its held-out fold with its metric):*",
            *lines("model", "measured", "baseline", "floor", "margin", "fold"),
            *lines("v1", "0.7500", " - ", "0.700", "+0.0500", FOLD),
            *lines("v2", "1.0000", "v1 0.7500", "0.900", "+0.1000", FOLD),
        ]
    )
    assert_no_internals(result)


def test_a_production_model_below_its_baseline_fails_with_both_numbers(pytester, workspace, fold_hash):
    workspace.add_gated("v1", "green", fold_hash=fold_hash, floor=0.5)
    workspace.add_gated("v2", "blue", fold_hash=fold_hash, floor=0.4, baseline="v1", status="production", role="s")
    workspace.write_ledger()
    result = run_gate(pytester)
    assert_clean_failure(result)
    assert outcomes(result) == {"gate[v1]": "passed", "gate[v2]": "failed"}
    result.stdout.fnmatch_lines(
        lines("v2: mean_iou@0.5 0.5000 < baseline v1 0.7500 on fold 'tiny-fold' (margin -0.2500)")
    )


def test_a_model_below_its_floor_fails(pytester, workspace, fold_hash):
    workspace.add_gated("v1", "green", fold_hash=fold_hash, floor=0.8)
    workspace.write_ledger()
    result = run_gate(pytester)
    assert_clean_failure(result)
    result.stdout.fnmatch_lines(lines("v1: mean_iou@0.5 0.7500 < floor 0.8 on fold 'tiny-fold'"))


@pytest.mark.parametrize("claimed", [0.76, 0.74, 0.7521])
def test_a_claim_off_by_more_than_0_002_fails(pytester, workspace, fold_hash, claimed):
    workspace.add_gated("v1", "green", fold_hash=fold_hash, floor=0.5, claimed=claimed)
    workspace.write_ledger()
    result = run_gate(pytester)
    assert_clean_failure(result)
    result.stdout.fnmatch_lines(lines(f"v1: claims mean_iou@0.5 {claimed} but measures 0.7500 (|difference| ", "> 0.0"))


@pytest.mark.parametrize("claimed", [0.7519, 0.7481, 0.752, 0.748])
def test_a_claim_within_0_002_of_the_measured_value_passes(pytester, workspace, fold_hash, claimed):
    workspace.add_gated("v1", "green", fold_hash=fold_hash, floor=0.5, claimed=claimed)
    workspace.write_ledger()
    result = run_gate(pytester)
    assert outcomes(result) == {"gate[v1]": "passed"}


def test_a_changed_fold_fails_its_content_hash(pytester, workspace, fold_hash):
    workspace.add_gated("v1", "green", fold_hash=fold_hash, floor=0.5)
    workspace.write_ledger()
    workspace.touch_mask_pixel()
    changed = content_hash(workspace.fold())
    assert changed != fold_hash
    result = run_gate(pytester)
    assert_clean_failure(result)
    result.stdout.fnmatch_lines(
        lines(f"v1: fold 'tiny-fold' content hash is {changed}, the gate pins {fold_hash}: not evaluated")
    )


def test_a_missing_fold_fails_the_gate(pytester, workspace):
    workspace.add_gated("v1", "green", fold_hash="0" * 64, floor=0.5)
    workspace.write_ledger()
    result = run_gate(pytester)
    assert_clean_failure(result)
    result.stdout.fnmatch_lines(
        lines("v1: fold 'tiny-fold' is missing at ", "folds/tiny-fold (point --tinyai-data-dir at it, or pass")
    )


def test_allow_missing_data_skips_a_missing_fold_and_says_so_in_the_summary(pytester, workspace):
    workspace.add_gated("v1", "green", fold_hash="0" * 64, floor=0.5)
    workspace.write_ledger()
    result = run_gate(pytester, "--tinyai-allow-missing-data")
    assert outcomes(result) == {"gate[v1]": "skipped"}
    assert result.ret == 0
    result.stdout.fnmatch_lines(
        [
            "*1 gates NOT evaluated (--tinyai-allow-missing-data):*",
            *lines("v1: gate not run: fold 'tiny-fold' is missing at "),
        ]
    )
    assert_no_internals(result)


def test_data_dir_points_the_gate_at_a_fold_elsewhere(pytester, workspace, fold_hash):
    workspace.add_gated("v1", "green", fold_hash=fold_hash, floor=0.5)
    workspace.write_ledger()
    shutil.move(workspace.fold(), pytester.path / "elsewhere" / FOLD)
    assert outcomes(run_gate(pytester)) == {"gate[v1]": "failed"}
    result = run_gate(pytester, "--tinyai-data-dir", "elsewhere")
    assert outcomes(result) == {"gate[v1]": "passed"}


def test_a_proposed_gate_failed_model_that_misses_its_gate_is_a_strict_xfail_and_the_run_passes(
    pytester, workspace, fold_hash
):
    workspace.add_gated("v1", "green", fold_hash=fold_hash, floor=0.5, status="production", role="saliency")
    workspace.add_gated(
        "v2",
        "blue",
        fold_hash=fold_hash,
        baseline="v1",
        status="proposed",
        role="saliency",
        gate_failed="measured 0.50 < v1 0.75 on tiny-fold",
    )
    workspace.write_ledger()
    result = run_gate(pytester)
    assert outcomes(result) == {"gate[v1]": "passed", "gate[v2]": "xfailed"}
    assert result.ret == 0
    result.stdout.fnmatch_lines(lines("XFAIL", "gate[v2]", "proposed, gate failed: measured 0.50 < v1 0.75"))
    assert_no_internals(result)


def test_a_proposed_gate_failed_model_that_now_passes_fails_the_run_and_asks_for_promotion(
    pytester, workspace, fold_hash
):
    workspace.add_gated("v1", "green", fold_hash=fold_hash, floor=0.5, status="production", role="saliency")
    workspace.add_gated(
        "v2",
        "red",
        fold_hash=fold_hash,
        baseline="v1",
        status="proposed",
        role="saliency",
        gate_failed="measured 0.50 < v1 0.75 on tiny-fold",
    )
    workspace.write_ledger()
    result = run_gate(pytester)
    assert_clean_failure(result)
    assert outcomes(result) == {"gate[v1]": "passed", "gate[v2]": "failed"}
    result.stdout.fnmatch_lines(
        [
            "*_ gate[[]v2] _*",
            *lines("[XPASS(strict)] proposed, gate failed: ", "promote it: set status 'production' and drop"),
        ]
    )


def test_two_production_models_with_one_role_fail(pytester, workspace, fold_hash):
    workspace.add_gated("v1", "green", fold_hash=fold_hash, floor=0.5, status="production", role="saliency")
    workspace.add_gated("v2", "red", fold_hash=fold_hash, baseline="v1", status="production", role="saliency")
    workspace.write_ledger()
    result = run_gate(pytester)
    assert_clean_failure(result)
    assert outcomes(result) == {"gate[v1]": "failed", "gate[v2]": "failed"}
    result.stdout.fnmatch_lines(lines("v1: role 'saliency' has more than one production model: v1, v2"))
    result.stdout.fnmatch_lines(lines("v2: role 'saliency' has more than one production model: v2, v1"))


def test_production_models_with_different_roles_pass(pytester, workspace, fold_hash):
    workspace.add_gated("v1", "green", fold_hash=fold_hash, floor=0.5, status="production", role="saliency")
    workspace.add_gated("v2", "red", fold_hash=fold_hash, floor=0.5, status="production", role="matting")
    workspace.write_ledger()
    assert outcomes(run_gate(pytester)) == {"gate[v1]": "passed", "gate[v2]": "passed"}


def test_a_production_model_recording_gate_failed_fails(pytester, workspace, fold_hash):
    workspace.add_gated(
        "v1", "red", fold_hash=fold_hash, floor=0.5, status="production", role="saliency", gate_failed="missed v0"
    )
    workspace.write_ledger()
    result = run_gate(pytester)
    assert_clean_failure(result)
    result.stdout.fnmatch_lines(lines("v1: status is production but the gate records gate_failed: 'missed v0'"))


def test_a_baseline_that_is_not_in_the_registry_fails(pytester, workspace, fold_hash):
    workspace.add_gated("v2", "red", fold_hash=fold_hash, baseline="ghost")
    workspace.write_ledger()
    result = run_gate(pytester)
    assert_clean_failure(result)
    result.stdout.fnmatch_lines(lines("v2: baseline 'ghost' is not a model of this registry"))
    # The summary still shows the gate, with the baseline that could not be measured (and no margin).
    result.stdout.fnmatch_lines(lines("v2", "1.0000", "ghost unmeasured", " - ", " - ", FOLD))


def test_a_baseline_without_a_gate_of_its_own_is_measured_live(pytester, workspace, fold_hash):
    # The baseline is scored on the gated model's fold even though it declares no gate itself.
    workspace.add("v1", channel_model("blue"), sidecar("v1"))
    block = gate(0.75, fold_hash=fold_hash, baseline="v1")
    workspace.add("v2", channel_model("green"), sidecar("v2", gate=block))
    workspace.write_ledger({"v2": ledger_record(block)})
    result = run_gate(pytester)
    assert outcomes(result) == {"gate[v2]": "passed"}
    result.stdout.fnmatch_lines(lines("v2", "0.7500", "v1 0.5000", "-", "+0.2500", FOLD))


def test_a_fold_with_a_broken_layout_fails_the_gate_clearly(pytester, workspace, fold_hash):
    workspace.add_gated("v1", "green", fold_hash=fold_hash, floor=0.5)
    workspace.write_ledger()
    (workspace.fold() / "Mask" / "s1.png").unlink()
    result = run_gate(pytester)
    assert_clean_failure(result)
    result.stdout.fnmatch_lines(
        lines("v1: gate not evaluated: fold 'tiny-fold' cannot be read: ", "1 of 4 images have no mask")
    )


def test_a_model_that_cannot_run_the_fold_images_fails_the_gate_clearly(pytester, workspace):
    # 31 rows: the odd-height model fails on every image of this fold.
    odd_fold = workspace.write_fold(height=31)
    workspace.add_gated("v1", "red", fold_hash=odd_fold, floor=0.5, model=odd_height_crash_model())
    workspace.write_ledger()
    result = run_gate(pytester)
    assert_clean_failure(result)
    result.stdout.fnmatch_lines(
        lines("v1: gate not evaluated: 'v1' cannot be scored on fold 'tiny-fold': Fail: [ONNXRuntimeError]")
    )


def test_a_baseline_that_cannot_run_the_fold_images_fails_the_gated_model_clearly(pytester, workspace):
    odd_fold = workspace.write_fold(height=31)
    workspace.add("v1", odd_height_crash_model(), sidecar("v1"))
    workspace.add_gated("v2", "green", fold_hash=odd_fold, baseline="v1")
    workspace.write_ledger()
    result = run_gate(pytester)
    assert_clean_failure(result)
    result.stdout.fnmatch_lines(lines("v2: baseline 'v1' cannot be evaluated: 'v1' cannot be scored on fold"))
    result.stdout.fnmatch_lines(lines("v2", "0.7500", "v1 unmeasured", FOLD))


def test_the_gate_feeds_images_normalised_as_the_contract_declares(pytester, workspace, fold_hash):
    """Under ImageNet's normalisation the red model finds every object (IoU 1.0); under the declared one
    ((pixel / 255 - 1) / 1) a full-red pixel becomes 0, the sigmoid stays at 0.5 and nothing is found (IoU 0.0)."""
    block = workspace.add_gated("v1", "red", fold_hash=fold_hash, claimed=0.0, floor=0.0)
    document = json.loads((workspace.root / "v1.json").read_text())
    document["tinyai"]["contract"]["inputs"][0]["normalisation"] = {"mean": [1.0, 1.0, 1.0], "std": [1.0, 1.0, 1.0]}
    (workspace.root / "v1.json").write_text(json.dumps(document))
    workspace.write_ledger({"v1": ledger_record(block)})
    result = run_gate(pytester)
    assert outcomes(result) == {"gate[v1]": "passed"}
