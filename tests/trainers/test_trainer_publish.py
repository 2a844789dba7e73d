"""Publishing into the model folder: all-or-nothing, registry in step, human-declared sidecar keys kept."""

import hashlib
import json
import re

import pytest
import torch
from safetensors.torch import load_file
from saliency_sidecar import placed

import trainers.saliency_student.register as register
from pytest_tinyai.dataset import content_hash
from trainers.placeholder import REFERENCE, mobilesal_placeholder_v0
from trainers.saliency_student.export import ParityError
from trainers.saliency_student.register import Artefact, contract, publish

STEM = "mobilesal_placeholder_v0"
GATE = {"fold": {"name": "tiny", "content_sha256": "0" * 64}, "metric": "mean_iou@0.5", "floor": 0.1, "claimed": 0.9}


def _artefact(model=None):
    return Artefact(
        stem=STEM,
        model=model or mobilesal_placeholder_v0(),
        reference=REFERENCE,
        contract=contract(min_size=1, multiple_of=1),
        training={"param_count": 4},
        entry={"smoke": True},
        metrics={"history": []},
    )


def _snapshot(folder):
    return {
        path.relative_to(folder).as_posix(): path.read_bytes() for path in sorted(folder.rglob("*")) if path.is_file()
    }


def test_publish_writes_onnx_sidecar_metrics_and_a_matching_registry_entry(tmp_path):
    publish(_artefact(), tmp_path, tmp_path / "registry.json")
    assert sorted(_snapshot(tmp_path)) == [
        f"{STEM}.json",
        f"{STEM}.metrics.json",
        f"{STEM}.onnx",
        f"{STEM}.safetensors",
        f"{STEM}/test_data_set_0/input_0.pb",
        f"{STEM}/test_data_set_0/output_0.pb",
        "registry.json",
    ]
    (entry,) = json.loads((tmp_path / "registry.json").read_text())["models"]
    assert entry["sha256"] == hashlib.sha256((tmp_path / f"{STEM}.onnx").read_bytes()).hexdigest()
    assert (entry["onnx"], entry["opset"], entry["license"], entry["smoke"]) == (f"{STEM}.onnx", 17, "Apache-2.0", True)


def test_publish_writes_the_training_form_weights_and_records_them_in_the_sidecar(tmp_path):
    (tmp_path / "models").mkdir()
    publish(_artefact(), tmp_path / "models", tmp_path / "registry.json")
    sidecar = json.loads((tmp_path / "models" / f"{STEM}.json").read_text())
    weights = tmp_path / "models" / f"{STEM}.safetensors"
    assert sidecar["tinyai"]["weights"] == {
        "path": f"models/{STEM}.safetensors",
        "sha256": hashlib.sha256(weights.read_bytes()).hexdigest(),
    }
    tensors = load_file(weights)
    assert {name: tensor.dtype for name, tensor in tensors.items()} == {
        "conv.weight": torch.float32,
        "conv.bias": torch.float32,
    }
    mobilesal_placeholder_v0().load_state_dict(tensors, strict=True)


def test_registry_onnx_path_is_relative_to_the_registry_folder(tmp_path):
    (tmp_path / "models").mkdir()
    publish(_artefact(), tmp_path / "models", tmp_path / "registry.json")
    (entry,) = json.loads((tmp_path / "registry.json").read_text())["models"]
    assert entry["onnx"] == f"models/{STEM}.onnx"


def test_failed_parity_leaves_the_model_folder_untouched(tmp_path, monkeypatch):
    publish(_artefact(), tmp_path, tmp_path / "registry.json")
    before = _snapshot(tmp_path)
    drifted = mobilesal_placeholder_v0()
    with torch.no_grad():
        drifted.conv.bias.fill_(1.0)
    real_export = register.export_onnx
    monkeypatch.setattr(register, "export_onnx", lambda model: real_export(drifted))
    with pytest.raises(ParityError):
        publish(_artefact(), tmp_path, tmp_path / "registry.json")
    assert _snapshot(tmp_path) == before


def _declare(sidecar_path, **human):
    """Declare keys in the sidecar as a person would: blocks in its `tinyai` namespace, the runtime's fields on top."""
    sidecar_path.write_text(json.dumps(placed(json.loads(sidecar_path.read_text()), **human)))


def test_regenerating_keeps_human_declared_keys_and_updates_the_gate_claim(tmp_path, tiny_dataset):
    publish(_artefact(), tmp_path, tmp_path / "registry.json")
    sidecar_path = tmp_path / f"{STEM}.json"
    gate = {**GATE, "fold": {"name": "tiny", "content_sha256": content_hash(tiny_dataset)}}
    human = {
        "status": "proposed",
        "role": "smoke",
        "gate": gate,
        "latency": {"resolutions": [[64, 64]]},
        "parity": {"tolerance": 1e-4},
        "notes": "kept",
    }
    _declare(sidecar_path, **human)

    publish(_artefact(), tmp_path, tmp_path / "registry.json", eval_fold=tiny_dataset)

    regenerated = json.loads(sidecar_path.read_text())
    iou = regenerated["training"]["eval_fold"]["iou"]
    for key in ("status", "role", "latency", "parity"):
        assert regenerated["tinyai"][key] == human[key]
    assert regenerated["notes"] == human["notes"]
    assert regenerated["tinyai"]["gate"] == {**gate, "claimed": round(iou, 4)}


def test_a_gate_on_another_fold_keeps_its_claim(tmp_path, tiny_dataset):
    publish(_artefact(), tmp_path, tmp_path / "registry.json")
    sidecar_path = tmp_path / f"{STEM}.json"
    _declare(sidecar_path, gate=GATE)

    publish(_artefact(), tmp_path, tmp_path / "registry.json", eval_fold=tiny_dataset)

    assert json.loads(sidecar_path.read_text())["tinyai"]["gate"] == GATE


def test_publishing_over_a_sidecar_with_our_blocks_at_the_top_level_refuses_and_touches_nothing(tmp_path):
    publish(_artefact(), tmp_path, tmp_path / "registry.json")
    sidecar_path = tmp_path / f"{STEM}.json"
    sidecar_path.write_text(json.dumps({**json.loads(sidecar_path.read_text()), "gate": GATE}))
    before = _snapshot(tmp_path)
    with pytest.raises(
        register.SidecarError,
        match=re.escape("declares 'gate' at the top level: pytest-tinyai's blocks belong under 'tinyai'"),
    ):
        publish(_artefact(), tmp_path, tmp_path / "registry.json")
    assert _snapshot(tmp_path) == before


def test_publishing_records_a_golden_set_and_re_recording_says_so(tmp_path):
    first = publish(_artefact(), tmp_path, tmp_path / "registry.json")
    assert first.golden == [
        f"{STEM}: recorded golden set '{STEM}/test_data_set_0' from seeded random inputs (seed 0) at H=256 W=256"
    ]
    _declare(
        tmp_path / f"{STEM}.json",
        golden={**json.loads((tmp_path / f"{STEM}.json").read_text())["tinyai"]["golden"], "tolerance": 1e-6},
    )
    again = publish(_artefact(), tmp_path, tmp_path / "registry.json")
    assert again.golden[0].startswith(f"{STEM}: re-recorded (overwrote the previous set) golden set")
    golden = json.loads((tmp_path / f"{STEM}.json").read_text())["tinyai"]["golden"]
    assert golden["tolerance"] == 1e-6 and [block["path"] for block in golden["sets"]] == [f"{STEM}/test_data_set_0"]
