"""The report looked at as a person would: headless Chromium opens it from disk, and the page must show every
picture, log no error or warning on its console, and not be blank. Chromium is Debian's `chromium` package, which
.ci/run installs where apt-get exists; without it these tests skip and say so."""

from __future__ import annotations

import io

import pytest
from browser import find_chromium, look_at
from PIL import Image
from report_builders import REPORT, add_budgeted_pair, add_failing_gate, blank, run_report

pytestmark = pytest.mark.skipif(
    find_chromium() is None,
    reason="Chromium is not installed, so the report cannot be looked at: apt-get install chromium (.ci/run does)",
)


@pytest.fixture
def failing_report(pytester, workspace, fold_hash):
    """The report of a failing gate (v2 below its baseline v1) and a failing budget (heavy over 1.0x light)."""
    add_failing_gate(workspace, fold_hash)
    add_budgeted_pair(workspace, max_ratio=1.0)
    run_report(pytester, "tinyai_registry or tinyai_gate or tinyai_bench")
    return pytester.path / REPORT / "index.html"


def test_the_report_of_a_failing_gate_and_budget_shows_everything_without_an_error(failing_report):
    look = look_at(failing_report)
    assert look.problems == []
    assert look.title == "tinyai conformance: failed"
    assert "v2: mean_iou@0.5 0.5000 < baseline v1 0.7500 on fold 'tiny-fold' (margin -0.2500)" in look.text
    assert "over the budget of 1.0x" in look.text
    assert not blank(look.screenshot)
    width, height = Image.open(io.BytesIO(look.screenshot)).size
    assert width == 1280 and height > 2000  # the whole page: grid, findings, two gates with pictures, latency


def test_a_picture_missing_from_the_report_is_seen(failing_report):
    (failing_report.parent / "figures" / "budgets.png").unlink()
    problems = look_at(failing_report).problems
    assert "image not shown: figures/budgets.png" in problems
    assert any("budgets.png" in problem and "ERR_FILE_NOT_FOUND" in problem for problem in problems), problems
