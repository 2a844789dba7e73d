"""Training on a source pack: composites on the fly, validation on the pack's val split, reproducible runs."""

from __future__ import annotations

import dataclasses
import json

import pytest
import torch

from trainers.saliency_student.cli import main, resolved_profile
from trainers.saliency_student.loop import _Context, averaged, train
from trainers.saliency_student.model import VARIANTS
from trainers.saliency_student.recipe import PROFILES
from trainers.saliency_student.sources import FolderData, PackData, open_data

SMOKE = PROFILES["smoke"]


def test_a_pack_path_gives_pack_data_and_a_folder_gives_folder_data(tiny_pack, tiny_dataset) -> None:
    assert isinstance(open_data(tiny_pack, SMOKE, torch.device("cpu")), PackData)
    assert isinstance(open_data(tiny_dataset, SMOKE, torch.device("cpu")), FolderData)


def test_validation_uses_the_val_split_and_training_the_train_split(tiny_pack) -> None:
    data = open_data(tiny_pack, SMOKE, torch.device("cpu"))
    assert data.record["objects"] == {"train": 9, "val": 2}
    assert data.record["backgrounds"] == {"train": 5, "val": 1}
    assert data.record["validation"]["max_objects"] == 1


def test_an_epoch_is_split_between_processes_without_overlap(tiny_pack) -> None:
    recipe = dataclasses.replace(SMOKE, samples_per_epoch=16)
    whole = [b[0] for b in open_data(tiny_pack, recipe, torch.device("cpu")).train_batches(3)]
    halves = [
        [b[0] for b in open_data(tiny_pack, recipe, torch.device("cpu"), rank, 2).train_batches(3)] for rank in (0, 1)
    ]
    assert [len(b) for b in whole] == [4] * 4 and [len(b) for b in halves[0]] == [2] * 4
    for step, batch in enumerate(whole):
        assert torch.allclose(batch, torch.cat([halves[0][step], halves[1][step]]), atol=1e-5)


def test_a_smoke_run_on_a_pack_trains_publishes_and_records_the_pack(tiny_pack, tmp_path) -> None:
    registry = tmp_path / "registry.json"
    main(
        f"train --variant v1 --profile smoke --data {tiny_pack} --registry {registry} "
        f"--run-dir {tmp_path / 'run'} --no-progress".split()
    )
    training = json.loads((tmp_path / "saliency_student_v1.json").read_text())["training"]
    dataset = training["dataset"]
    assert dataset["content_sha256"] == json.loads((tiny_pack / "manifest.json").read_text())["content_sha256"]
    assert (dataset["n_train"], dataset["n_val"]) == (8, 4)
    assert dataset["source"]["kind"].startswith("source pack")
    assert training["epochs_run"] == 2 and 0 <= training["best_val_iou"] <= 1
    assert training["published_val_iou"] == training["best_val_iou"]  # smoke publishes validation's pick


@pytest.mark.parametrize(
    ("flag", "field", "value"),
    [("--seed", "seed", 7), ("--crop", "crop", 48), ("--publish-mean-of", "publish_mean_of", 2)],
)
def test_an_override_given_on_the_command_line_is_the_recipe_s_value_in_the_sidecar(
    tiny_pack, tmp_path, flag: str, field: str, value: int
) -> None:
    main(
        f"train --variant v1 --profile smoke --epochs 1 {flag} {value} --data {tiny_pack} "
        f"--registry {tmp_path / 'registry.json'} --run-dir {tmp_path / 'run'} --no-progress".split()
    )
    assert json.loads((tmp_path / "saliency_student_v1.json").read_text())["training"]["recipe"][field] == value


def test_two_runs_on_a_pack_reach_the_same_weights(tiny_pack, tmp_path) -> None:
    recipe = dataclasses.replace(SMOKE, epochs=1)
    nets = [train("v2", recipe, tiny_pack, tmp_path / run, progress=False).net for run in ("a", "b")]
    first, second = (net.state_dict() for net in nets)
    assert all(torch.equal(first[key], second[key]) for key in first)


