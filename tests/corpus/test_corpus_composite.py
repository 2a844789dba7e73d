"""Compositing: canvas size, crop and object geometry, exact masks, determinism."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from trainers.corpus.composite import CANVAS, compose, crop_to_alpha, opaque_photograph


def _cutout(width: int = 60, height: int = 30) -> Image.Image:
    rng = np.random.default_rng(0)
    rgba = np.zeros((height, width, 4), dtype=np.uint8)
    rgba[..., :3] = rng.integers(0, 256, (height, width, 3), dtype=np.uint8)
    rgba[..., 3] = 255
    rgba[:, : width // 4, 3] = 100  # a semi-transparent strip, below the mask threshold
    return Image.fromarray(rgba, "RGBA")


def _background() -> Image.Image:
    rng = np.random.default_rng(1)
    return Image.fromarray(rng.integers(0, 256, (300, 400, 3), dtype=np.uint8))


def test_crop_to_alpha_keeps_the_visible_box() -> None:
    image = Image.new("RGBA", (20, 10), (0, 0, 0, 0))
    image.paste((9, 9, 9, 255), (5, 2, 8, 7))
    assert crop_to_alpha(image).size == (3, 5)


def _panorama_strip() -> Image.Image:
    """40x30 RGBA: a transparent sky over rows 0-9, a tree poking into it at row 8, opaque ground below."""
    rgba = np.zeros((30, 40, 4), dtype=np.uint8)
    rgba[10:, :, :3], rgba[10:, :, 3] = (60, 120, 40), 255
    rgba[8:10, 5, :] = (20, 60, 20, 255)
    return Image.fromarray(rgba, "RGBA")


def test_a_panorama_under_a_transparent_sky_is_cut_to_its_opaque_ground() -> None:
    ground = opaque_photograph(_panorama_strip())
    assert (ground.mode, ground.size) == ("RGB", (40, 20))
    assert np.array_equal(np.unique(np.asarray(ground).reshape(-1, 3), axis=0), [[60, 120, 40]])


def test_of_several_opaque_bands_the_tallest_is_kept() -> None:
    rgba = np.full((30, 10, 4), 255, dtype=np.uint8)
    rgba[4, 3, 3] = 0  # rows 0-3 opaque, row 4 not, rows 5-29 opaque
    assert opaque_photograph(Image.fromarray(rgba, "RGBA")).size == (10, 25)


def test_a_photograph_without_transparency_is_kept_whole() -> None:
    photo = _background()
    assert np.array_equal(np.asarray(opaque_photograph(photo)), np.asarray(photo))


def test_an_image_without_a_fully_opaque_row_is_refused() -> None:
    rgba = np.full((10, 10, 4), 255, dtype=np.uint8)
    rgba[:, 0, 3] = 0
    with pytest.raises(ValueError, match="no row of the image is fully opaque"):
        opaque_photograph(Image.fromarray(rgba, "RGBA"))


def test_output_is_a_canvas_sized_image_and_mask() -> None:
    image, mask, _ = compose(_background(), [_cutout()], np.random.default_rng(0))
    assert image.shape == (CANVAS, CANVAS, 3)
    assert image.dtype == mask.dtype == np.uint8
    assert mask.shape == (CANVAS, CANVAS)


def test_mask_is_zero_or_255() -> None:
    _, mask, _ = compose(_background(), [_cutout()], np.random.default_rng(0))
    assert set(np.unique(mask)) == {0, 255}


@pytest.mark.parametrize("seed", range(20))
def test_object_fits_in_frame_with_long_side_35_to_85_percent(seed: int) -> None:
    _, _, record = compose(_background(), [_cutout(120, 20)], np.random.default_rng(seed))
    left, top, right, bottom = record["objects"][0]["box"]
    assert 0 <= left < right <= CANVAS and 0 <= top < bottom <= CANVAS
    assert 0.35 * CANVAS - 1 <= max(right - left, bottom - top) <= 0.85 * CANVAS + 1


@pytest.mark.parametrize("seed", range(20))
def test_background_crop_is_a_square_of_30_to_100_percent_of_the_short_side(seed: int) -> None:
    _, _, record = compose(_background(), [_cutout()], np.random.default_rng(seed))
    left, top, side = record["background"]["crop"]
    assert 0.3 * 300 - 1 <= side <= 300
    assert left + side <= 400 and top + side <= 300


def test_mask_is_the_alpha_at_or_above_128_inside_the_box() -> None:
    _, mask, record = compose(_background(), [_cutout()], np.random.default_rng(3))
    left, top, right, bottom = record["objects"][0]["box"]
    outside = mask.copy()
    outside[top:bottom, left:right] = 0
    assert not outside.any()
    inside = mask[top:bottom, left:right] > 0
    assert 0.6 < inside.mean() < 0.9  # the semi-transparent quarter (alpha 100) is background


def test_same_generator_state_gives_the_same_image() -> None:
    first = compose(_background(), [_cutout(), _cutout(40, 40)], np.random.default_rng(7), jitter=0.15)
    second = compose(_background(), [_cutout(), _cutout(40, 40)], np.random.default_rng(7), jitter=0.15)
    assert np.array_equal(first[0], second[0])
    assert np.array_equal(first[1], second[1])
    assert first[2] == second[2]


def test_jitter_factors_are_recorded_within_range() -> None:
    _, _, record = compose(_background(), [_cutout()], np.random.default_rng(0), jitter=0.15)
    factors = record["background"]["jitter"] + record["objects"][0]["jitter"]
    assert len(factors) == 6
    assert all(0.85 <= factor <= 1.15 for factor in factors)


def test_no_jitter_records_none() -> None:
    _, _, record = compose(_background(), [_cutout()], np.random.default_rng(0))
    assert "jitter" not in record["background"]
    assert "jitter" not in record["objects"][0]
