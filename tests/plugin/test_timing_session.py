"""The in-process timing session is handed out only at shapes whose seeded inputs the model has run in the sandbox:
an earlier check's run counts (fuzz runs the seeded inputs of each shape it draws), so a shape fuzz already ran is
not run in the sandbox again before it is timed."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from plugin_builders import RegistryDir

from pytest_tinyai.findings import NotRunnable
from pytest_tinyai.model import GatedOrtSession, ModelUnderTest
from pytest_tinyai.registry import load_registry
from pytest_tinyai.trust import Limits

DIMS = {"H": 48, "W": 64}


@pytest.fixture
def model(tmp_path: Path) -> ModelUnderTest:
    registry = RegistryDir(tmp_path / "models")
    registry.add("good")
    return ModelUnderTest(load_registry(registry.write()).entries[0], Limits())


@pytest.fixture
def sandboxed_runs(monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, ...]]:
    """The input shape of each sandboxed run made from here on."""
    shapes: list[tuple[int, ...]] = []
    real_run = GatedOrtSession.run

    def run(self, output_names, feeds):
        shapes.append(feeds["input"].shape)
        return real_run(self, output_names, feeds)

    monkeypatch.setattr(GatedOrtSession, "run", run)
    return shapes


def test_a_shape_no_check_ran_is_run_in_the_sandbox_once_before_it_is_timed(model, sandboxed_runs):
    model.timing_session(DIMS)
    model.timing_session(DIMS)

    assert sandboxed_runs == [(1, 3, 48, 64)]


def test_a_shape_whose_seeded_inputs_an_earlier_check_ran_is_timed_without_running_it_in_the_sandbox_again(
    model, sandboxed_runs
):
    model.run_seeded(DIMS)  # as the fuzz check runs a shape

    model.timing_session(DIMS)

    assert sandboxed_runs == [(1, 3, 48, 64)]


def test_a_run_of_other_inputs_at_the_same_shape_does_not_count(model, sandboxed_runs):
    model.ort_session().run(None, {"input": np.zeros((1, 3, 48, 64), np.float32)})  # as the gate runs an image

    model.timing_session(DIMS)

    assert sandboxed_runs == [(1, 3, 48, 64), (1, 3, 48, 64)]


def test_a_seeded_run_at_another_shape_does_not_count(model, sandboxed_runs):
    model.run_seeded({"H": 64, "W": 48})

    model.timing_session(DIMS)

    assert sandboxed_runs == [(1, 3, 64, 48), (1, 3, 48, 64)]


def test_a_killed_model_is_not_timed_at_a_shape_it_had_run(model):
    model.run_seeded(DIMS)
    model.timing_session(DIMS)
    model.killed = "good: onnxruntime run exceeded 1 s at input [1, 3, 32, 32] (killed)"

    with pytest.raises(NotRunnable, match="exceeded 1 s"):
        model.timing_session(DIMS)
