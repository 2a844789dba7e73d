"""The report's page: the results document rendered as one self-contained HTML file (inline CSS, no script, no
external resource; a Content-Security-Policy forbids both), with its figures referenced as files beside it.

Everything shown comes from the document and is HTML-escaped here; long lists are cut at MAX_ROWS with a line
saying how many were left out (the JSON document has them all).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from html import escape
from typing import Any

MAX_ROWS = 1000  # rows of the outcome grid, of the findings, of each table
SEVERITY = ("error", "failed", "xpassed", "skipped", "xfailed", "passed")  # worst first
SYMBOL = {"passed": "✓", "failed": "✗", "error": "E", "skipped": "s", "xfailed": "x", "xpassed": "X"}
NO_MODEL = "(registry file)"
CSP = "default-src 'none'; img-src 'self' file: data:; style-src 'unsafe-inline'"

STYLE = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Helvetica,Arial,sans-serif;color:#1f2328;margin:0;
background:#f6f8fa}
main{max-width:1180px;margin:0 auto;padding:20px 28px 60px;background:#fff;min-height:100vh}
h1{font-size:26px;margin:4px 0 6px}h2{font-size:20px;margin:34px 0 10px;border-bottom:1px solid #d0d7de;
padding-bottom:4px}h3{font-size:16px;margin:18px 0 6px}
table{border-collapse:collapse;margin:6px 0 12px}td,th{border:1px solid #d0d7de;padding:3px 8px;text-align:left;
vertical-align:top}th{background:#f6f8fa;font-weight:600}td.num{text-align:right;font-variant-numeric:tabular-nums}
.facts td:first-child{color:#57606a;white-space:nowrap}
code,pre,.mono{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:12.5px}
pre{background:#f6f8fa;border:1px solid #d0d7de;padding:8px;white-space:pre-wrap;word-break:break-word;margin:4px 0}
.pill{display:inline-block;border-radius:10px;padding:1px 9px;font-weight:600;font-size:12.5px;color:#fff}
.pill.passed{background:#1a7f37}.pill.failed,.pill.xpassed{background:#cf222e}.pill.error{background:#82071e}
.pill.skipped{background:#bf8700}.pill.xfailed{background:#6e7781}
table.grid th{font-size:12.5px;padding:3px 6px}table.grid td.cell{text-align:center;min-width:38px;font-weight:600}
table.grid td.cell a{color:inherit;text-decoration:none;display:block}
td.cell.passed{background:#dafbe1;color:#1a7f37}td.cell.failed,td.cell.xpassed{background:#ffebe9;color:#cf222e}
td.cell.error{background:#ffd8d3;color:#82071e}td.cell.skipped{background:#fff8c5;color:#7d4e00}
td.cell.xfailed{background:#eaeef2;color:#57606a}td.cell.none{background:#fff;color:#d0d7de}
.finding{border-left:5px solid #d0d7de;padding:2px 12px;margin:10px 0}.finding.failed,.finding.error,
.finding.xpassed{border-color:#cf222e}.finding.skipped{border-color:#bf8700}.finding.xfailed{border-color:#6e7781}
.card{border:1px solid #d0d7de;border-radius:8px;padding:6px 16px 12px;margin:16px 0}
.neg{color:#cf222e;font-weight:600}.pos{color:#1a7f37;font-weight:600}.note{color:#57606a}
.warn{color:#9a6700;font-weight:600}
img{max-width:100%;height:auto;display:block;margin:8px 0;border:1px solid #eaeef2}
nav a{margin-right:14px}.wide{overflow-x:auto}
.row{display:flex;gap:20px;flex-wrap:wrap;align-items:flex-start}.numbers{max-width:560px}
h4{font-size:14px;font-weight:600;margin:14px 0 2px}
"""


@dataclass(frozen=True)
class Drawn:
    """A figure of the page: the file it was written to (relative to the page), or why it could not be drawn."""

    path: str | None = None
    error: str | None = None


def _e(value: Any) -> str:
    return escape(str(value), quote=True)


