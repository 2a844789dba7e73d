"""The worst samples as the gate pictures them (pytest_tinyai.gate.pictures) and as the report decodes them
(pytest_tinyai.html_report.tiles): which samples, how small, what survives the round trip, what is refused."""

from __future__ import annotations

import base64
import io
import math
from dataclasses import dataclass

import numpy as np
import pytest
from PIL import Image

from pytest_tinyai.gate.pictures import (
    PROBABILITY_LEVELS,
    TILE_SIDE,
    Pictured,
    encode_image,
    encode_mask,
    encode_probability,
    picture_samples,
    tile_size,
    worst_indices,
)
from pytest_tinyai.html_report.tiles import MAX_TILE_SIDE, decode_tile


def test_the_worst_are_the_lowest_scores_lowest_first_ties_by_position_nan_lowest_of_all():
    assert worst_indices([0.5, 0.1, 0.9, 0.1, math.nan, 0.3], 4) == [4, 1, 3, 5]
    assert worst_indices([0.2, 0.1], 8) == [1, 0]


@pytest.mark.parametrize(
    ("height", "width", "size"),
    [(256, 256, (TILE_SIDE, TILE_SIDE)), (1080, 1920, (TILE_SIDE, 108)), (32, 48, (48, 32)), (1, 4000, (TILE_SIDE, 1))],
)
def test_a_tile_is_cut_down_to_its_side_on_its_long_side_and_never_enlarged(height, width, size):
    assert tile_size(height, width) == size


def test_an_image_comes_back_as_a_small_rgb_picture_close_to_the_original():
    rng = np.random.default_rng(0)
    image = np.kron(rng.integers(0, 256, (8, 8, 3)), np.ones((32, 32, 1))).astype(np.uint8)  # 256x256 blocks
    tile = decode_tile(encode_image(image), "RGB")
    assert tile.shape == (TILE_SIDE, TILE_SIDE, 3)
    shrunk = np.asarray(Image.fromarray(image).resize((TILE_SIDE, TILE_SIDE), Image.Resampling.BILINEAR))
    assert np.abs(tile.astype(int) - shrunk).mean() < 6  # JPEG


def test_a_mask_comes_back_exactly_and_a_probability_in_its_levels():
    mask = np.zeros((64, 64), np.float32)
    mask[10:30, 5:50] = 1.0
    assert np.array_equal(decode_tile(encode_mask(mask), "L") > 127, mask > 0.5)
    probability = np.linspace(0.0, 1.0, 64 * 64, dtype=np.float32).reshape(64, 64)
    probability[0, 0] = np.nan
    levels = decode_tile(encode_probability(probability), "L")
    assert len(np.unique(levels)) <= PROBABILITY_LEVELS and levels[0, 0] == 0
    assert (
        np.abs(levels / 255.0 - probability.clip(0, 1)).max(initial=0, where=~np.isnan(probability)) <= 0.5 / 15 + 0.01
    )


@dataclass(frozen=True)
class Sample:
    stem: str
    value: float


class Maps:
    """A kind whose samples are flat grey images with a square truth."""

    name = "maps"

    def truth(self, sample: Sample) -> np.ndarray:
        mask = np.zeros((16, 16), np.float32)
        mask[4:12, 4:12] = 1.0
        return mask

    def image(self, sample: Sample) -> np.ndarray:
        return np.full((16, 16, 3), 128, np.uint8)


def test_each_worst_sample_gets_its_label_scores_and_four_tiles():
    samples = [Sample("a", 0.9), Sample("b", 0.1)]
    mine = Pictured(lambda sample: np.full((16, 16), sample.value, np.float32), [0.9, 0.1])
    theirs = Pictured(lambda sample: np.full((16, 16), 1 - sample.value, np.float32), [0.2, 0.8])
    (pictured,) = picture_samples(Maps(), samples, [1], ["a", "b"], mine, theirs)
    assert (pictured["label"], pictured["score"], pictured["baseline_score"]) == ("b", 0.1, 0.8)
    assert decode_tile(pictured["image"], "RGB").shape == (16, 16, 3)
    assert decode_tile(pictured["prediction"], "L").max() < decode_tile(pictured["baseline_prediction"], "L").min()


def test_a_kind_that_cannot_show_its_samples_or_whose_predictions_are_not_maps_is_not_pictured():
    samples = [Sample("a", 0.5)]
    scalar = Pictured(lambda sample: np.float32(0.5), [0.5])
    with pytest.raises(ValueError, match="are not maps of the image"):
        picture_samples(Maps(), samples, [0], ["a"], scalar, None)

    class Scores(Maps):
        image = None

    with pytest.raises(ValueError, match="cannot show a sample as an image"):
        picture_samples(Scores(), samples, [0], ["a"], scalar, None)


def _png(side: int) -> str:
    buffer = io.BytesIO()
    Image.new("L", (side, side)).save(buffer, format="PNG")
    return base64.b64encode(buffer.getvalue()).decode()


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("not base64!", "not base64"),
        (base64.b64encode(b"GIF89a" + bytes(64)).decode(), "not a PNG or JPEG"),
        (base64.b64encode(b"\x89PNG\r\n\x1a\n" + bytes(64)).decode(), "not a PNG or JPEG"),
        (_png(MAX_TILE_SIDE + 1), "larger than"),
    ],
)
def test_a_tile_that_is_not_one_is_refused_in_one_line(text, why):
    with pytest.raises(ValueError, match=why):
        decode_tile(text, "L")
