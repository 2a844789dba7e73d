"""The student architectures and the placeholder: exact sizes and the shape of what they compute."""

import pytest
import torch

from trainers.placeholder import mobilesal_placeholder_v0
from trainers.saliency_student.model import param_count, saliency_student_v1, saliency_student_v2


@pytest.mark.parametrize(
    ("factory", "expected"),
    [(saliency_student_v1, 112_841), (saliency_student_v2, 123_721), (mobilesal_placeholder_v0, 4)],
)
def test_trainable_parameter_count_is_exact(factory, expected):
    assert param_count(factory()) == expected


@pytest.mark.parametrize("factory", [saliency_student_v1, saliency_student_v2])
def test_student_maps_an_image_to_a_probability_map_of_the_same_size(factory):
    with torch.no_grad():
        out = factory().eval()(torch.randn(1, 3, 40, 56))
    assert out.shape == (1, 1, 40, 56)
    assert out.min() >= 0.0 and out.max() <= 1.0


def test_v1_and_v2_differ_only_in_their_upsamplers():
    v1, v2 = saliency_student_v1().state_dict(), saliency_student_v2().state_dict()
    shared = {k: v.shape for k, v in v1.items() if not k.startswith("up")}
    assert shared == {k: v.shape for k, v in v2.items() if not k.startswith("up")}


def test_placeholder_outputs_about_one_half_whatever_the_input():
    with torch.no_grad():
        out = mobilesal_placeholder_v0()(torch.randn(1, 3, 17, 9) * 3)
    assert out.shape == (1, 1, 17, 9)
    assert torch.allclose(out, torch.full_like(out, 0.5), atol=0.01)
