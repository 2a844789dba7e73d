"""Contract-valid shapes for parity: the nominal one, the smallest one and a few seeded draws, kept modest."""

from __future__ import annotations

import numpy as np

from pytest_tinyai.parity import ParityError
from pytest_tinyai.tensor_contract import Contract, DimRule

SIDE_CAP = 512
DRAWS = 2


def valid_sizes(rule: DimRule, cap: int = SIDE_CAP) -> range:
    """The values a dim may take, up to ``cap`` (or the smallest valid value alone when it exceeds ``cap``)."""
    smallest = -(-rule.minimum // rule.multiple_of) * rule.multiple_of
    if smallest > rule.maximum:
        raise ParityError(f"no size satisfies the dim rule {rule}")
    return range(smallest, max(smallest, min(rule.maximum, cap)) + 1, rule.multiple_of)


def parity_shapes(contract: Contract, seed: int = 0, draws: int = DRAWS, cap: int = SIDE_CAP) -> list[dict[str, int]]:
    """Distinct dim assignments: nominal, every dim at its minimum, then ``draws`` seeded ones within the rules.

    A symbol without a rule keeps its nominal value.
    """
    missing = [symbol for symbol in contract.symbols if symbol not in contract.nominal]
    if missing:
        raise ParityError(f"the contract's nominal shape gives no value for {missing}")
    sizes = {
        symbol: valid_sizes(contract.dims[symbol], cap) if symbol in contract.dims else range(value, value + 1)
        for symbol, value in ((symbol, contract.nominal[symbol]) for symbol in contract.symbols)
    }
    rng = np.random.default_rng(seed)
    shapes = [
        {symbol: contract.nominal[symbol] for symbol in contract.symbols},
        {symbol: values[0] for symbol, values in sizes.items()},
        *({symbol: int(rng.choice(values)) for symbol, values in sizes.items()} for _ in range(draws)),
    ]
    unique = {tuple(shape.items()): shape for shape in shapes}
    return list(unique.values())
