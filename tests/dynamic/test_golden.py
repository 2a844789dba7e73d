"""Golden test data sets: recorded here, read as registry data, compared within a ratcheted tolerance.

Each failure case builds a registry with the recorded model `m` beside the healthy model `good`, breaks one thing,
and asserts one line naming `m` and the cause, with `good` still passing and no INTERNALERROR or traceback.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import numpy_helper
from plugin_builders import RegistryDir, const, item_outcomes, ledger_document, lines, run_in_process, saliency_model

from pytest_tinyai.golden_record import main as golden_main
from pytest_tinyai.golden_record import record

MODEL = "m"
HEALTHY = "good"
SET = f"{MODEL}/test_data_set_0"


@pytest.fixture
def registry(pytester: pytest.Pytester) -> Path:
    """A registry of `m` and `good`, each with a recorded set `<id>/test_data_set_0`."""
    folder = RegistryDir(pytester.path)
    folder.add(MODEL)
    folder.add(HEALTHY)
    path = folder.write()
    done, refused = record(path)
    assert not refused and [line.model_id for line in done] == [MODEL, HEALTHY]
    return path


def sidecar_path(registry: Path, model_id: str = MODEL) -> Path:
    return registry.parent / f"{model_id}.json"


def read_sidecar(registry: Path, model_id: str = MODEL) -> dict:
    return json.loads(sidecar_path(registry, model_id).read_text())


def edit_blocks(registry: Path, change) -> None:
    """Apply `change` to the sidecar's `tinyai` blocks, in place, and write the sidecar back."""
    sidecar = read_sidecar(registry)
    change(sidecar["tinyai"])
    sidecar_path(registry).write_text(json.dumps(sidecar, indent=2))


def rehash(registry: Path, name: str) -> None:
    """Declare the current digest of a set file in the sidecar (so only what the file holds is wrong)."""
    digest = hashlib.sha256((registry.parent / SET / name).read_bytes()).hexdigest()
    edit_blocks(registry, lambda blocks: blocks["golden"]["sets"][0]["files"].__setitem__(name, digest))


def rewrite(registry: Path, name: str, change) -> None:
    """Rewrite one stored tensor through `change(tensor)` (in place) and declare its new digest."""
    path = registry.parent / SET / name
    tensor = onnx.load_tensor(str(path))
    change(tensor)
    path.write_bytes(tensor.SerializeToString())
    rehash(registry, name)


def shifted(index, by: float):
    """A `rewrite` change adding `by` to the stored values (at `index`, or everywhere for None)."""

    def change(tensor: onnx.TensorProto) -> None:
        values = numpy_helper.to_array(tensor).copy()
        values[index if index is not None else ...] += np.float32(by)
        tensor.CopyFrom(numpy_helper.from_array(values, tensor.name))

    return change


def reregister(registry: Path, model: onnx.ModelProto) -> None:
    """Replace m.onnx and its registry sha256 (a retrained model published without re-recording its set)."""
    data = model.SerializeToString()
    (registry.parent / f"{MODEL}.onnx").write_bytes(data)
    document = json.loads(registry.read_text())
    for entry in document["models"]:
        if entry["id"] == MODEL:
            entry["sha256"] = hashlib.sha256(data).hexdigest()
    registry.write_text(json.dumps(document, indent=2))


def run_golden(pytester: pytest.Pytester, registry: Path, *args: str, marker: str = "tinyai_golden"):
    return run_in_process(pytester, "--tinyai-registry", str(registry), "-m", marker, *args)


def assert_one_line(result, check: str, *fragments: str) -> None:
    """`check[m]` failed with a line naming m and every fragment; `good` passed; no traceback or INTERNALERROR."""
    output = result.stdout.str() + result.stderr.str()
    assert result.ret == pytest.ExitCode.TESTS_FAILED, output
    for forbidden in ("INTERNALERROR", "Traceback", "pytest_tinyai/"):
        assert forbidden not in output, output
    outcomes = item_outcomes(result)
    assert outcomes[f"{check}[{MODEL}]"] == "failed", outcomes
    assert outcomes[f"{check}[{HEALTHY}]"] == "passed", outcomes
    assert any(
        line.startswith(f"{MODEL}: ") and all(fragment in line for fragment in fragments)
        for line in output.splitlines()
    ), output


def test_recorded_sets_pass_and_follow_the_model_zoo_layout(pytester, registry):
    assert sorted(path.name for path in (registry.parent / SET).iterdir()) == ["input_0.pb", "output_0.pb"]
    block = read_sidecar(registry)["tinyai"]["golden"]
    assert block["tolerance"] == 1e-5
    assert block["sets"][0]["path"] == SET and block["sets"][0]["onnxruntime"] == ort.__version__
    result = run_golden(pytester, registry)
    assert item_outcomes(result) == {f"golden[{MODEL}]": "passed", f"golden[{HEALTHY}]": "passed"}


