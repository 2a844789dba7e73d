"""The benchmark scripts' pure parts: which registry models eval_scales scores, and how its table reads."""

from __future__ import annotations

from pathlib import Path

from benchmarks.eval_scales import saliency_models, table

REGISTRY = Path(__file__).resolve().parents[2] / "model/tiny/registry.json"


def test_eval_scales_scores_the_saliency_students_and_not_the_smoke_placeholder() -> None:
    assert sorted(saliency_models(REGISTRY)) == ["saliency_student_v1", "saliency_student_v2"]


def test_the_table_shows_each_models_delta_to_the_reference() -> None:
    rows = {"m": {128: 0.5, 256: 0.25}, "reference": {128: 0.4, 256: 0.5}}
    lines = table(rows, (128, 256), rows["reference"]).splitlines()
    assert lines[0].split() == ["model", "128x128", "256x256"]
    assert lines[1].split() == ["m", "0.5000", "(+0.1000)", "0.2500", "(-0.2500)"]
    assert lines[2].split() == ["reference", "0.4000", "0.5000"]


def test_without_a_reference_the_table_shows_plain_scores() -> None:
    assert table({"m": {160: 0.3}}, (160,), None).splitlines()[1].split() == ["m", "0.3000"]
