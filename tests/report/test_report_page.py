"""The report page (pytest_tinyai.html_report.page and write_report): self-contained, every text escaped, long
lists cut, a figure that cannot be drawn replaced by its reason, the rest of the report still written."""

from __future__ import annotations

import re

from report_builders import GATE_RECORD

from pytest_tinyai.html_report import write_report
from pytest_tinyai.html_report.page import CSP, MAX_ROWS, Drawn, render_page
from pytest_tinyai.results import ItemLog, Phase, results_document

HEADER = {"registries": [{"path": "/r/registry.json", "commit": None}], "versions": {"onnx": "1"}, "machine": {}}
GATE = GATE_RECORD


def item(name: str, model: str | None, outcome: str = "passed", text: str = "", check: str = "gate", **found):
    return ItemLog(f"registry.json::{name}", name, check, model, [Phase("call", outcome, text, tuple(found.items()))])


def test_the_page_loads_nothing_from_elsewhere_and_runs_no_script():
    results = results_document([item("gate[v2]", "v2", tinyai_gate_result=GATE)], HEADER)
    page = render_page(results.document, {"gate-0-histogram": Drawn("figures/gate-0-histogram.png")})
    assert f'<meta http-equiv="Content-Security-Policy" content="{CSP}">' in page
    assert "<script" not in page and "<link" not in page
    references = re.findall(r'(?:src|href)="([^"]*)"', page)
    assert references and all(ref.startswith(("#", "figures/")) for ref in references), references


def test_text_from_a_registry_is_escaped_wherever_it_shows():
    hostile = "<script>alert(1)</script>"
    logs = [
        item(f"allowlist[{hostile}]", hostile, "failed", f"{hostile}: op '{hostile}' is not allowed", "allowlist"),
        item("registry[registry.json]", None, "failed", f'bad "quote" {hostile}', "registry"),
    ]
    page = render_page(results_document(logs, HEADER | {"arguments": [hostile]}).document, {})
    assert "<script" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;: op &#x27;&lt;script&gt;" in page


def test_long_lists_are_cut_and_say_how_many_more_the_json_holds():
    logs = [item(f"registry[m{index}]", f"m{index}", "failed", "broken", "registry") for index in range(MAX_ROWS + 5)]
    page = render_page(results_document(logs, HEADER).document, {})
    assert "5 more models in the JSON" in page
    assert "5 more in the JSON" in page


def test_a_figure_that_cannot_be_drawn_shows_why_and_the_report_is_still_written(tmp_path):
    sample = {"label": "s0", "score": 0.0, "image": "AAAA", "truth": "AAAA", "prediction": "AAAA"}
    fold = {"samples": 1, "scores": [0.0], "worst": [sample]}
    logs = [item("gate[v2]", "v2", tinyai_gate_result=GATE, tinyai_gate_attachment=fold)]
    page = write_report(results_document(logs, HEADER), tmp_path / "report").read_text()
    assert "figure not drawn: ValueError: a tile is not a PNG or JPEG picture" in page
    assert (tmp_path / "report" / "figures" / "gate-0-histogram.png").is_file()
    assert '<img src="figures/gate-0-histogram.png"' in page


def test_a_report_written_again_replaces_the_figures_of_the_last_one(tmp_path):
    folder = tmp_path / "report"
    (folder / "figures").mkdir(parents=True)
    (folder / "figures" / "gate-7-worst.png").write_bytes(b"old")
    (folder / "notes.txt").write_text("mine")
    write_report(results_document([], HEADER), folder)
    assert not (folder / "figures" / "gate-7-worst.png").exists()
    assert (folder / "notes.txt").read_text() == "mine"
    assert "No tinyai items ran." in (folder / "index.html").read_text()
