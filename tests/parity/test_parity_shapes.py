"""The shapes parity draws from a contract: nominal, smallest, seeded draws, all valid and modest."""

from __future__ import annotations

import pytest

from pytest_tinyai.parity import ParityError
from pytest_tinyai.parity.shapes import SIDE_CAP, parity_shapes, valid_sizes
from pytest_tinyai.tensor_contract import Contract, DimRule


def contract(dims: dict[str, dict[str, int]], nominal: dict[str, int]) -> Contract:
    return Contract.from_sidecar(
        {
            "inputs": [{"name": "input", "dtype": "float32", "shape": [1, 3, "H", "W"]}],
            "outputs": [{"name": "out", "dtype": "float32", "shape": [1, 1, "H", "W"]}],
            "dims": dims,
            "nominal": nominal,
        }
    )


STUDENT = contract(
    {"H": {"min": 5, "max": 2048, "multiple_of": 8}, "W": {"min": 5, "max": 2048, "multiple_of": 8}},
    {"H": 256, "W": 256},
)


def test_nominal_shape_comes_first_then_the_smallest_valid_one():
    shapes = parity_shapes(STUDENT)

    assert shapes[:2] == [{"H": 256, "W": 256}, {"H": 8, "W": 8}]


def test_every_shape_satisfies_the_contract_and_stays_within_the_side_cap():
    shapes = parity_shapes(STUDENT, seed=7, draws=20)

    assert all(STUDENT.shape_violations(shape) == [] for shape in shapes)
    assert max(max(shape.values()) for shape in shapes) <= SIDE_CAP


def test_draws_are_seeded_distinct_and_include_non_square_shapes():
    shapes = parity_shapes(STUDENT, seed=3)

    assert shapes == parity_shapes(STUDENT, seed=3)
    assert len(shapes) == len({tuple(shape.values()) for shape in shapes}) == 4
    assert any(shape["H"] != shape["W"] for shape in shapes)


def test_dim_without_a_rule_keeps_its_nominal_value():
    shapes = parity_shapes(contract({"H": {"min": 1, "max": 64}}, {"H": 32, "W": 48}))

    assert {shape["W"] for shape in shapes} == {48}


def test_smallest_size_above_the_cap_is_used_alone():
    assert valid_sizes(DimRule(600, 2048, 8)) == range(600, 601, 8)


def test_rule_that_no_size_satisfies_is_refused():
    with pytest.raises(ParityError, match="no size satisfies the dim rule"):
        valid_sizes(DimRule(9, 15, 16))
