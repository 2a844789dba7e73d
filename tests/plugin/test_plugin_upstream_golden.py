"""The golden check on the vendored upstream registry: each of its 21 models that can run carries a set recorded with
`tinyai-golden record` and reproduces it, and each of the three that cannot (ONNX absent, external data missing)
fails its golden item in the one line saying why. The recorder never overwrites a vendored set unasked, re-recording
draws the very inputs the sets hold, and a model whose graph gives its inputs no shape to run at is refused."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import onnx
import pytest
from plugin_builders import item_outcomes, run_in_process
from upstream_data import UNTRUSTED, UPSTREAM, copy_of_upstream, failure_lines, not_checked, upstream_entries

from pytest_tinyai.golden_record import record

RECORDABLE = {entry["id"]: Path(entry["onnx"]).stem for entry in upstream_entries() if entry["id"] not in UNTRUSTED}
NO_SIDECAR_UPSTREAM = ("smoke_fp16_v0", "vmaf_tiny_v1")  # smoke models upstream ships without a sidecar


@pytest.fixture
def golden_run(pytester):
    result = run_in_process(pytester, "--tinyai-registry", str(UPSTREAM / "registry.json"), "-m", "tinyai_golden")
    output = result.stdout.str() + result.stderr.str()
    assert "INTERNALERROR" not in output and "Traceback" not in output, output
    return result


def set_files(folder: Path, pattern: str = "*.pb") -> dict[str, bytes]:
    """The bytes of every file of the folder's sets matching `pattern`, by path relative to the folder."""
    paths = sorted(folder.glob(f"*/test_data_set_0/{pattern}"))
    return {str(path.relative_to(folder)): path.read_bytes() for path in paths}


def sidecars(folder: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in folder.glob("*.json")}


def test_the_21_models_that_can_run_each_carry_a_set_and_pass_the_golden_check(golden_run):
    outcomes = item_outcomes(golden_run)
    assert {model: outcomes[f"golden[{model}]"] for model in RECORDABLE} == dict.fromkeys(RECORDABLE, "passed")
    assert len(RECORDABLE) == 21


def test_each_model_that_cannot_have_a_set_fails_its_golden_item_in_the_one_line_saying_why(golden_run):
    assert {model: failure_lines(golden_run, f"golden[{model}]") for model in UNTRUSTED} == {
        model: [not_checked(model)] for model in UNTRUSTED
    }


def test_a_two_input_models_set_holds_both_inputs_under_the_graphs_names():
    for stem in ("fr_regressor_v2", "lpips_sq"):
        graph = onnx.load(str(UPSTREAM / f"{stem}.onnx"), load_external_data=False).graph
        stored = [onnx.load_tensor(str(UPSTREAM / stem / "test_data_set_0" / f"input_{k}.pb")).name for k in (0, 1)]
        weights = {tensor.name for tensor in graph.initializer}
        assert stored == [value.name for value in graph.input if value.name not in weights]


def test_a_smoke_model_upstream_ships_without_a_sidecar_got_one_holding_only_the_golden_block():
    for stem in NO_SIDECAR_UPSTREAM:
        assert list(json.loads((UPSTREAM / f"{stem}.json").read_text())) == ["tinyai"]
        assert list(json.loads((UPSTREAM / f"{stem}.json").read_text())["tinyai"]) == ["golden"]


def test_the_recorder_refuses_to_overwrite_any_vendored_set_and_writes_nothing(tmp_path):
    folder = copy_of_upstream(tmp_path)
    before = {**set_files(folder), **sidecars(folder)}
    done, refused = record(folder / "registry.json")
    assert done == []
    assert sorted(refused) == sorted(
        [
            *(
                f"{model}: golden set '{stem}/test_data_set_0' exists; not overwritten (--force re-records it)"
                for model, stem in RECORDABLE.items()
            ),
            *(f"{model}: registry trust failed: {line.split(': ', 1)[1]}" for model, line in UNTRUSTED.items()),
        ]
    )
    assert {**set_files(folder), **sidecars(folder)} == before


def test_re_recording_the_vendored_registry_draws_the_very_inputs_its_sets_hold(tmp_path):
    folder = copy_of_upstream(tmp_path)
    done, _ = record(folder / "registry.json", force=True)
    assert sorted(line.model_id for line in done) == sorted(RECORDABLE)
    assert set_files(folder, "input_*.pb") == set_files(UPSTREAM, "input_*.pb")


def test_the_recorder_refuses_a_model_whose_graph_leaves_h_and_w_without_a_value(tmp_path):
    """mobilesal as upstream ships it (no `tinyai` member): nothing gives H and W a value, so no inputs are drawn."""
    folder = copy_of_upstream(tmp_path)
    sidecar = folder / "mobilesal.json"
    owners = json.loads(sidecar.read_text())
    owners.pop("tinyai")
    sidecar.write_text(json.dumps(owners, indent=2))
    shutil.rmtree(folder / "mobilesal")
    done, refused = record(folder / "registry.json", "mobilesal_placeholder_v0")
    assert (done, refused) == (
        [],
        [
            "mobilesal_placeholder_v0: the contract derived from its graph cannot be run: symbolic dims H, W of "
            "'input' have no nominal value: declare tinyai.contract.nominal"
        ],
    )
    assert not (folder / "mobilesal").exists()
