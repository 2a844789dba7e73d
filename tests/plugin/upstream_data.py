"""The vendored upstream registry (tests/data/upstream-vmaf-tiny) as the tests that run on it see it: where it is, its
model ids, the three entries whose registry trust fails (and the one line saying why), and a copy to change."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

UPSTREAM = Path(__file__).resolve().parents[1] / "data" / "upstream-vmaf-tiny"
TRUST_FAILED = "not checked: registry trust failed: "

# Registry trust fails, so every other item of the model fails with "not checked: registry trust failed: ...", and
# none of them can have a golden set.
UNTRUSTED = {
    # the two ONNX files upstream hosts as release assets, absent from the vendored checkout (NOTICE): what any
    # checkout without the assets shows, not a defect of the registry
    "fastdvdnet_pre": "fastdvdnet_pre: ONNX 'fastdvdnet_pre.onnx' does not exist",
    "transnet_v2": "transnet_v2: ONNX 'transnet_v2.onnx' does not exist",
    # the graph names an external-data file that is not in the tree (its weights ship as vmaf_tiny_v1_medium.onnx.data)
    "vmaf_tiny_v1_medium": (
        "vmaf_tiny_v1_medium: external data 'mlp_medium_final.onnx.data' does not exist "
        "(named by 'vmaf_tiny_v1_medium.onnx')"
    ),
}


def upstream_entries() -> list[dict]:
    return json.loads((UPSTREAM / "registry.json").read_text())["models"]


def upstream_ids() -> list[str]:
    return [entry["id"] for entry in upstream_entries()]


def not_checked(model: str) -> str:
    """The line every item but `registry[model]` of an untrusted model fails with."""
    return UNTRUSTED[model].replace(": ", f": {TRUST_FAILED}", 1)


def failure_lines(result, item: str) -> list[str]:
    """The lines the item `item` (e.g. 'golden[m]') failed with; it must have failed."""
    [report] = [
        report
        for report in result.reprec.getreports("pytest_runtest_logreport")
        if report.nodeid.endswith(f"::{item}") and report.when == "call"
    ]
    assert report.failed, item
    return report.longreprtext.splitlines()


def copy_of_upstream(tmp_path: Path) -> Path:
    folder = tmp_path / "upstream"
    shutil.copytree(UPSTREAM, folder)
    return folder
