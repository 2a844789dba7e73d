"""Builders and readers for the report's tests: runs that write --tinyai-report and --tinyai-json into pytester's
directory, the results document held to its schema, the page's text and figures, and what makes a picture blank."""

from __future__ import annotations

import html
import io
import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import numpy as np
import pytest
from dynamic_builders import Workspace, channel_model, heavy_model, run_tinyai, sidecar
from PIL import Image

from pytest_tinyai.specs import json_schema

REPORT = "report"
GATE_RECORD = {  # a gate record as the gate check sends it: v2 below its baseline v1
    "model": "v2",
    "fold": "f",
    "metric": "mean_iou@0.5",
    "measured": 0.5,
    "baseline": "v1",
    "baseline_measured": 0.75,
    "floor": 0.4,
    "claimed": 0.5,
    "margin": -0.25,
}
RESULTS = "results.json"


def run_report(pytester: pytest.Pytester, marker: str, *args: str) -> pytest.RunResult:
    """An in-process run of one marker on ./registry.json that writes ./report/ and ./results.json."""
    return run_tinyai(pytester, marker, "--tinyai-report", REPORT, "--tinyai-json", RESULTS, *args)


def results(root: Path) -> dict[str, Any]:
    """The run's --tinyai-json document, after holding it to specs/results.schema.json."""
    document = json.loads((root / RESULTS).read_text())
    jsonschema.validate(document, json_schema("results.schema.json"))
    return document


def page(root: Path) -> str:
    """The report page's HTML."""
    return (root / REPORT / "index.html").read_text()


def page_text(root: Path) -> str:
    """The page's text as a reader sees it: tags dropped, entities unescaped, whitespace collapsed."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page(root))).split())


def figures(root: Path) -> dict[str, bytes]:
    """Every picture the page shows, by its `src`, read from the report folder."""
    sources = re.findall(r'<img src="([^"]+)"', page(root))
    return {source: (root / REPORT / html.unescape(source)).read_bytes() for source in sources}


def blank(png: bytes) -> bool:
    """A picture with (next to) nothing in it: under 2% of its pixels differ from its most common colour, or it has
    fewer than 16 colours."""
    pixels = np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).reshape(-1, 3)
    colours, counts = np.unique(pixels, axis=0, return_counts=True)
    return len(colours) < 16 or 1.0 - counts.max() / len(pixels) < 0.02


def by_model(entries: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Gate, parity or budget entries of the document by their record's model."""
    return {entry["record"]["model"]: entry for entry in entries}


def item(document: dict[str, Any], name: str) -> dict[str, Any]:
    """The document's item named `name` (e.g. 'gate[v2]')."""
    return next(entry for entry in document["items"] if entry["name"] == name)


def add_failing_gate(workspace: Workspace, fold_hash: str) -> None:
    """v2 (blue, 0.5) in production against its baseline v1 (green, 0.75): v2's gate fails by 0.25."""
    workspace.add_gated("v1", "green", fold_hash=fold_hash, floor=0.5)
    workspace.add_gated("v2", "blue", fold_hash=fold_hash, floor=0.4, baseline="v1", status="production", role="s")
    workspace.write_ledger()


def add_budgeted_pair(workspace: Workspace, max_ratio: float) -> None:
    """'light' (one 1x1 conv) and 'heavy' (eight 3x3 convs of 16 channels), both timed at 64x64; heavy's budget is
    `max_ratio` times light's latency there."""
    budget = {"relative_to": "light", "resolution": [64, 64], "max_ratio": max_ratio}
    workspace.add("light", channel_model(), sidecar("light", latency={"resolutions": [[64, 64]]}))
    heavy = sidecar("heavy", latency={"resolutions": [[64, 64]], "budgets": [budget]})
    workspace.add("heavy", heavy_model(layers=8), heavy)
