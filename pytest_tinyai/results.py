"""The run's results as one document: what --tinyai-json writes and the --tinyai-report page shows.

What each item's reports said (its phases' outcomes, the lines a failure printed, the properties it recorded,
workers' items included) is kept as an `ItemLog`; `results_document` turns the logs into the document that
`specs/results.schema.json` describes. Records are held to that schema's definitions before they are used: an item
whose record breaks them (a third-party check, a crafted property) is listed as malformed and its record left
out, never raised. Numbers that are not finite become null; text is escaped and cut (`findings.printable`).
The pictures of a gate's worst samples are not part of the document: `pictures` hands them to the page alone.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from jsonschema import Draft202012Validator

from pytest_tinyai import properties as keys
from pytest_tinyai.findings import printable
from pytest_tinyai.specs import json_schema

SCHEMA = "results.schema.json"
SCHEMA_VERSION = 1
MAX_LINES = 40  # lines of one item's failure text
MAX_LINE = 500  # characters of one line
MAX_LABEL = 200  # characters of a model id or check name
TILES = ("image", "truth", "prediction", "baseline_prediction")
OUTCOMES = ("passed", "failed", "skipped", "xfailed", "xpassed", "error")
RECORDS = {"gate": "gate_record", "parity": "parity_record", "bench": "bench_record", "latency_budget": "budget_record"}


@dataclass(frozen=True)
class Phase:
    """One report of an item: its phase (setup, call, teardown), outcome, text and the item's properties then."""

    when: str
    outcome: str  # passed, failed, skipped
    text: str
    properties: tuple[tuple[str, Any], ...]
    wasxfail: str | None = None
    duration: float = 0.0


@dataclass
class ItemLog:
    """Everything the reports of one tinyai item said."""

    nodeid: str
    name: str
    check: str
    model: str | None
    phases: list[Phase] = field(default_factory=list)

    @property
    def deciding(self) -> Phase | None:
        """The phase whose outcome is the item's: a failed or skipped setup, else the call, else a failed
        teardown."""
        by_when = {phase.when: phase for phase in self.phases}
        setup, call, teardown = (by_when.get(when) for when in ("setup", "call", "teardown"))
        if setup is not None and setup.outcome != "passed":
            return setup
        if teardown is not None and teardown.outcome == "failed" and (call is None or call.outcome == "passed"):
            return teardown
        return call

    @property
    def outcome(self) -> str:
        phase = self.deciding
        if phase is None:
            return "error"
        if phase.when != "call" and phase.outcome == "failed":
            return "error"
        if phase.wasxfail is not None:
            return "xfailed" if phase.outcome == "skipped" else "xpassed"
        return phase.outcome

    @property
    def properties(self) -> dict[str, Any]:
        """The properties the call reported (they hold what the check measured), else the last phase's."""
        phase = next((p for p in self.phases if p.when == "call"), self.phases[-1] if self.phases else None)
        return {} if phase is None else dict(phase.properties)


@cache
def _validator(definition: str) -> Draft202012Validator:
    schema = json_schema(SCHEMA)
    return Draft202012Validator(schema).evolve(schema=schema["$defs"][definition])


def schema_problem(value: Any, definition: str) -> str | None:
    """Why `value` breaks the results schema's definition `definition` (its first error, one line), or None."""
    error = next(iter(_validator(definition).iter_errors(value)), None)
    if error is None:
        return None
    where = "/".join(str(part) for part in error.absolute_path)
    return printable(f"{where or 'record'}: {error.message}", MAX_LINE)