def test_a_set_loads_with_onnx_reader_and_gives_the_same_outputs(registry):
    """Interoperability: onnx's own TensorProto reader loads the set, and onnxruntime reproduces its outputs."""
    folder = registry.parent / SET
    inputs = numpy_helper.to_array(onnx.load_tensor(str(folder / "input_0.pb")))
    stored = numpy_helper.to_array(onnx.load_tensor(str(folder / "output_0.pb")))
    session = ort.InferenceSession(str(registry.parent / f"{MODEL}.onnx"), providers=["CPUExecutionProvider"])
    (produced,) = session.run(None, {"input": inputs})
    assert inputs.shape == (1, 3, 32, 32) and stored.shape == produced.shape == (1, 1, 32, 32)
    np.testing.assert_allclose(produced, stored, rtol=0, atol=1e-6)


def test_a_model_zoo_set_written_by_onnx_beside_the_model_passes(pytester, registry):
    """A set written with onnx's own writer (onnx.save_tensor), in a second folder, is read and checked too."""
    first = registry.parent / SET
    zoo = registry.parent / MODEL / "test_data_set_1"
    zoo.mkdir()
    files = {}
    for name in ("input_0.pb", "output_0.pb"):
        tensor = onnx.load_tensor(str(first / name))
        tensor.name = ""  # the Model Zoo's files are positional; names are optional
        onnx.save_tensor(tensor, str(zoo / name))
        files[name] = hashlib.sha256((zoo / name).read_bytes()).hexdigest()
    edit_blocks(
        registry, lambda blocks: blocks["golden"]["sets"].append({"path": f"{MODEL}/test_data_set_1", "files": files})
    )
    result = run_golden(pytester, registry)
    assert item_outcomes(result)[f"golden[{MODEL}]"] == "passed"


def test_a_model_whose_weights_were_nudged_fails(pytester, registry):
    nudged = saliency_model()
    nudged.graph.initializer[0].CopyFrom(const("conv_w", [[[[0.2 + 1e-3]], [[0.3]], [[0.5]]]]))
    reregister(registry, nudged)
    result = run_golden(pytester, registry)
    assert_one_line(
        result,
        "golden",
        f"golden set '{SET}' output 'saliency_map' (output_0.pb): max-abs-diff",
        "> tolerance 1e-05 at [",
    )


def test_an_altered_stored_output_fails_naming_where(pytester, registry):
    rewrite(registry, "output_0.pb", shifted((0, 0, 3, 5), 0.01))
    result = run_golden(pytester, registry)
    assert_one_line(
        result,
        "golden",
        f"golden set '{SET}' output 'saliency_map' (output_0.pb): max-abs-diff 0.01 > tolerance 1e-05 at [0, 0, 3, 5]",
    )
    assert "recorded with onnxruntime" not in result.stdout.str()


def test_a_difference_under_another_onnxruntime_says_so(pytester, registry):
    rewrite(registry, "output_0.pb", shifted(None, 1e-4))
    edit_blocks(registry, lambda blocks: blocks["golden"]["sets"][0].__setitem__("onnxruntime", "1.0.0"))
    result = run_golden(pytester, registry)
    assert_one_line(result, "golden", "max-abs-diff", f"recorded with onnxruntime 1.0.0, now {ort.__version__}")


def test_a_truncated_pb_fails(pytester, registry):
    path = registry.parent / SET / "output_0.pb"
    path.write_bytes(path.read_bytes()[:-100])
    rehash(registry, "output_0.pb")  # the digest matches: what fails is the file itself
    result = run_golden(pytester, registry)
    assert_one_line(result, "golden", f"golden set '{SET}' file 'output_0.pb' is not a valid TensorProto (truncated")


def test_a_pb_cut_at_a_field_boundary_fails(pytester, registry):
    rewrite(registry, "input_0.pb", lambda tensor: tensor.ClearField("raw_data"))
    result = run_golden(pytester, registry)
    assert_one_line(result, "golden", "file 'input_0.pb' is truncated or malformed")


def test_a_digest_mismatch_fails(pytester, registry):
    path = registry.parent / SET / "input_0.pb"
    data = bytearray(path.read_bytes())
    data[-1] ^= 0x01
    path.write_bytes(bytes(data))
    result = run_golden(pytester, registry)
    assert_one_line(result, "golden", f"golden set '{SET}' file 'input_0.pb': sha256 mismatch, the sidecar says")


def test_a_missing_file_fails(pytester, registry):
    (registry.parent / SET / "output_0.pb").unlink()
    result = run_golden(pytester, registry)
    assert_one_line(result, "golden", f"golden set '{SET}': golden file '{SET}/output_0.pb' does not exist")


def test_a_set_path_escaping_the_folder_fails_without_reading_it(pytester, registry):
    outside = pytester.path.parent / "outside"
    outside.mkdir(exist_ok=True)
    edit_blocks(registry, lambda blocks: blocks["golden"]["sets"][0].__setitem__("path", "../outside"))
    result = run_golden(pytester, registry)
    assert_one_line(result, "golden", "golden file path '../outside/input_0.pb' escapes the registry folder")


