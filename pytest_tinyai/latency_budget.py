"""Relative latency budgets ("v2 <= 1.3x v1 at 256x256"), measured by the budget item itself.

Both models run in this process, in interleaved pairs (A B, B A, A B, ...) on the same seeded inputs with the
same pinned threads, after a warm-up; `paired.decide` takes pairs until the ratio's interval lies wholly below
or above the budget, or the cap is reached (undecided, which fails: a budget is met only when a run shows it).
Nothing here depends on pytest-benchmark, so budgets are decided under xdist and --benchmark-disable too.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pytest_tinyai import properties as keys
from pytest_tinyai.findings import ConformanceFailure, Finding
from pytest_tinyai.model import ModelUnderTest
from pytest_tinyai.paired import CONFIDENCE, Decision, Sampler, affordable_looks, decide
from pytest_tinyai.timing import resolution_label, time_once, timed_at

CHECK = "latency_budget"
WARMUP_PAIRS = 5
MAX_SECONDS = 60.0  # looks beyond this many seconds of pairs are dropped: a slow pair of models stops earlier


def measure_budget(model: ModelUnderTest, peers: dict[str, ModelUnderTest], budget: dict[str, Any]) -> Decision:
    """Time `model` against `budget['relative_to']` in interleaved pairs until the budget is decided or the cap."""
    resolution = (budget["resolution"][0], budget["resolution"][1])
    other = peers.get(budget["relative_to"])
    if other is None:
        message = f"latency budget relative to '{budget['relative_to']}', which is not in this registry"
        raise ConformanceFailure(CHECK, [Finding(model.id, CHECK, message)])
    mine, theirs = _timed_run(model, resolution), _timed_run(other, resolution)
    sample = interleaved(mine, theirs)
    warm_mine, warm_theirs = sample(WARMUP_PAIRS)
    seconds_per_pair = min(warm_mine) + min(warm_theirs)
    return decide(sample, budget["max_ratio"], affordable_looks(seconds_per_pair, MAX_SECONDS))


def _timed_run(model: ModelUnderTest, resolution: tuple[int, int]) -> Callable[[], float]:
    ort_session, feeds = timed_at(model, resolution, CHECK)
    return lambda: time_once(model.id, ort_session, feeds, resolution, CHECK)


def interleaved(mine: Callable[[], float], theirs: Callable[[], float]) -> Sampler:
    """A sampler of paired times that alternates which model runs first, pair after pair, across calls."""
    pairs_taken = 0

    def sample(count: int) -> tuple[list[float], list[float]]:
        nonlocal pairs_taken
        mine_times, their_times = [], []
        for _ in range(count):
            if pairs_taken % 2 == 0:
                mine_times.append(mine())
                their_times.append(theirs())
            else:
                their_times.append(theirs())
                mine_times.append(mine())
            pairs_taken += 1
        return mine_times, their_times

    return sample


def budget_record(model_id: str, budget: dict[str, Any], decision: Decision) -> dict[str, Any]:
    """What the terminal summary prints of one budget (a user property: it crosses xdist)."""
    estimate = decision.estimate
    return {
        "model": model_id,
        "relative_to": budget["relative_to"],
        "resolution": resolution_label(tuple(budget["resolution"])),
        "max_ratio": decision.max_ratio,
        "ratio": estimate.ratio,
        "low": estimate.low,
        "high": estimate.high,
        "pairs": estimate.pairs,
        "verdict": decision.verdict,
        "median_ms": decision.medians[0] * 1000.0,
        "relative_to_median_ms": decision.medians[1] * 1000.0,
    }


def budget_properties(record: dict[str, Any]) -> dict[str, float]:
    """The headline numbers of a budget for JUnit XML: the ratio and this model's median time."""
    return {keys.RATIO: record["ratio"], keys.MEDIAN_MS: record["median_ms"]}


def budget_findings(record: dict[str, Any]) -> list[Finding]:
    """None when the budget is met; one line with the ratio and its interval when it is exceeded or undecided."""
    if record["verdict"] == "pass":
        return []
    measured = (
        f"latency at {record['resolution']} is {record['ratio']:.3f}x {record['relative_to']}'s "
        f"({CONFIDENCE:.0%} interval [{record['low']:.3f}, {record['high']:.3f}] over {record['pairs']} "
        "interleaved pairs)"
    )
    if record["verdict"] == "fail":
        return [Finding(record["model"], CHECK, f"{measured}, over the budget of {record['max_ratio']}x")]
    why = f"{measured}: undecided against the budget of {record['max_ratio']}x at the cap of pairs; not shown met"
    return [Finding(record["model"], CHECK, why)]
