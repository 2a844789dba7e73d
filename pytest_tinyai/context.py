"""CheckContext: the run-wide specs and limits every check reads, built once from the command-line options."""

from __future__ import annotations

from dataclasses import dataclass

from pytest_tinyai.specs import Allowlist, ResizeContract, load_allowlist, load_resize_contract


@dataclass(frozen=True)
class CheckContext:
    allowlist: Allowlist
    resize_contract: ResizeContract
    max_nesting_depth: int = 8
    max_loops: int = 16
    max_loop_trip_count: int = 1024

    @classmethod
    def defaults(cls) -> CheckContext:
        return cls(allowlist=load_allowlist(), resize_contract=load_resize_contract())