def number(value: Any, digits: int = 4, signed: bool = False) -> str:
    """A measured number as the page prints it ('n/a' for null or not finite)."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return "n/a"
    return f"{value:+.{digits}f}" if signed else f"{value:.{digits}f}"


def _pill(outcome: str) -> str:
    return f'<span class="pill {_e(outcome)}">{_e(outcome)}</span>'


def _figure(drawn: Drawn | None, alt: str) -> str:
    if drawn is None:
        return ""
    if drawn.path is None:
        return f'<p class="warn">figure not drawn: {_e(drawn.error)}</p>'
    return f'<img src="{_e(drawn.path)}" alt="{_e(alt)}">'


def _cut(rows: list[str], columns: int, what: str) -> list[str]:
    if len(rows) <= MAX_ROWS:
        return rows
    note = f'<tr><td colspan="{columns}" class="note">{len(rows) - MAX_ROWS:,} more {_e(what)} in the JSON</td></tr>'
    return [*rows[:MAX_ROWS], note]


def verdict(document: dict[str, Any]) -> str:
    """failed when any item failed, errored or passed while expected to fail; else passed."""
    totals = document["totals"]
    return "failed" if any(totals.get(outcome) for outcome in ("failed", "error", "xpassed")) else "passed"


def _header(document: dict[str, Any]) -> str:
    header = document["header"]
    rows = []
    for registry in header.get("registries", []):
        commit = registry.get("commit") or "not in a git repository (or unreadable)"
        rows.append(f"<tr><td>registry</td><td><code>{_e(registry['path'])}</code></td></tr>")
        rows.append(f"<tr><td>commit</td><td><code>{_e(commit)}</code></td></tr>")
    versions = ", ".join(f"{_e(name)} {_e(version or 'not installed')}" for name, version in header["versions"].items())
    rows.append(f"<tr><td>versions</td><td>{versions}</td></tr>")
    machine = header.get("machine", {})
    described = ", ".join(f"{_e(key)}: {_e(value)}" for key, value in machine.items() if value is not None)
    rows.append(f"<tr><td>machine</td><td>{described}</td></tr>")
    for key, label in (("started", "started"), ("duration_s", "duration"), ("workers", "xdist workers")):
        if header.get(key) is not None:
            value = f"{header[key]:.1f} s" if key == "duration_s" else header[key]
            rows.append(f"<tr><td>{label}</td><td>{_e(value)}</td></tr>")
    if header.get("arguments"):
        rows.append(f"<tr><td>arguments</td><td><code>{_e(' '.join(header['arguments']))}</code></td></tr>")
    totals = " ".join(f"{_pill(outcome)}&nbsp;{count}" for outcome, count in document["totals"].items())
    rows.append(f"<tr><td>items</td><td>{totals or 'none'}</td></tr>")
    return f'<table class="facts">{"".join(rows)}</table>'


def _check_order(document: dict[str, Any]) -> list[str]:
    declared = [check["name"] for check in document["header"].get("checks", [])]
    seen = [item["check"] for item in document["items"]]
    return [check for check in dict.fromkeys([*declared, *seen]) if check in set(seen)]


def _grid(document: dict[str, Any]) -> str:
    items = document["items"]
    if not items:
        return '<p class="note">No tinyai items ran.</p>'
    checks = _check_order(document)
    descriptions = {check["name"]: check.get("description", "") for check in document["header"].get("checks", [])}
    cells: dict[tuple[str, str], list[int]] = defaultdict(list)
    for index, item in enumerate(items):
        cells[(item["model"] or NO_MODEL, item["check"])].append(index)
    models = list(dict.fromkeys(item["model"] or NO_MODEL for item in items))
    head = "".join(f'<th title="{_e(descriptions.get(check, ""))}">{_e(check)}</th>' for check in checks)
    rows = []
    for model in models:
        row = [f'<td class="mono">{_e(model)}</td>']
        for check in checks:
            row.append(_cell([items[i] | {"index": i} for i in cells.get((model, check), [])]))
        rows.append(f"<tr>{''.join(row)}</tr>")
    body = "".join(_cut(rows, len(checks) + 1, "models"))
    return f'<div class="wide"><table class="grid"><tr><th>model</th>{head}</tr>{body}</table></div>'


def _cell(items: list[dict[str, Any]]) -> str:
    if not items:
        return '<td class="cell none">·</td>'
    outcomes = [item["outcome"] for item in items]
    worst = min(outcomes, key=SEVERITY.index)
    counts = {outcome: outcomes.count(outcome) for outcome in SEVERITY if outcome in outcomes}
    shown = " ".join(f"{count if len(items) > 1 else ''}{SYMBOL[outcome]}" for outcome, count in counts.items())
    flagged = next((item for item in items if item["outcome"] != "passed"), None)
    title = " | ".join(item["name"] + (f": {item['lines'][0]}" if item["lines"] else "") for item in items[:6])
    content = _e(shown) if flagged is None else f'<a href="#item-{flagged["index"]}">{_e(shown)}</a>'
    return f'<td class="cell {_e(worst)}" title="{_e(title)}">{content}</td>'


def _findings(document: dict[str, Any]) -> str:
    flagged = [(index, item) for index, item in enumerate(document["items"]) if item["outcome"] != "passed"]
    malformed = [(index, item) for index, item in enumerate(document["items"]) if item.get("malformed")]
    if not flagged and not malformed:
        return '<p class="pos">Every item passed.</p>'
    blocks = []
    flagged.sort(key=lambda pair: SEVERITY.index(pair[1]["outcome"]))
    for index, item in flagged[:MAX_ROWS]:
        lines = "\n".join(item["lines"])
        if item.get("lines_left_out"):
            lines += f"\n… {item['lines_left_out']} more lines"
        text = f"<pre>{_e(lines)}</pre>" if lines else ""
        blocks.append(
            f'<div class="finding {_e(item["outcome"])}" id="item-{index}">{_pill(item["outcome"])} '
            f"<code>{_e(item['nodeid'])}</code>{text}</div>"
        )
    if len(flagged) > MAX_ROWS:
        blocks.append(f'<p class="note">{len(flagged) - MAX_ROWS:,} more in the JSON</p>')
    for index, item in malformed[:MAX_ROWS]:
        problems = "\n".join(item["malformed"])
        blocks.append(
            f'<div class="finding error" id="malformed-{index}"><span class="pill error">malformed results</span> '
            f"<code>{_e(item['nodeid'])}</code><pre>{_e(problems)}</pre></div>"
        )
    return "".join(blocks)


def _gate(gate: dict[str, Any], item: dict[str, Any] | None, histogram: Drawn | None, worst: Drawn | None) -> str:
    record, fold = gate["record"], gate["fold"]
    margin = record["margin"]
    margin_class = "neg" if isinstance(margin, int | float) and margin < 0 else "pos"
    baseline = "none"
    if record["baseline"] is not None:
        baseline = f"{_e(record['baseline'])} {number(record['baseline_measured'])}"
    claimed = record.get("claimed")
    claim_off = ""
    if isinstance(claimed, int | float) and isinstance(record["measured"], int | float):
        claim_off = f" (off by {abs(claimed - record['measured']):.4f})"
    facts = [
        ("metric", _e(record["metric"])),
        ("fold", f"{_e(record['fold'])}" + (f" ({fold['samples']} samples)" if fold else "")),
        ("measured", f"<b>{number(record['measured'])}</b>"),
        ("baseline", baseline),
        ("floor", number(record["floor"], 3) if record["floor"] is not None else "none"),
        ("claimed", f"{number(claimed)}{claim_off}"),
        ("margin", f'<span class="{margin_class}">{number(margin, signed=True)}</span> over the higher bar'),
    ]
    table = "".join(f"<tr><td>{name}</td><td>{value}</td></tr>" for name, value in facts)
    numbers = f'<table class="facts">{table}</table>'
    if item is not None and item["lines"]:
        numbers += f"<pre>{_e(chr(10).join(item['lines']))}</pre>"
    parts = [f"<h3>{_e(record['model'])} {_pill(gate['outcome'])}</h3>"]
    if fold is None:
        parts.append(f'{numbers}<p class="note">No per-sample scores were sent for this gate.</p>')
        return f'<div class="card">{"".join(parts)}</div>'
    histogram_html = _figure(histogram, f"histogram of {record['metric']} over the fold")
    parts.append(f'<div class="row"><div class="numbers">{numbers}</div><div>{histogram_html}</div></div>')
    if fold.get("pictures_error"):
        parts.append(f'<p class="warn">worst samples not pictured: {_e(fold["pictures_error"])}</p>')
    if worst is not None:
        count = len(fold.get("worst", []))
        parts.append(
            f"<h4>The {count} worst held-out samples, lowest {_e(record['metric'])} first: the truth tinted green, "
            "each prediction in orange over the image with the truth's outline</h4>"
        )
        parts.append(_figure(worst, "the worst held-out samples: image, truth, predictions"))
    return f'<div class="card">{"".join(parts)}</div>'


def _gates(document: dict[str, Any], figures: dict[str, Drawn]) -> str:
    if not document["gates"]:
        return '<p class="note">No gate was evaluated in this run.</p>'
    items = {item["nodeid"]: item for item in document["items"]}
    cards = []
    for index, gate in enumerate(document["gates"]):
        item = items.get(gate["nodeid"])
        cards.append(_gate(gate, item, figures.get(f"gate-{index}-histogram"), figures.get(f"gate-{index}-worst")))
    return "".join(cards)


def _table(headings: Iterable[str], rows: list[str], what: str) -> str:
    columns = list(headings)
    head = "".join(f"<th>{_e(heading)}</th>" for heading in columns)
    return f"<table><tr>{head}</tr>{''.join(_cut(rows, len(columns), what))}</table>"


def _latency(document: dict[str, Any], figures: dict[str, Drawn]) -> str:
    latency, budgets = document["latency"], document["budgets"]
    if not latency and not budgets:
        return (
            '<p class="note">No latency was measured in this run (bench items deselected or not timed, no budget '
            "run).</p>"
        )
    parts = [_figure(figures.get("latency"), "median latency per model and resolution")]
    rows = [
        f'<tr><td class="mono">{_e(entry["model"])}</td><td>{_e(entry["resolution"])}</td>'
        f'<td class="num">{number(entry["median_ms"], 3)}</td><td>{_e(entry["source"])}</td></tr>'
        for entry in latency
    ]
    if rows:
        parts.append(_table(("model", "resolution", "median ms", "timed by"), rows, "timings"))
    if budgets:
        parts.append("<h3>Latency budgets</h3>")
        parts.append(_figure(figures.get("budgets"), "latency budget ratios with their intervals"))
        rows = []
        for budget in budgets:
            record = budget["record"]
            verdict_class = "pos" if record["verdict"] == "pass" else "neg"
            rows.append(
                f'<tr><td class="mono">{_e(record["model"])}</td><td class="mono">{_e(record["relative_to"])}</td>'
                f'<td>{_e(record["resolution"])}</td><td class="num">{number(record["ratio"], 3)}x</td>'
                f'<td class="num">[{number(record["low"], 3)}, {number(record["high"], 3)}]</td>'
                f'<td class="num">{number(record["max_ratio"], 2)}x</td>'
                f'<td class="{verdict_class}">{_e(record["verdict"])}</td><td class="num">{_e(record["pairs"])}</td>'
                f'<td class="num">{number(record.get("median_ms"), 3)} / '
                f"{number(record.get('relative_to_median_ms'), 3)}</td><td>{_pill(budget['outcome'])}</td></tr>"
            )
        headings = ("model", "relative to", "at", "ratio", "95% interval", "budget", "verdict", "pairs", "medians ms")
        parts.append(_table((*headings, "item"), rows, "budgets"))
    return "".join(parts)


def _parity(document: dict[str, Any], figures: dict[str, Drawn]) -> str:
    parity = document["parity"]
    if not parity:
        return '<p class="note">No parity check ran in this run.</p>'
    kinds = list(dict.fromkeys(kind for entry in parity for kind in entry["record"].get("by_input", {})))
    rows = []
    for entry in parity:
        record = entry["record"]
        by_input = record.get("by_input", {})
        cells = "".join(f'<td class="num">{_scientific(by_input.get(kind))}</td>' for kind in kinds)
        rows.append(
            f'<tr><td class="mono">{_e(record["model"])}</td><td>{_e(record["parity"])}</td>{cells}'
            f'<td class="num">{_scientific(record["max_abs_diff"])}</td>'
            f'<td class="num">{_scientific(record.get("tolerance"))}</td><td>{_pill(entry["outcome"])}</td></tr>'
        )
    table = _table(("model", "reference", *kinds, "worst", "tolerance", "item"), rows, "models")
    return _figure(figures.get("parity"), "parity max-abs difference per model and input kind") + table


def _scientific(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return "n/a"
    return f"{value:.3g}"


def render_page(document: dict[str, Any], figures: dict[str, Drawn]) -> str:
    """The whole page."""
    outcome = verdict(document)
    sections = (
        ("outcomes", "Outcomes: model by check", _grid(document)),
        ("findings", "Findings", _findings(document)),
        ("gates", "Held-out gates", _gates(document, figures)),
        ("latency", "Latency", _latency(document, figures)),
        ("parity", "Parity: PyTorch vs onnxruntime", _parity(document, figures)),
    )
    nav = "".join(f'<a href="#{key}">{_e(title.split(":")[0])}</a>' for key, title, _ in sections)
    body = "".join(f'<section id="{key}"><h2>{_e(title)}</h2>{content}</section>' for key, title, content in sections)
    plugin = document["header"].get("versions", {}).get("pytest-tinyai") or ""
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>tinyai conformance: {outcome}</title><style>{STYLE}</style></head><body><main>"
        f"<h1>tinyai conformance report {_pill(outcome)}</h1>{_header(document)}<nav>{nav}</nav>{body}"
        f'<p class="note">Written by pytest-tinyai {_e(plugin)}; the same results are in --tinyai-json.</p>'
        "</main></body></html>\n"
    )
