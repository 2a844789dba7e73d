"""The shapes fuzz tries, by cost: explicit examples that prove the extremes, and random draws under a pixel budget.

A shape's cost is the product of its fuzzed dims ("pixels" for H x W). The explicit examples run once each: the
corners of the dims box (every dim at its min, every dim at its max, each dim alone at its max or alone at its
min), the named shapes such as 1080 by 1920 that the contract admits, and (outside the contract) the sizes one
step coarser than multiple_of. A corner costlier than EXTREME_PIXELS (a 1080p frame) is replaced by the largest
admissible shape under it. The random draws stay under the pixel budget: the dims are drawn in a random order,
the first free to reach its max (thin strips, odd aspect ratios), the rest bounded by what the budget leaves,
and each favours its few smallest sizes half the time: small and odd shapes are where shape bugs live.
"""

from __future__ import annotations

import math

from hypothesis import strategies as st

from pytest_tinyai.tensor_contract import DimRule

NAMED_SHAPES = ((1080, 1920),)
EXTREME_PIXELS = 1080 * 1920
DEFAULT_PIXEL_BUDGET = 256 * 256
SMALL_STEPS = 8  # "small": within this many multiple_of steps of the smallest admitted size


def pixels(shape: dict[str, int]) -> int:
    return math.prod(shape.values())


def explicit_shapes(rules: dict[str, DimRule]) -> list[dict[str, int]]:
    """The corners of the dims box and the admitted named shapes, each within EXTREME_PIXELS, without repeats."""
    lowest = {symbol: rule.smallest for symbol, rule in rules.items()}
    highest = {symbol: rule.largest for symbol, rule in rules.items()}
    shapes = [lowest, highest]
    shapes += [{**lowest, symbol: highest[symbol]} for symbol in rules]
    shapes += [{**highest, symbol: lowest[symbol]} for symbol in rules]
    if len(rules) == 2:
        named = (dict(zip(rules, shape, strict=True)) for shape in NAMED_SHAPES)
        shapes += [shape for shape in named if not any(rules[s].violation(v) for s, v in shape.items())]
    capped = (largest_within(shape, rules, EXTREME_PIXELS) for shape in shapes)
    return list({tuple(shape.items()): shape for shape in capped}.values())


def largest_within(shape: dict[str, int], rules: dict[str, DimRule], cap: int) -> dict[str, int]:
    """`shape`, its largest dim stepped down (by multiple_of, not below its smallest) until it costs at most `cap`."""
    shape = dict(shape)
    while pixels(shape) > cap:
        reducible = [symbol for symbol in shape if shape[symbol] - rules[symbol].multiple_of >= rules[symbol].smallest]
        if not reducible:
            break
        largest = max(reducible, key=lambda symbol: shape[symbol])
        shape[largest] -= rules[largest].multiple_of
    return shape


def budgeted_shapes(
    rules: dict[str, DimRule], budget: int, broken: str | None = None
) -> st.SearchStrategy[dict[str, int]]:
    """Admitted shapes costing at most `budget` (or the cheapest one); the `broken` dim, if any, breaks multiple_of."""
    floors = {symbol: _smallest_invalid(rule) if symbol == broken else rule.smallest for symbol, rule in rules.items()}

    @st.composite
    def shapes(draw: st.DrawFn) -> dict[str, int]:
        order = draw(st.permutations(list(rules)))
        chosen: dict[str, int] = {}
        for position, symbol in enumerate(order):
            rest = pixels(chosen) * math.prod(floors[other] for other in order[position + 1 :])
            ceiling = max(floors[symbol], budget // rest)
            sizes = invalid_sizes if symbol == broken else valid_sizes
            chosen[symbol] = draw(sizes(rules[symbol], ceiling))
        return {symbol: chosen[symbol] for symbol in rules}

    return shapes()


def valid_sizes(rule: DimRule, ceiling: int) -> st.SearchStrategy[int]:
    """Multiples of multiple_of in [min, min(max, ceiling)], the smallest few favoured."""
    step = rule.multiple_of
    return _favour_small(rule.smallest // step, min(rule.largest, ceiling) // step).map(lambda k: k * step)


def invalid_sizes(rule: DimRule, ceiling: int) -> st.SearchStrategy[int]:
    """Sizes in [min, min(max, ceiling)] that break multiple_of, the smallest few favoured."""
    step, upper = rule.multiple_of, min(rule.maximum, ceiling)
    return (
        st.tuples(_favour_small(rule.minimum // step, upper // step), st.integers(1, step - 1))
        .map(lambda pair: pair[0] * step + pair[1])
        .filter(lambda size: rule.minimum <= size <= upper)
    )


def _favour_small(low: int, high: int) -> st.SearchStrategy[int]:
    return st.one_of(st.integers(low, min(high, low + SMALL_STEPS)), st.integers(low, high))


def _smallest_invalid(rule: DimRule) -> int:
    return rule.minimum if rule.minimum % rule.multiple_of else rule.minimum + 1


def coarser_sizes(rule: DimRule) -> list[int]:
    """Per prime p of multiple_of, the smallest size in [min, max] that is a multiple of multiple_of/p but not of
    multiple_of: the sizes a contract one step too strict (e.g. 16 where the model needs 8) wrongly refuses."""
    sizes = []
    for prime in _prime_factors(rule.multiple_of):
        step = rule.multiple_of // prime
        start = -(-rule.minimum // step) * step
        size = next((s for s in range(start, rule.maximum + 1, step) if s % rule.multiple_of), None)
        if size is not None:
            sizes.append(size)
    return sizes


def _prime_factors(number: int) -> list[int]:
    factors, candidate = [], 2
    while candidate * candidate <= number:
        if number % candidate:
            candidate += 1
        else:
            factors.append(candidate)
            while number % candidate == 0:
                number //= candidate
    return [*factors, number] if number > 1 else factors
