"""The benchmark scripts' pure parts: which registry models eval_scales scores, how its tables read, and where it
says the pixels go wrong."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from benchmarks.eval_scales import ErrorShares, dilated, error_table, paired_delta, saliency_models, table
from pytest_tinyai.fold_eval import FoldScore

REGISTRY = Path(__file__).resolve().parents[2] / "model/tiny/registry.json"
LABELS = ("a", "b", "c", "d")


def fold_score(*per_image: float) -> FoldScore:
    return FoldScore(sum(per_image) / len(per_image), len(per_image), per_image, LABELS[: len(per_image)])


def test_eval_scales_scores_the_saliency_students_and_not_the_smoke_placeholder() -> None:
    assert sorted(saliency_models(REGISTRY)) == ["saliency_student_v1", "saliency_student_v2"]


def test_the_table_shows_each_models_delta_to_the_reference_with_its_interval() -> None:
    rows = {"m": {128: fold_score(0.5, 0.5), 256: fold_score(0.25, 0.25)}}
    reference = {128: fold_score(0.4, 0.4), 256: fold_score(0.5, 0.5)}
    lines = table({**rows, "reference": reference}, (128, 256), reference).splitlines()
    assert lines[0].split() == ["model", "128x128", "256x256"]
    assert lines[1].split() == [
        "m",
        "0.5000",
        "(+0.1000",
        "[+0.1000,",
        "+0.1000])",
        "0.2500",
        "(-0.2500",
        "[-0.2500,",
        "-0.2500])",
    ]
    assert lines[2].split() == ["reference", "0.4000", "0.5000"]


def test_without_a_reference_the_table_shows_plain_scores() -> None:
    assert table({"m": {160: fold_score(0.3)}}, (160,), None).splitlines()[1].split() == ["m", "0.3000"]


def test_a_delta_that_differs_image_by_image_has_an_interval_around_it() -> None:
    delta, low, high = paired_delta(fold_score(0.9, 0.1, 0.8, 0.2), fold_score(0.1, 0.9, 0.2, 0.8))
    assert delta == pytest.approx(0.0)
    assert low < 0.0 < high


def test_the_delta_is_refused_when_model_and_reference_saw_different_images() -> None:
    other = FoldScore(0.5, 1, (0.5,), ("z",))
    with pytest.raises(ValueError, match="different images"):
        paired_delta(fold_score(0.5), other)


def test_dilation_grows_a_pixel_into_a_square_clipped_at_the_border() -> None:
    mask = np.zeros((6, 6), bool)
    mask[0, 2] = True
    grown = dilated(mask, 1)
    assert grown.shape == (6, 6) and grown.sum() == 6 and grown[:2, 1:4].all()


def test_false_positives_split_into_near_the_object_and_far_from_it() -> None:
    mask = np.zeros((16, 16), np.float32)
    mask[4:8, 4:8] = 1
    prob = np.zeros((16, 16), np.float32)
    prob[4:8, 5:9] = 0.9  # the object shifted right by 1 px: 12 hit, 4 missed, 4 near
    prob[14:16, 14:16] = 0.6  # a blob in the corner: 4 far
    errors = ErrorShares()
    errors.add(prob, mask, radius=2)
    assert (errors.hit, errors.missed, errors.near, errors.far) == (12, 4, 4, 4)
    assert errors.shares() == (0.5, 1 / 6, 1 / 6, 1 / 6)


def test_the_error_table_shows_hit_missed_near_far_in_percent() -> None:
    errors = ErrorShares(hit=41, missed=23, near=3, far=33)
    lines = error_table({"m": {256: errors}}, (256,)).splitlines()
    assert lines[0].split() == ["model", "256x256"] and lines[1].split() == ["m", "41/23/3/33"]
