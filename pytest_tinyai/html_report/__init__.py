"""The conformance report: `write_report` draws the figures (`figures`) from the results document and the gates'
pictures into `<folder>/figures/`, and writes `<folder>/index.html` (`page`), which opens from disk with no server
and no network.

It needs matplotlib (the `report` extra); the plugin imports this package only when --tinyai-report is given.
A figure decides nothing: one that cannot be drawn (a malformed tile, an odd number) is replaced on the page by
the reason, and the rest of the report is still written. The number of figures is capped; the tables and the
JSON document hold every number.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from functools import partial
from pathlib import Path

from pytest_tinyai.findings import first_line, printable
from pytest_tinyai.html_report import figures
from pytest_tinyai.html_report.page import Drawn, render_page
from pytest_tinyai.registry_writer import atomic_write_bytes
from pytest_tinyai.results import Results

FIGURES = "figures"
PAGE = "index.html"
MAX_HISTOGRAMS = 100  # gates with a histogram
MAX_PICTURED_GATES = 24  # gates with their worst samples pictured
MAX_CHART_ROWS = 60  # latency bars, budgets, parity models in a chart (the tables have them all)


def _draw(folder: Path, key: str, make: Callable[[], bytes]) -> Drawn:
    """One figure written as `<folder>/figures/<key>.png`, or why it was not."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # a glyph a font lacks, a degenerate axis: the picture still says it
            data = make()
    except Exception as error:  # a figure decides nothing: whatever stops one is shown in its place
        return Drawn(error=printable(f"{type(error).__name__}: {first_line(error)}"))
    atomic_write_bytes(folder / FIGURES / f"{key}.png", data)
    return Drawn(f"{FIGURES}/{key}.png")


def _capped(what: str, cap: int) -> Drawn:
    return Drawn(error=f"more than {cap} {what} in this run; the numbers are in the tables and the JSON")


def write_report(results: Results, folder: Path) -> Path:
    """Write the report into `folder` (created if needed; figures of an earlier report there are replaced) and
    return the page's path."""
    (folder / FIGURES).mkdir(parents=True, exist_ok=True)
    for stale in (folder / FIGURES).glob("*.png"):
        stale.unlink()
    document = results.document
    drawn: dict[str, Drawn] = {}
    for index, gate in enumerate(document["gates"]):
        fold = gate["fold"]
        if fold is not None and fold.get("scores"):
            key = f"gate-{index}-histogram"
            drawn[key] = (
                _draw(folder, key, partial(figures.score_histogram, gate))
                if index < MAX_HISTOGRAMS
                else _capped("gate histograms", MAX_HISTOGRAMS)
            )
        pictured = results.pictures.get(gate["nodeid"])
        if pictured:
            key = f"gate-{index}-worst"
            drawn[key] = (
                _draw(folder, key, partial(figures.worst_samples, gate, pictured))
                if index < MAX_PICTURED_GATES
                else _capped("pictured gates", MAX_PICTURED_GATES)
            )
    charts = (
        ("latency", figures.latency_chart, document["latency"]),
        ("budgets", figures.budget_chart, document["budgets"]),
        ("parity", figures.parity_chart, document["parity"]),
    )
    for key, chart, rows in charts:
        if rows:
            drawn[key] = _draw(folder, key, partial(chart, rows[:MAX_CHART_ROWS]))
    page = folder / PAGE
    atomic_write_bytes(page, render_page(document, drawn).encode("utf-8"))
    return page