def test_auto_is_full_on_cuda_and_cpu_elsewhere() -> None:
    assert resolved_profile("auto", "cpu") == "cpu"
    assert resolved_profile("auto", "cuda:0") == "full"
    assert resolved_profile("smoke", "cuda") == "smoke"
    assert resolved_profile("auto", None) == ("full" if torch.cuda.is_available() else "cpu")


def test_the_mean_of_one_epochs_weights_keeps_them_and_re_estimates_batchnorm(tiny_pack) -> None:
    data = open_data(tiny_pack, SMOKE, torch.device("cpu"))
    trained = train(
        "v2", dataclasses.replace(SMOKE, epochs=1), tiny_pack, tiny_pack.parent / "mean-run", progress=False
    )
    state = trained.net.state_dict()
    mean = averaged("v2", [state, state], data.train_batches(0), _context()).state_dict()
    weights = [key for key in state if "running" not in key and "num_batches" not in key]
    assert all(torch.allclose(mean[key], state[key]) for key in weights)
    running = [key for key in state if key.endswith("running_mean")]
    assert running and not all(torch.allclose(mean[key], state[key]) for key in running)


def test_the_mean_of_two_states_is_their_average() -> None:
    first, second = (VARIANTS["v1"]().state_dict() for _ in range(2))
    weight = next(key for key in first if key.endswith("weight"))
    second[weight] = first[weight] + 2
    mean = averaged("v1", [first, second], [], _context()).state_dict()
    assert torch.allclose(mean[weight], first[weight] + 1)


def test_averaging_validates_each_mean_and_publishes_the_best_candidate(tiny_pack, tmp_path) -> None:
    recipe = dataclasses.replace(SMOKE, epochs=3, average_last=(2, 3, 5))
    result = train("v1", recipe, tiny_pack, tmp_path / "run", progress=False)
    means = result.history[-1]["averaged_val_iou"]
    assert set(means) == {"2-3", "1-3"}  # a mean of 5 epochs needs 5
    best = max([epoch["val_iou"] for epoch in result.history] + list(means.values()))
    assert result.best_val_iou == best
    if result.averaged_epochs is not None:
        assert means[f"{result.averaged_epochs[0]}-{result.averaged_epochs[1]}"] == best


def test_a_recipe_that_publishes_a_mean_publishes_it_whatever_validation_picks(tiny_pack, tmp_path) -> None:
    recipe = dataclasses.replace(SMOKE, epochs=3, publish_mean_of=2)
    result = train("v1", recipe, tiny_pack, tmp_path / "run", progress=False)
    recent = torch.load(tmp_path / "run" / "last.pt", weights_only=False)["recent"]
    published = result.net.state_dict()
    weight = next(key for key in published if key.endswith("weight"))
    assert result.averaged_epochs == (2, 3)
    assert torch.allclose(published[weight], (recent[-2][weight] + recent[-1][weight]) / 2)
    assert result.published_val_iou == result.history[-1]["averaged_val_iou"]["2-3"]
    assert result.best_val_iou == max(epoch["val_iou"] for epoch in result.history)  # val's pick, recorded


def test_a_run_shorter_than_the_mean_to_publish_publishes_the_mean_of_all_its_epochs(tiny_pack, tmp_path) -> None:
    recipe = dataclasses.replace(SMOKE, epochs=2, publish_mean_of=12)
    assert train("v1", recipe, tiny_pack, tmp_path / "run", progress=False).averaged_epochs == (1, 2)


def test_the_epochs_to_average_ride_in_the_checkpoint(tiny_pack, tmp_path) -> None:
    recipe = dataclasses.replace(SMOKE, epochs=2, average_last=(2,))
    whole = train("v1", recipe, tiny_pack, tmp_path / "run", progress=False)
    resumed = train("v1", recipe, tiny_pack, tmp_path / "run", resume=True, progress=False)  # no epoch left to run
    assert resumed.history[-1]["averaged_val_iou"] == whole.history[-1]["averaged_val_iou"]
    assert resumed.averaged_epochs == whole.averaged_epochs
    assert all(torch.equal(resumed.net.state_dict()[k], v) for k, v in whole.net.state_dict().items())


def _context() -> _Context:
    return _Context()
