"""Per-image IoU at 0.5 and fold scoring, as the trainers and the gate compute them."""

import numpy as np
import pytest
from PIL import Image

from pytest_tinyai.fold_eval import evaluate_fold
from pytest_tinyai.metrics import image_iou, mean_iou


def test_iou_thresholds_the_prediction_at_one_half():
    mask = np.array([[1, 1, 0, 0]], np.float32)
    assert image_iou(np.array([[0.9, 0.2, 0.7, 0.1]]), mask) == pytest.approx(1 / 3)


def test_empty_prediction_on_empty_mask_is_a_perfect_score():
    assert image_iou(np.zeros((4, 4)), np.zeros((4, 4))) == 1.0


def test_empty_prediction_on_a_non_empty_mask_scores_zero():
    assert image_iou(np.zeros((4, 4)), np.ones((4, 4))) == 0.0


def test_mean_iou_averages_images_not_pixels():
    big, small = np.ones((10, 10)), np.ones((1, 1))
    assert mean_iou([big, np.zeros((1, 1))], [big, small]) == pytest.approx(0.5)


def test_shape_mismatch_is_an_error():
    with pytest.raises(ValueError, match="shape"):
        image_iou(np.zeros((2, 2)), np.zeros((2, 3)))


def _half_masked_fold(root):
    """Two grey 16x8 images, "a" and "b", whose masks cover the left half."""
    (root / "Image").mkdir()
    (root / "Mask").mkdir()
    left = np.zeros((8, 16), np.uint8)
    left[:, :8] = 255
    for stem in ("a", "b"):
        Image.fromarray(np.full((8, 16, 3), 128, np.uint8)).save(root / "Image" / f"{stem}.png")
        Image.fromarray(left).save(root / "Mask" / f"{stem}.png")


def test_fold_score_runs_each_normalised_image_and_averages_iou_keeping_each_images(tmp_path):
    _half_masked_fold(tmp_path)
    seen = []

    def run(x):
        seen.append((x.dtype, x.shape))
        out = np.zeros((1, 1, 8, 16), np.float32)
        out[..., :4] = 1.0
        return out

    score = evaluate_fold(run, tmp_path)
    assert (score.n, score.value) == (2, pytest.approx(0.5))
    assert (score.per_sample, score.labels) == ((0.5, 0.5), ("a", "b"))
    assert seen == [(np.float32, (1, 3, 8, 16))] * 2


def test_an_observer_sees_each_images_map_and_mask(tmp_path):
    _half_masked_fold(tmp_path)
    seen = []
    evaluate_fold(
        lambda x: np.full((1, 1, 8, 16), 0.25, np.float32), tmp_path, observe=lambda p, m: seen.append((p, m))
    )
    assert len(seen) == 2
    assert all(
        p.shape == m.shape == (8, 16) and (p == 0.25).all() and m[:, :8].all() and not m[:, 8:].any() for p, m in seen
    )
