"""The saliency-map model kind and the declared tensor contract: feeds are built as the sidecar declares them."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from pytest_tinyai.dataset import find_samples
from pytest_tinyai.kinds import SaliencyMap
from pytest_tinyai.parity.cases import image_cases
from pytest_tinyai.tensor_contract import Contract

PIXEL = (200, 100, 50)


def contract(**image_fields) -> Contract:
    image = {"name": "input", "dtype": "float32", "shape": [1, 3, "H", "W"], **image_fields}
    if image_fields.get("layout") == "NHWC":
        image["shape"] = [1, "H", "W", 3]
    return Contract.from_sidecar(
        {
            "inputs": [image],
            "outputs": [{"name": "map", "dtype": "float32", "shape": [1, 1, "H", "W"]}],
            "nominal": {"H": 4, "W": 6},
        }
    )


@pytest.fixture
def fold(tmp_path):
    """One 4x6 image of a single colour and its all-foreground mask."""
    (tmp_path / "Image").mkdir()
    (tmp_path / "Mask").mkdir()
    Image.fromarray(np.full((4, 6, 3), PIXEL, np.uint8)).save(tmp_path / "Image" / "a.png")
    Image.fromarray(np.full((4, 6), 255, np.uint8)).save(tmp_path / "Mask" / "a.png")
    return tmp_path


def test_an_undeclared_normalisation_means_imagenets(fold):
    (sample,) = find_samples(fold)
    feed = SaliencyMap().feeds(sample, contract())["input"]
    expected = (np.asarray(PIXEL) / 255 - [0.485, 0.456, 0.406]) / [0.229, 0.224, 0.225]
    np.testing.assert_allclose(feed[0, :, 0, 0], expected, rtol=1e-6)


def test_a_declared_normalisation_and_scale_are_applied(fold):
    (sample,) = find_samples(fold)
    declared = {"mean": [0.5, 0.5, 0.5], "std": [0.25, 0.5, 1.0], "scale": 100}
    feed = SaliencyMap().feeds(sample, contract(normalisation=declared))["input"]
    np.testing.assert_allclose(feed[0, :, 0, 0], [(2.0 - 0.5) / 0.25, (1.0 - 0.5) / 0.5, (0.5 - 0.5) / 1.0])


def test_an_nhwc_input_gets_channels_last(fold):
    (sample,) = find_samples(fold)
    feed = SaliencyMap().feeds(sample, contract(layout="NHWC"))["input"]
    assert feed.shape == (1, 4, 6, 3)


def test_the_prediction_is_the_first_declared_output_as_a_map(fold):
    outputs = {"other": np.zeros((1, 1, 4, 6)), "map": np.ones((1, 1, 4, 6))}
    assert SaliencyMap().prediction(outputs, contract()).tolist() == np.ones((4, 6)).tolist()


def test_parity_fold_cases_are_normalised_as_declared(fold):
    declared = {"mean": [0.0, 0.0, 0.0], "std": [1.0, 1.0, 1.0], "scale": 1}
    (case,) = image_cases(contract(normalisation=declared), fold)
    np.testing.assert_allclose(case.feeds["input"][0, :, 0, 0], PIXEL)
