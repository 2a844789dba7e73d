"""The training loop: a tiny end-to-end run, determinism, resume after a kill, DDP on gloo."""

import dataclasses
import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from pytest_tinyai.checks.parity import check_parity
from pytest_tinyai.context import CheckContext
from pytest_tinyai.model import ModelUnderTest
from pytest_tinyai.registry import load_registry
from pytest_tinyai.sidecar import sidecar_problems
from pytest_tinyai.trust import Limits
from trainers.saliency_student.cli import main
from trainers.saliency_student.export import export_onnx
from trainers.saliency_student.loop import CHECKPOINT, train
from trainers.saliency_student.recipe import PROFILES

SMOKE = PROFILES["smoke"]
REPO = Path(__file__).resolve().parents[2]

# Trains in a child process that SIGKILLs itself when epoch 2 asks for its first image.
KILLED_RUN = """
import json, os, signal, sys
from trainers.saliency_student import data, loop
from trainers.saliency_student.recipe import Recipe
load = data.SaliencyDataset.__getitem__
def dying(self, index):
    if self.train and self.epoch == 1:
        os.kill(os.getpid(), signal.SIGKILL)
    return load(self, index)
data.SaliencyDataset.__getitem__ = dying
loop.train("v1", Recipe(**json.loads(sys.argv[1])), sys.argv[2], sys.argv[3], progress=False)
"""


def _child_env():
    return {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))}


def test_smoke_training_exports_checks_and_registers_the_student(tiny_dataset, tmp_path):
    registry = tmp_path / "model" / "registry.json"
    registry.parent.mkdir()
    main(
        f"train --variant v2 --profile smoke --data {tiny_dataset} --eval-fold {tiny_dataset} "
        f"--registry {registry} --run-dir {tmp_path / 'run'} --no-progress".split()
    )

    onnx_file = registry.parent / "saliency_student_v2.onnx"
    (entry,) = json.loads(registry.read_text())["models"]
    assert entry["sha256"] == hashlib.sha256(onnx_file.read_bytes()).hexdigest()
    sidecar = json.loads((registry.parent / "saliency_student_v2.json").read_text())
    assert sidecar_problems(sidecar) == []
    training = sidecar["training"]
    assert training["param_count"] == 123_721
    assert training["profile"] == "smoke"
    assert training["epochs_run"] == 2
    assert training["pt_onnx_max_abs_diff"] <= 1e-5
    assert 0.0 <= training["eval_fold"]["iou"] <= 1.0
    metrics = json.loads((registry.parent / "saliency_student_v2.metrics.json").read_text())
    assert [epoch["epoch"] for epoch in metrics["history"]] == [1, 2]
    assert metrics["provenance"]["dataset"]["content_sha256"] == training["dataset"]["content_sha256"]


def test_smoke_training_publishes_weights_that_pass_trained_weight_parity(tiny_dataset, tmp_path):
    registry = tmp_path / "registry.json"
    main(
        f"train --variant v1 --profile smoke --data {tiny_dataset} "
        f"--registry {registry} --run-dir {tmp_path / 'run'} --no-progress".split()
    )

    sidecar = json.loads((tmp_path / "saliency_student_v1.json").read_text())
    weights = tmp_path / "saliency_student_v1.safetensors"
    assert sidecar["tinyai"]["weights"] == {
        "path": weights.name,
        "sha256": hashlib.sha256(weights.read_bytes()).hexdigest(),
    }
    model = ModelUnderTest(load_registry(registry).entries[0], Limits())
    result = check_parity(model, dataclasses.replace(CheckContext.defaults(), reference_roots=("trainers",)))
    assert result.findings == []
    assert result.record is not None and result.record["parity"] == "trained weights"


def test_a_wrong_dataset_path_is_a_clear_error_before_any_training(tmp_path, capsys):
    with pytest.raises(SystemExit, match="no-such-folder: not a folder"):
        main(
            f"train --variant v1 --profile smoke --data {tmp_path / 'no-such-folder'} --run-dir {tmp_path}/run".split()
        )
    assert not (tmp_path / "run").exists()


def test_training_twice_on_cpu_gives_a_byte_identical_onnx(tiny_dataset, tmp_path):
    recipe = dataclasses.replace(SMOKE, epochs=1)
    nets = [train("v1", recipe, tiny_dataset, tmp_path / run, progress=False).net for run in ("a", "b")]
    digests = {hashlib.sha256(export_onnx(net).SerializeToString()).hexdigest() for net in nets}
    assert len(digests) == 1


def test_resume_after_a_kill_reaches_the_weights_of_an_uninterrupted_run(tiny_dataset, tmp_path):
    recipe = dataclasses.replace(SMOKE, epochs=3)
    killed = subprocess.run(
        [sys.executable, "-c", KILLED_RUN, json.dumps(recipe.as_dict()), str(tiny_dataset), str(tmp_path / "killed")],
        env=_child_env(),
        capture_output=True,
        text=True,
    )
    assert killed.returncode == -9, killed.stderr
    assert torch.load(tmp_path / "killed" / CHECKPOINT, weights_only=False)["epoch"] == 1

    resumed = train("v1", recipe, tiny_dataset, tmp_path / "killed", resume=True, progress=False)
    straight = train("v1", recipe, tiny_dataset, tmp_path / "straight", progress=False)

    def final(run):
        return torch.load(tmp_path / run / CHECKPOINT, weights_only=False)["model"]

    assert final("killed").keys() == final("straight").keys()
    assert all(torch.equal(final("killed")[k], final("straight")[k]) for k in final("straight"))
    assert resumed.history == [
        {**epoch, "seconds": r["seconds"], "img_per_s": r["img_per_s"]}
        for epoch, r in zip(straight.history, resumed.history, strict=True)
    ]


@pytest.mark.slow
def test_ddp_on_gloo_with_two_cpu_processes_trains_and_rank_0_publishes(tiny_dataset, tmp_path):
    registry = tmp_path / "registry.json"
    torchrun = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2"]
    cli = (
        f"-m trainers.saliency_student.cli train --variant v1 --profile smoke --data {tiny_dataset} "
        f"--registry {registry} --run-dir {tmp_path / 'run'} --device cpu --no-progress"
    )
    done = subprocess.run(
        [*torchrun, *cli.split()],
        env=_child_env(),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    training = json.loads((tmp_path / "saliency_student_v1.json").read_text())["training"]
    assert (training["world_size"], training["device"], training["epochs_run"]) == (2, "cpu", 2)
    assert [m["id"] for m in json.loads(registry.read_text())["models"]] == ["saliency_student_v1"]
