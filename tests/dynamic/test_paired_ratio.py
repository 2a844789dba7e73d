"""Paired latency statistics (`pytest_tinyai.paired`): the ratio, its interval and the budget decision, on given
timings (no clock: the decision rule is specified on synthetic samples)."""

from __future__ import annotations

import numpy as np
import pytest

from pytest_tinyai.latency_budget import budget_findings, interleaved
from pytest_tinyai.paired import LOOKS, RatioEstimate, affordable_looks, decide, ratio_interval, verdict


def noisy_pairs(ratio: float, count: int, *, spread: float = 0.02, seed: int = 1) -> tuple[list[float], list[float]]:
    """`count` pairs whose per-pair ratio scatters around `ratio`; each pair at a different machine speed."""
    rng = np.random.default_rng(seed)
    theirs = 0.010 * rng.uniform(0.5, 2.0, count)
    mine = theirs * ratio * rng.lognormal(0.0, spread, count)
    return list(mine), list(theirs)


def sampler_of(ratio: float, *, spread: float = 0.02):
    """A sampler (as `decide` takes) drawing pairs around `ratio`, recording how many it was asked for."""
    asked: list[int] = []
    rng = np.random.default_rng(2)

    def sample(count: int) -> tuple[list[float], list[float]]:
        asked.append(count)
        theirs = 0.010 * rng.uniform(0.5, 2.0, count)
        return list(theirs * ratio * rng.lognormal(0.0, spread, count)), list(theirs)

    return sample, asked


def test_the_ratio_is_the_median_of_the_per_pair_ratios():
    estimate = ratio_interval([2.0, 3.0, 12.0], [1.0, 1.0, 4.0])
    assert estimate.ratio == 3.0
    assert estimate.pairs == 3


def test_a_drift_that_both_models_share_cancels_in_the_paired_ratio():
    # The machine slows down tenfold over the run; every pair still runs mine 1.2x theirs.
    slowdown = np.linspace(1.0, 10.0, 60)
    estimate = ratio_interval(list(0.012 * slowdown), list(0.010 * slowdown))
    assert estimate.ratio == pytest.approx(1.2)
    assert estimate.high - estimate.low == pytest.approx(0.0, abs=1e-12)


def test_a_few_preempted_runs_do_not_move_the_ratio():
    mine, theirs = noisy_pairs(1.2, 60)
    for index in (3, 17, 41):
        mine[index] *= 30.0
    assert ratio_interval(mine, theirs).ratio == pytest.approx(1.2, rel=0.02)


def test_the_interval_contains_the_ratio_and_narrows_with_more_pairs():
    few = ratio_interval(*noisy_pairs(1.2, 30))
    many = ratio_interval(*noisy_pairs(1.2, 240))
    assert few.low <= few.ratio <= few.high
    assert many.high - many.low < few.high - few.low


def test_the_same_timings_always_give_the_same_interval():
    pairs = noisy_pairs(1.25, 50)
    assert ratio_interval(*pairs) == ratio_interval(*pairs)


def test_paired_samples_of_different_lengths_are_refused():
    with pytest.raises(ValueError, match="equal length"):
        ratio_interval([1.0, 2.0], [1.0])


def test_an_interval_wholly_below_the_budget_passes():
    assert verdict(RatioEstimate(1.20, 1.18, 1.22, 30), 1.3) == "pass"


def test_an_interval_wholly_above_the_budget_fails():
    assert verdict(RatioEstimate(1.40, 1.35, 1.45, 30), 1.3) == "fail"


def test_an_interval_that_straddles_the_budget_is_undecided():
    assert verdict(RatioEstimate(1.30, 1.28, 1.32, 30), 1.3) == "undecided"


def test_an_upper_bound_equal_to_the_budget_is_not_a_pass():
    assert verdict(RatioEstimate(1.28, 1.26, 1.30, 30), 1.3) == "undecided"


def test_a_clear_pass_is_decided_at_the_first_look():
    sample, asked = sampler_of(1.15)
    decision = decide(sample, 1.3)
    assert decision.verdict == "pass"
    assert asked == [LOOKS[0]]
    assert decision.estimate.pairs == LOOKS[0]


def test_a_clear_excess_fails_at_the_first_look():
    sample, asked = sampler_of(1.5)
    decision = decide(sample, 1.3)
    assert decision.verdict == "fail"
    assert decision.estimate.low > 1.3
    assert asked == [LOOKS[0]]


def test_a_close_call_takes_more_pairs_until_it_is_decided():
    sample, asked = sampler_of(1.27, spread=0.05)
    decision = decide(sample, 1.3)
    assert decision.verdict == "pass"
    assert len(asked) > 1
    assert sum(asked) == decision.estimate.pairs


def test_a_ratio_on_the_budget_stays_undecided_up_to_the_cap():
    sample, asked = sampler_of(1.3, spread=0.05)
    decision = decide(sample, 1.3)
    assert decision.verdict == "undecided"
    assert sum(asked) == decision.estimate.pairs == LOOKS[-1]
    assert decision.estimate.low <= 1.3 <= decision.estimate.high


def test_looks_that_would_take_longer_than_the_time_cap_are_dropped():
    assert affordable_looks(0.01, 60.0) == LOOKS
    assert affordable_looks(0.5, 60.0) == (30, 60, 120)
    assert affordable_looks(10.0, 60.0) == (30,)


def test_interleaved_pairs_alternate_which_model_runs_first():
    order: list[str] = []
    sample = interleaved(lambda: order.append("mine") or 2.0, lambda: order.append("theirs") or 1.0)
    mine, theirs = sample(3)
    mine_more, _ = sample(1)
    assert order == ["mine", "theirs", "theirs", "mine", "mine", "theirs", "theirs", "mine"]
    assert (mine, theirs, mine_more) == ([2.0, 2.0, 2.0], [1.0, 1.0, 1.0], [2.0])


def record(verdict_: str) -> dict:
    return {
        "model": "v2",
        "relative_to": "v1",
        "resolution": "256x256",
        "max_ratio": 1.3,
        "ratio": 1.3,
        "low": 1.28,
        "high": 1.32,
        "pairs": 240,
        "verdict": verdict_,
    }


def test_a_met_budget_has_no_finding():
    assert budget_findings(record("pass")) == []


def test_an_undecided_budget_fails_showing_its_interval_and_pairs():
    [finding] = budget_findings(record("undecided"))
    assert finding.render() == (
        "v2: latency at 256x256 is 1.300x v1's (95% interval [1.280, 1.320] over 240 interleaved pairs): "
        "undecided against the budget of 1.3x at the cap of pairs; not shown met"
    )