def test_a_pb_naming_external_data_is_refused(pytester, registry):
    def external(tensor: onnx.TensorProto) -> None:
        tensor.ClearField("raw_data")
        tensor.data_location = onnx.TensorProto.EXTERNAL
        tensor.external_data.add(key="location", value="/etc/passwd")

    rewrite(registry, "input_0.pb", external)
    result = run_golden(pytester, registry)
    assert_one_line(result, "golden", "file 'input_0.pb' names external data")


def test_stored_inputs_outside_the_contract_are_not_run(pytester, registry):
    too_tall = numpy_helper.from_array(np.zeros((1, 3, 600, 8), np.float32), "input")
    rewrite(registry, "input_0.pb", lambda tensor: tensor.CopyFrom(too_tall))
    result = run_golden(pytester, registry)
    assert_one_line(result, "golden", "stored inputs break the contract: H=600 is outside [1, 512]")


def write_ledger(registry: Path, tolerance: float) -> Path:
    ledger = registry.parent / "ledger.json"
    thresholds = {model: {"golden tolerance": tolerance} for model in (MODEL, HEALTHY)}
    ledger.write_text(json.dumps(ledger_document(thresholds=thresholds)))
    return ledger


def test_a_tolerance_loosened_against_the_ledger_fails(pytester, registry):
    ledger = write_ledger(registry, 1e-5)
    edit_blocks(registry, lambda blocks: blocks["golden"].__setitem__("tolerance", 1e-3))
    result = run_golden(pytester, registry, "--tinyai-ledger", str(ledger), marker="tinyai_thresholds")
    assert_one_line(result, "thresholds", "ledger ledger.json: golden tolerance loosened from 1e-05 (ledger) to 0.001")


def test_dropping_the_golden_block_cannot_shed_the_check(pytester, registry):
    ledger = write_ledger(registry, 1e-5)
    edit_blocks(registry, lambda blocks: blocks.pop("golden"))
    result = run_golden(pytester, registry, "--tinyai-ledger", str(ledger))
    assert_one_line(
        result, "golden", "the ledger records a golden tolerance of 1e-05 but the sidecar declares no golden sets"
    )
    result = run_golden(pytester, registry, "--tinyai-ledger", str(ledger), marker="tinyai_thresholds")
    assert_one_line(result, "thresholds", "golden tolerance vanished: the ledger records 1e-05")


def test_a_model_without_a_set_beside_models_with_one_is_not_run_and_says_so(pytester, registry):
    edit_blocks(registry, lambda blocks: blocks.pop("golden"))
    result = run_golden(pytester, registry)
    assert item_outcomes(result) == {f"golden[{MODEL}]": "skipped", f"golden[{HEALTHY}]": "passed"}
    result.stdout.fnmatch_lines(
        lines(
            "1 checks NOT run:",
            f"{MODEL}: golden not run: no golden set declared, while other models of its registry carry one "
            "(record it: tinyai-golden record)",
        )
    )


def test_update_ledger_records_the_golden_tolerance_and_never_loosens_it(pytester, registry):
    ledger = write_ledger(registry, 1e-5)
    edit_blocks(registry, lambda blocks: blocks["golden"].__setitem__("tolerance", 1e-6))
    run_golden(pytester, registry, "--tinyai-ledger", str(ledger), "--tinyai-update-ledger", "--collect-only")
    assert recorded_thresholds(ledger)[MODEL]["golden tolerance"] == 1e-6
    edit_blocks(registry, lambda blocks: blocks["golden"].__setitem__("tolerance", 1e-5))
    result = run_golden(pytester, registry, "--tinyai-ledger", str(ledger), "--tinyai-update-ledger", "--collect-only")
    assert "thresholds NOT updated, the ledger never loosens: golden tolerance loosened" in result.stdout.str()
    assert recorded_thresholds(ledger)[MODEL]["golden tolerance"] == 1e-6


def test_a_non_finite_or_huge_tolerance_breaks_the_schema(pytester, registry):
    edit_blocks(registry, lambda blocks: blocks["golden"].__setitem__("tolerance", 0.5))
    result = run_golden(pytester, registry)
    assert_one_line(result, "golden", "golden.tolerance", "0.5")


def test_the_recorder_never_overwrites_a_set_silently(registry, capsys):
    before = (registry.parent / SET / "output_0.pb").read_bytes()
    assert golden_main(["record", "--registry", str(registry), "--model", MODEL]) == 1
    assert f"{MODEL}: golden set '{SET}' exists; not overwritten (--force re-records it)" in capsys.readouterr().err
    assert golden_main(["record", "--registry", str(registry), "--model", MODEL, "--force"]) == 0
    assert f"{MODEL}: re-recorded (overwrote the previous set) golden set '{SET}'" in capsys.readouterr().out
    assert (registry.parent / SET / "output_0.pb").read_bytes() == before  # deterministic inputs, same outputs


def recorded_thresholds(ledger: Path) -> dict:
    return json.loads(ledger.read_text())["registries"]["registry.json"]["thresholds"]
