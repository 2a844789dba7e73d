"""Fuzz check: hypothesis draws shapes inside and outside the contract's dims and holds the model to them.

Inside the contract the model must run, its outputs must follow the input's dims, be finite, inside the
declared range and identical on a repeat. Outside it (a dim that breaks `multiple_of`) the plugin refuses
the shape, and the model must really fail on it: a model that runs such a shape has a needlessly strict
contract. Hypothesis shrinks any counterexample to the smallest failing shape.

Fuzz is budgeted by cost, not by count (`fuzz_shapes`): the extremes and named shapes are explicit examples run
once, the random draws stay under a pixel budget, and the repeat run is made only on shapes within that budget.
"""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from hypothesis.errors import HypothesisException

from pytest_tinyai.checks.fuzz_shapes import (
    DEFAULT_PIXEL_BUDGET,
    budgeted_shapes,
    coarser_sizes,
    explicit_shapes,
    pixels,
)
from pytest_tinyai.context import CheckContext
from pytest_tinyai.findings import Finding, NotRunnable, first_line
from pytest_tinyai.model import ModelUnderTest
from pytest_tinyai.tensor_contract import Contract


class ContractViolation(ValueError):
    """A shape the contract does not admit; the plugin refuses to run it."""


def run_within_contract(model: ModelUnderTest, contract: Contract, dims: dict[str, int]) -> list[np.ndarray]:
    """Run the model's seeded inputs at `dims`, refusing shapes the contract does not admit."""
    violations = contract.shape_violations(dims)
    if violations:
        raise ContractViolation(f"{model.id}: shape {dims} is outside the contract: {'; '.join(violations)}")
    return model.run_seeded(dims)


def check_fuzz(model: ModelUnderTest, context: CheckContext) -> list[Finding]:
    if model.contract is None or not model.contract.dims:
        return [Finding(model.id, "fuzz", "the sidecar declares no contract dims to fuzz")]
    contract = model.contract
    fixed = {symbol: contract.nominal[symbol] for symbol in contract.symbols if symbol not in contract.dims}
    missing = [symbol for symbol in contract.symbols if symbol not in contract.dims and symbol not in fixed]
    if missing:
        return [Finding(model.id, "fuzz", f"dims {missing} have neither a rule nor a nominal value")]
    model.ort_session()  # a model that may not run, or cannot load, is refused here rather than once per example
    findings = [Finding(model.id, "fuzz", message) for message in _inside_contract(model, contract, fixed, context)]
    findings += [Finding(model.id, "fuzz", message) for message in _outside_contract(model, contract, fixed, context)]
    return findings


def _settings(context: CheckContext) -> settings:
    overrides = {"max_examples": context.fuzz_examples} if context.fuzz_examples else {}
    return settings(
        deadline=None,
        database=None,
        report_multiple_bugs=False,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        **overrides,
    )


def _describe(dims: dict[str, int]) -> str:
    return ", ".join(f"{symbol}={value}" for symbol, value in dims.items())


def _inside_contract(model: ModelUnderTest, contract: Contract, fixed: dict[str, int], context) -> list[str]:
    budget = context.fuzz_pixel_budget or DEFAULT_PIXEL_BUDGET

    def prop(drawn: dict[str, int]) -> None:
        dims = {**fixed, **drawn}
        try:
            first = run_within_contract(model, contract, dims)
        except NotRunnable:  # a killed run: the model is not run again (hypothesis shrinks it to the refusal)
            raise
        except Exception as error:  # onnxruntime raises its own error types
            raise AssertionError(f"fails at {_describe(dims)}, inside the contract: {first_line(error)}") from None
        # the repeat check runs where it is cheap (every drawn shape); the costly extremes run once
        again = model.ort_session().run(None, contract.make_inputs(dims)) if pixels(drawn) <= budget else first
        for spec, value, repeated in zip(contract.outputs, first, again, strict=True):
            expected = spec.concrete_shape(dims)
            assert value.shape == expected, (
                f"'{spec.name}' is {list(value.shape)} at {_describe(dims)}, not {list(expected)}"
            )
            if value.dtype.kind == "f":
                assert np.isfinite(value).all(), f"'{spec.name}' has non-finite values at {_describe(dims)}"
            if spec.value_range is not None:
                low, high = spec.value_range
                assert low <= value.min() and value.max() <= high, (
                    f"'{spec.name}' spans [{value.min():.6g}, {value.max():.6g}] at {_describe(dims)}, "
                    f"outside [{low}, {high}]"
                )
            assert np.array_equal(value, repeated), f"'{spec.name}' differs between two runs at {_describe(dims)}"

    test = given(budgeted_shapes(contract.dims, budget))(prop)
    for explicit in explicit_shapes(contract.dims):
        test = example(explicit)(test)
    return _run(_settings(context)(test))


def _outside_contract(model: ModelUnderTest, contract: Contract, fixed: dict[str, int], context) -> list[str]:
    strict = {symbol: rule for symbol, rule in contract.dims.items() if rule.multiple_of > 1}
    if not strict:
        return []
    budget = context.fuzz_pixel_budget or DEFAULT_PIXEL_BUDGET
    strategies = [budgeted_shapes(contract.dims, budget, broken=symbol) for symbol in strict]

    def prop(dims: dict[str, int]) -> None:
        dims = {**fixed, **dims}
        try:
            run_within_contract(model, contract, dims)
        except ContractViolation:
            pass
        else:
            raise AssertionError(f"the plugin ran {_describe(dims)}, which the contract does not admit")
        try:
            produced = model.ort_session().run(None, contract.make_inputs(dims))
        except NotRunnable:
            raise
        except Exception:  # the model really cannot run this shape: the constraint is needed
            return
        shapes_follow = all(
            value.shape == spec.concrete_shape(dims) for spec, value in zip(contract.outputs, produced, strict=True)
        )
        assert not shapes_follow, (
            f"the contract refuses {_describe(dims)}, yet the model runs it correctly: "
            f"{', '.join(f'{s}.multiple_of={r.multiple_of}' for s, r in strict.items())} is needlessly strict"
        )

    test = given(st.one_of(strategies))(prop)
    lowest = {symbol: rule.smallest for symbol, rule in contract.dims.items()}
    for symbol, rule in strict.items():
        for size in coarser_sizes(rule):
            test = example({**lowest, symbol: size})(test)
    return _run(_settings(context)(test))


def _run(test) -> list[str]:
    try:
        test()
    except AssertionError as error:
        return [str(error)]
    except HypothesisException as error:
        return [f"hypothesis could not run the property: {first_line(error)}"]
    return []
