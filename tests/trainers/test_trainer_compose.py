"""On-the-fly compositing: the atlas samples exactly, scenes follow (seed, epoch, index), batches are well formed."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

from pytest_tinyai.tensor_contract import IMAGENET_MEAN, IMAGENET_STD
from trainers.saliency_student.atlas import Atlas
from trainers.saliency_student.compose import Compositor
from trainers.saliency_student.photometric import gaussian_blur, jitter_colour
from trainers.saliency_student.scene import SceneConfig, draw_scenes, eval_like

CONFIG = SceneConfig(canvas=48, reference=64)


def _images(*shapes: tuple[int, int]) -> list[torch.Tensor]:
    generator = torch.Generator().manual_seed(0)
    return [torch.rand(3, h, w, generator=generator) for h, w in shapes]


def _render(compositor: Compositor, indices: list[int], epoch: int = 0, config: SceneConfig = CONFIG, seed: int = 1):
    scenes = draw_scenes(config, seed, epoch, indices, compositor.object_sizes, compositor.background_sizes)
    return compositor.render(scenes, config.canvas)


@pytest.fixture(scope="module")
def compositor(tiny_pack) -> Compositor:
    return Compositor.from_pack(tiny_pack, "train")


def test_the_identity_map_reads_an_entry_exactly_and_zero_outside_it() -> None:
    images = _images((20, 30), (33, 17), (8, 8))
    out = Atlas.from_images(images).sample(torch.tensor([1]), torch.tensor([[0.0, 0.0, 1.0, 1.0]]), 40)[0]
    assert torch.allclose(out[:, :33, :17], images[1], atol=1e-5)
    assert out[:, 33:].abs().max() == 0 and out[:, :, 17:].abs().max() == 0


def test_a_negative_step_mirrors_and_clamp_repeats_the_edge() -> None:
    images = _images((20, 30))
    atlas = Atlas.from_images(images)
    mirrored = atlas.sample(torch.tensor([0]), torch.tensor([[30.0, 0.0, -1.0, 1.0]]), 20)[0]
    assert torch.allclose(mirrored, images[0].flip(2)[:, :, :20], atol=1e-5)
    clamped = atlas.sample(torch.tensor([0]), torch.tensor([[0.0, 0.0, 1.0, 1.0]]), 24, clamp=True)[0]
    assert torch.allclose(clamped[:, 20:, :], images[0][:, 19:20, :24].expand(3, 4, 24), atol=1e-5)


def test_a_2x_downscale_reads_the_next_level_which_averages_2x2_blocks() -> None:
    images = _images((20, 30))
    out = Atlas.from_images(images).sample(torch.tensor([0]), torch.tensor([[0.0, 0.0, 2.0, 2.0]]), 10)[0]
    assert torch.allclose(out, torch.nn.functional.avg_pool2d(images[0][None], 2)[0][:, :, :10], atol=1e-5)


def test_batches_are_normalised_images_and_binary_masks(compositor: Compositor) -> None:
    images, masks = _render(compositor, list(range(6)))
    assert images.shape == (6, 3, 48, 48) and masks.shape == (6, 1, 48, 48)
    assert images.dtype == masks.dtype == torch.float32
    assert images.is_contiguous(memory_format=torch.channels_last)
    low = (0 - torch.tensor(IMAGENET_MEAN)) / torch.tensor(IMAGENET_STD)
    high = (1 - torch.tensor(IMAGENET_MEAN)) / torch.tensor(IMAGENET_STD)
    assert (images >= low.view(1, 3, 1, 1) - 1e-5).all() and (images <= high.view(1, 3, 1, 1) + 1e-5).all()
    assert set(masks.unique().tolist()) <= {0.0, 1.0}
    assert 0 < masks.mean() < 1


def test_an_image_depends_on_seed_epoch_and_index_only_not_on_its_batch(compositor: Compositor) -> None:
    together, together_masks = _render(compositor, [0, 1, 2, 3, 4])
    apart, apart_masks = _render(compositor, [3, 1])
    assert torch.allclose(together[[3, 1]], apart, atol=1e-5)
    assert torch.equal(together_masks[[3, 1]], apart_masks)


def test_the_same_scene_twice_is_the_same_image(compositor: Compositor) -> None:
    first, second = _render(compositor, [7, 8]), _render(compositor, [7, 8])
    assert torch.equal(first[0], second[0]) and torch.equal(first[1], second[1])


def test_another_epoch_or_seed_gives_other_images(compositor: Compositor) -> None:
    base = _render(compositor, [0, 1])[0]
    assert not torch.allclose(base, _render(compositor, [0, 1], epoch=1)[0])
    assert not torch.allclose(base, _render(compositor, [0, 1], seed=2)[0])


def test_eval_like_scenes_hold_one_object_inside_the_frame_without_jitter() -> None:
    sizes = np.array([[40.0, 30.0], [60.0, 60.0], [20.0, 50.0]])
    scenes = draw_scenes(eval_like(64), 0, 0, range(200), sizes, np.array([[96.0, 64.0]]))
    assert scenes.present.shape == (200, 1) and scenes.present.all()
    assert (scenes.blur == 0).all() and (scenes.background_colour == 1).all() and (scenes.object_colour == 1).all()
    width, height = sizes[scenes.objects[:, 0]].T
    x0, y0, step_x, step_y = scenes.object_map[:, 0].T
    left = np.where(step_x > 0, -x0 / step_x, (x0 - width) / -step_x)
    assert (left >= -1e-3).all() and (left + width / np.abs(step_x) <= 64 + 1e-3).all()
    assert (-y0 / step_y >= -1e-3).all() and (-y0 / step_y + height / step_y <= 64 + 1e-3).all()
    long_side = np.maximum(width, height) / np.abs(step_x)
    assert long_side.min() >= 0.35 * 64 - 1e-3 and long_side.max() <= 0.85 * 64 + 1e-3


def test_object_sizes_keep_the_reference_frames_pixels_at_any_canvas() -> None:
    sizes, backgrounds = np.array([[50.0, 50.0]]), np.array([[400.0, 300.0]])
    small = draw_scenes(dataclasses.replace(eval_like(256), canvas=128), 0, 0, range(50), sizes, backgrounds)
    full = draw_scenes(eval_like(256), 0, 0, range(50), sizes, backgrounds)
    assert np.allclose(np.abs(small.object_map[..., 2]), np.abs(full.object_map[..., 2]))


def test_training_scenes_mix_one_to_three_objects_mostly_one() -> None:
    scenes = draw_scenes(SceneConfig(), 0, 0, range(400), np.full((5, 2), 40.0), np.array([[96.0, 64.0]]))
    counts = np.bincount(scenes.present.sum(1))[1:]
    assert len(counts) == 3 and counts[0] > counts[1] > counts[2] > 0
    distinct = [len(set(row[present])) for row, present in zip(scenes.objects, scenes.present, strict=True)]
    assert distinct == list(scenes.present.sum(1))


def test_colour_factors_of_one_and_sigma_zero_change_nothing() -> None:
    rgb = torch.rand(2, 3, 16, 16)
    assert torch.allclose(jitter_colour(rgb, torch.ones(2, 3)), rgb, atol=1e-5)
    assert torch.allclose(gaussian_blur(rgb, torch.zeros(2)), rgb, atol=1e-5)
    blurred = gaussian_blur(rgb, torch.tensor([0.0, 1.0]))
    assert torch.allclose(blurred[0], rgb[0], atol=1e-5) and blurred[1].std() < rgb[1].std()


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_renders_what_the_cpu_renders(tiny_pack) -> None:
    cpu, cuda = Compositor.from_pack(tiny_pack, "train"), Compositor.from_pack(tiny_pack, "train", "cuda")
    images, masks = _render(cpu, list(range(8)))
    cuda_images, cuda_masks = _render(cuda, list(range(8)))
    assert torch.allclose(images, cuda_images.cpu(), atol=1e-4)
    assert (masks != cuda_masks.cpu()).float().mean() < 1e-3


def _enhanced_in_turn(rgb: torch.Tensor, factors: torch.Tensor, weight: torch.Tensor | None = None) -> torch.Tensor:
    luma = torch.tensor([0.299, 0.587, 0.114]).view(1, 3, 1, 1)
    brightness, contrast, saturation = (factors[:, i].view(-1, 1, 1, 1) for i in range(3))
    rgb = rgb * brightness
    grey = (rgb * luma).sum(1, keepdim=True)
    weight = torch.ones_like(grey) if weight is None else weight
    mean = (grey * weight).sum((2, 3), keepdim=True) / weight.sum((2, 3), keepdim=True)
    rgb = mean + (rgb - mean) * contrast
    grey = (rgb * luma).sum(1, keepdim=True)
    return (grey + (rgb - grey) * saturation).clamp(0, 1)


def test_colour_jitter_is_brightness_then_contrast_then_saturation_also_premultiplied() -> None:
    generator = torch.Generator().manual_seed(3)
    rgb, alpha = torch.rand(4, 3, 8, 8, generator=generator), torch.rand(4, 1, 8, 8, generator=generator)
    factors = 0.8 + 0.4 * torch.rand(4, 3, generator=generator)
    assert torch.allclose(jitter_colour(rgb, factors), _enhanced_in_turn(rgb, factors), atol=1e-5)
    premultiplied = jitter_colour(rgb * alpha, factors, alpha)
    assert torch.allclose(premultiplied, _enhanced_in_turn(rgb, factors, alpha) * alpha, atol=1e-5)