def finite(value: Any) -> Any:
    """`value` with every float that is not finite replaced by None (JSON has no NaN)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {key: finite(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [finite(item) for item in value]
    return value


def _lines(phase: Phase | None, outcome: str) -> tuple[list[str], int]:
    """The item's text as lines (an xfail's reason, a skip's reason, a failure's lines), cut; and how many were
    left out."""
    if phase is None or outcome == "passed":
        return [], 0
    text = f"xfail: {phase.wasxfail}" if outcome == "xfailed" and phase.wasxfail else phase.text
    lines = [printable(line, MAX_LINE) for line in text.splitlines() if line.strip()]
    return lines[:MAX_LINES], max(0, len(lines) - MAX_LINES)


def _measured(found: dict[str, Any], malformed: list[str]) -> dict[str, float | None]:
    measured = {}
    for name in keys.MEASURED:
        if name not in found:
            continue
        value = found[name]
        if isinstance(value, bool) or not isinstance(value, int | float):
            malformed.append(f"property '{name}' is {type(value).__name__}, not a number")
        else:
            measured[name] = finite(float(value))
    return measured


def _record(found: dict[str, Any], check: str, malformed: list[str]) -> dict[str, Any] | None:
    definition = RECORDS.get(check)
    key = keys.result(check)
    if definition is None or key not in found:
        return None
    problem = schema_problem(found[key], definition)
    if problem is not None:
        malformed.append(f"{key}: {problem}")
        return None
    return finite(found[key])


def _attachment(found: dict[str, Any], check: str, malformed: list[str]) -> dict[str, Any] | None:
    key = keys.attachment(check)
    if check != "gate" or key not in found:
        return None
    problem = schema_problem(found[key], "gate_attachment")
    if problem is not None:
        malformed.append(f"{key}: {problem}")
        return None
    return finite(found[key])


@dataclass
class Results:
    """The document and, beside it, the pictures of each gate's worst samples (by the gate item's node id)."""

    document: dict[str, Any]
    pictures: dict[str, list[dict[str, Any]]]


def results_document(logs: Iterable[ItemLog], header: dict[str, Any]) -> Results:
    """The results of a run's tinyai items, in the order given."""
    items, gates, parity, latency, budgets = [], [], [], [], []
    pictures: dict[str, list[dict[str, Any]]] = {}
    totals: Counter[str] = Counter()
    for log in logs:
        outcome = log.outcome
        totals[outcome] += 1
        found, malformed = log.properties, []
        lines, left_out = _lines(log.deciding, outcome)
        item: dict[str, Any] = {
            "nodeid": printable(log.nodeid, MAX_LINE),
            "name": printable(log.name, MAX_LINE),
            "check": printable(log.check, MAX_LABEL) or "?",
            "model": printable(log.model, MAX_LABEL) or "?" if log.model is not None else None,
            "outcome": outcome,
            "duration_s": finite(float(sum(phase.duration for phase in log.phases))),
            "lines": lines,
            "properties": _measured(found, malformed),
        }
        if left_out:
            item["lines_left_out"] = left_out
        record = _record(found, log.check, malformed)
        attachment = _attachment(found, log.check, malformed) if record is not None else None
        where = {"nodeid": item["nodeid"], "outcome": outcome}
        if record is not None and log.check == "gate":
            fold = None
            if attachment is not None:
                pictured = attachment.get("worst", [])
                if pictured:
                    pictures[item["nodeid"]] = pictured
                worst = [{k: v for k, v in sample.items() if k not in TILES} for sample in pictured]
                fold = {**attachment, **({"worst": worst} if "worst" in attachment else {})}
            gates.append({**where, "record": record, "fold": fold})
        elif record is not None and log.check == "parity":
            parity.append({**where, "record": record})
        elif record is not None and log.check == "bench":
            latency.append(_latency(item["nodeid"], record["model"], record, "median_ms", "bench"))
        elif record is not None and log.check == "latency_budget":
            budgets.append({**where, "record": record})
            for model, median in (("model", "median_ms"), ("relative_to", "relative_to_median_ms")):
                if median in record:
                    latency.append(_latency(item["nodeid"], record[model], record, median, "latency_budget"))
        if malformed:
            item["malformed"] = malformed
        items.append(item)
    document = {
        "schema_version": SCHEMA_VERSION,
        "header": finite(header),
        "totals": {outcome: totals[outcome] for outcome in OUTCOMES if totals[outcome]},
        "items": items,
        "gates": gates,
        "parity": parity,
        "latency": latency,
        "budgets": budgets,
    }
    return Results(document, pictures)


def _latency(nodeid: str, model: str, record: dict[str, Any], median: str, source: str) -> dict[str, Any]:
    return {
        "nodeid": nodeid,
        "model": model,
        "resolution": record["resolution"],
        "median_ms": record[median],
        "source": source,
    }
