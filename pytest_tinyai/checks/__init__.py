"""The check catalogue: name → marker, applicability and the function that returns findings for a model."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from pytest_tinyai.checks.allowlist import check_allowlist
from pytest_tinyai.checks.contract import check_contract
from pytest_tinyai.checks.opset import check_opset
from pytest_tinyai.checks.registry import check_registry
from pytest_tinyai.checks.resize import check_resize
from pytest_tinyai.context import CheckContext
from pytest_tinyai.findings import Finding
from pytest_tinyai.model import ModelUnderTest


@dataclass(frozen=True)
class Check:
    name: str
    description: str
    run: Callable[[ModelUnderTest, CheckContext], list[Finding]]

    @property
    def marker(self) -> str:
        return f"tinyai_{self.name}"


CATALOGUE: tuple[Check, ...] = (
    Check(
        "registry",
        "registry trust: schema, sha256, confinement, size caps, sidecar, int8 sibling, licence",
        check_registry,
    ),
    Check(
        "opset",
        "registry opset = sidecar onnx_opset = graph opset_import; every node in the default domain",
        check_opset,
    ),
    Check(
        "allowlist",
        "every op (subgraphs and functions included) on the runtime's allowlist; Loop/nesting limits",
        check_allowlist,
    ),
    Check("resize", "every Resize node within the runtime's Resize attribute contract", check_resize),
    Check(
        "contract",
        "graph I/O match the declared tensor contract; checker passes; runs at the nominal shape",
        check_contract,
    ),
)
