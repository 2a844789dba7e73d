"""Paired statistics: the ratio of two models' times from interleaved rounds, its interval, the decision; and the
percentile bootstrap that gives such intervals (``benchmarks/eval_scales.py`` uses it for per-image IoU deltas).

Pure functions of given timings (no clock here), so the decision rule is specified by tests on synthetic samples.

The estimate is the median of the per-pair ratios ``mine[i] / theirs[i]``. Pairing cancels what drifts slower
than a pair (another process, CPU frequency, cache state): both runs of a pair see the same machine. The median,
rather than the mean of log ratios, because on a shared machine a pair now and then has one run preempted: that
pair's ratio is wild, and the median ignores a few such pairs while a mean moves with each of them. Its interval
is a percentile bootstrap over the pairs (resampled with replacement) with a fixed seed, so the same timings
always give the same interval and the same decision.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

Verdict = Literal["pass", "fail", "undecided"]
Sampler = Callable[[int], tuple[Sequence[float], Sequence[float]]]

CONFIDENCE = 0.95
RESAMPLES = 2000
BOOTSTRAP_SEED = 0
LOOKS = (30, 60, 120, 240)  # pairs after which the interval is looked at; the last one is the cap


@dataclass(frozen=True)
class RatioEstimate:
    """Median per-pair ratio and its bootstrap interval over `pairs` paired rounds."""

    ratio: float
    low: float
    high: float
    pairs: int


@dataclass(frozen=True)
class Decision:
    """The verdict on a budget, its estimate, and each model's median time over the pairs taken (seconds)."""

    estimate: RatioEstimate
    max_ratio: float
    verdict: Verdict
    medians: tuple[float, float] = (math.nan, math.nan)


def ratio_interval(
    mine: Sequence[float], theirs: Sequence[float], *, confidence: float = CONFIDENCE, resamples: int = RESAMPLES
) -> RatioEstimate:
    """The median of mine[i] / theirs[i] and its percentile-bootstrap interval at `confidence`."""
    if len(mine) != len(theirs) or not mine:
        raise ValueError(f"paired samples must be non-empty and of equal length, got {len(mine)} and {len(theirs)}")
    ratios = np.asarray(mine, dtype=np.float64) / np.asarray(theirs, dtype=np.float64)
    low, high = bootstrap_interval(ratios, np.median, confidence=confidence, resamples=resamples)
    return RatioEstimate(float(np.median(ratios)), low, high, len(ratios))


def bootstrap_interval(
    values: np.ndarray,
    statistic: Callable[..., np.ndarray],
    *,
    confidence: float = CONFIDENCE,
    resamples: int = RESAMPLES,
) -> tuple[float, float]:
    """The percentile-bootstrap interval at `confidence` of `statistic` (a numpy reduction taking ``axis``) over
    `values` resampled with replacement, seeded so the same values always give the same interval."""
    rng = np.random.default_rng(BOOTSTRAP_SEED)
    estimates = statistic(values[rng.integers(0, len(values), (resamples, len(values)))], axis=1)
    tail = (1.0 - confidence) / 2.0
    low, high = np.quantile(estimates, [tail, 1.0 - tail])
    return float(low), float(high)


def verdict(estimate: RatioEstimate, max_ratio: float) -> Verdict:
    """pass when the whole interval lies below the budget, fail when it lies above it, else undecided."""
    if estimate.high < max_ratio:
        return "pass"
    if estimate.low > max_ratio:
        return "fail"
    return "undecided"


def decide(sample: Sampler, max_ratio: float, looks: Sequence[int] = LOOKS) -> Decision:
    """Take paired rounds up to each look in turn and stop at the first decided verdict, or undecided at the cap.

    `sample(n)` returns n more paired times (mine, theirs). Looking a few times at a growing sample raises the
    chance of a wrong verdict a little above the interval's nominal 2.5% per side; the looks are few for that.
    """
    mine: list[float] = []
    theirs: list[float] = []
    for look in looks:
        more_mine, more_theirs = sample(look - len(mine))
        mine += more_mine
        theirs += more_theirs
        estimate = ratio_interval(mine, theirs)
        decided = verdict(estimate, max_ratio)
        if decided != "undecided":
            break
    return Decision(estimate, max_ratio, decided, (float(np.median(mine)), float(np.median(theirs))))


def affordable_looks(seconds_per_pair: float, max_seconds: float, looks: Sequence[int] = LOOKS) -> tuple[int, ...]:
    """The looks whose pairs fit in `max_seconds` (always the first: a slow model still gets decided, slowly)."""
    return (looks[0], *(look for look in looks[1:] if look * seconds_per_pair <= max_seconds))
