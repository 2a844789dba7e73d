"""The yardstick itself: a plainly broken model beside a healthy one is contained."""

from __future__ import annotations

from hostile_builders import assert_contained, run_hostile


def test_a_wrong_digest_fails_its_model_and_leaves_the_healthy_one_alone(pytester, hostile):
    hostile.add("bad", sha256="0" * 64)
    assert_contained(run_hostile(pytester, hostile), "bad", "sha256 mismatch")
