"""The terminal summary: per-check outcomes, every gate and latency budget, what was not evaluated or timed, ledger."""

from __future__ import annotations

import math
import textwrap
from collections import Counter
from typing import Any

import pytest

from pytest_tinyai import properties as keys
from pytest_tinyai.findings import printable
from pytest_tinyai.paired import CONFIDENCE
from pytest_tinyai.parity import GRAPH
from pytest_tinyai.results import RECORDS, schema_problem
from pytest_tinyai.run_state import RunState
from pytest_tinyai.signatures import ABSENT, DIGEST_MATCHES, NOT_DECLARED, NOT_VERIFIED

CHECK_ORDER = (
    "registry",
    "opset",
    "allowlist",
    "resize",
    "contract",
    "parity",
    "golden",
    "fuzz",
    "gate",
    "thresholds",
    "bench",
)
OUTCOMES = ("passed", "failed", "skipped", "xfailed")
ID_LINE_WIDTH = 100  # characters of a summary line listing model ids


class ConformanceReport:
    """Registered as a plugin while registries are checked; tallies reports (xdist workers' included)."""

    def __init__(self, run_state: RunState) -> None:
        self.run_state = run_state
        self.tally: Counter[tuple[str, str]] = Counter()
        self.models: set[str] = set()
        self.gates: dict[str, dict[str, Any]] = {}
        self.gates_not_evaluated: list[str] = []
        self.not_run: list[str] = []
        self.budgets: list[dict[str, Any]] = []
        self.parities: dict[str, dict[str, Any]] = {}
        self.derived: dict[str, dict[str, Any]] = {}
        self.signatures: dict[str, dict[str, Any]] = {}  # model → what its registry check found of its signature
        self.not_timed = 0

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        properties = dict(report.user_properties)
        check = properties.get(keys.CHECK)
        if check is None or not (report.when == "call" or report.outcome != "passed"):
            return
        outcome = "xfailed" if hasattr(report, "wasxfail") and report.skipped else report.outcome
        self.tally[(check, outcome)] += 1
        if keys.MODEL in properties:
            self.models.add(properties[keys.MODEL])
        gate, parity, budget = (_record(properties, name) for name in ("gate", "parity", "latency_budget"))
        if gate is not None:
            self.gates[properties[keys.MODEL]] = gate
        signature = properties.get(keys.result("registry"))
        if isinstance(signature, dict) and keys.MODEL in properties:
            self.signatures[properties[keys.MODEL]] = signature
        if parity is not None:
            self.parities[properties[keys.MODEL]] = parity
        if budget is not None:
            self.budgets.append(budget)
        derived = properties.get(keys.result("contract"))
        if isinstance(derived, dict) and derived.get("contract") == "derived" and keys.MODEL in properties:
            self.derived[properties[keys.MODEL]] = derived
        if report.skipped and not hasattr(report, "wasxfail"):
            reason = str(report.longrepr[2]) if isinstance(report.longrepr, tuple) else str(report.longrepr)
            if check == "gate":
                self.gates_not_evaluated.append(reason)
            elif check == "bench":
                self.not_timed += 1
            else:
                self.not_run.append(reason)

    def pytest_terminal_summary(self, terminalreporter: pytest.TerminalReporter) -> None:
        write = terminalreporter.write_line
        terminalreporter.section("tinyai conformance")
        for registry in self.run_state.registries:
            write(f"registry: {registry}")
        write(f"models checked: {len(self.models)}")
        checks = sorted({check for check, _ in self.tally}, key=lambda c: (*CHECK_ORDER, c).index(c))
        for check in checks:
            counts = {outcome: self.tally[(check, outcome)] for outcome in OUTCOMES}
            shown = ", ".join(f"{n} {outcome}" for outcome, n in counts.items() if n or outcome in ("passed", "failed"))
            write(f"  {check:<15} {shown}")
        self._write_signatures(terminalreporter)
        self._write_derived(terminalreporter)
        self._write_parities(terminalreporter)
        self._write_gates(terminalreporter)
        self._write_budgets(terminalreporter)
        if self.not_timed:
            terminalreporter.write_line(
                f"{self.not_timed} bench items NOT timed: pytest-benchmark is disabled under xdist or "
                "--benchmark-disable; run them with -p no:xdist -m tinyai_bench",
                red=True,
                bold=True,
            )
        if self.not_run:
            terminalreporter.write_line(f"{len(self.not_run)} checks NOT run:", red=True, bold=True)
            for reason in self.not_run:
                terminalreporter.write_line(f"  {reason}", red=True)
        for message in self.run_state.ledger_updates:
            write(f"ledger: {message}")

    def _write_signatures(self, terminalreporter: pytest.TerminalReporter) -> None:
        """Which models' Sigstore bundles were not checked (absent, or none declared) and which sign the registry's
        sha256; the ids compactly, wrapped."""
        by_state: dict[str | None, list[str]] = {}
        for model, record in sorted(self.signatures.items()):
            by_state.setdefault(record.get("signature"), []).append(printable(model, 80))
        lines = (
            (DIGEST_MATCHES, "Sigstore bundles sign the registry's sha256 (" + NOT_VERIFIED + ")", {}),
            (ABSENT, "signatures NOT verified: bundle absent", {"red": True, "bold": True}),
            (NOT_DECLARED, "signatures NOT verified: no sigstore_bundle declared", {"yellow": True}),
        )
        for state, text, markup in lines:
            models = by_state.get(state)
            if not models:
                continue
            whose = "model's" if len(models) == 1 else "models'"
            terminalreporter.write_line(f"{len(models)} {whose} {text}:", **markup)
            for line in textwrap.wrap(", ".join(models), ID_LINE_WIDTH, initial_indent="  ", subsequent_indent="  "):
                terminalreporter.write_line(line, **markup)

    def _write_derived(self, terminalreporter: pytest.TerminalReporter) -> None:
        """One line per model held to the contract derived from its graph: a weaker claim than a declared one."""
        if not self.derived:
            return
        terminalreporter.write_line(
            "contracts derived from the graph (no tinyai.contract; names, types and dims, no range or normalisation):"
        )
        for model, record in sorted(self.derived.items()):
            dims = ", ".join(f"{symbol}={value}" for symbol, value in record["nominal"].items()) or "its fixed dims"
            ran = f"run at {dims}" if record["ran"] else "not run (see its failure)"
            terminalreporter.write_line(f"  {model}: kind {record['kind'] or '-'}, {ran}")

    def _write_parities(self, terminalreporter: pytest.TerminalReporter) -> None:
        """One line per model whose parity ran: which weights the reference carried, and the worst difference."""
        for model, parity in sorted(self.parities.items()):
            why = " (no weights file)" if parity["parity"] == GRAPH else ""
            terminalreporter.write_line(
                f"parity: {model} {parity['parity']}{why}, max-abs-diff {parity['max_abs_diff']:.3g}"
            )

    def _write_gates(self, terminalreporter: pytest.TerminalReporter) -> None:
        if self.gates:
            terminalreporter.write_line("gates (each measured on its held-out fold with its metric):")
            header = f"  {'model':<28} {'measured':>8} {'baseline':>28} {'floor':>6} {'margin':>8}  fold"
            terminalreporter.write_line(header)
        for model, gate in sorted(self.gates.items()):
            baseline = _baseline_cell(gate)
            floor = f"{gate['floor']:.3f}" if gate["floor"] is not None else "-"
            measured = f"{gate['measured']:.4f}"
            margin = f"{gate['margin']:+.4f}" if not math.isnan(gate["margin"]) else "-"
            terminalreporter.write_line(
                f"  {model:<28} {measured:>8} {baseline:>28} {floor:>6} {margin:>8}  {gate['fold']} ({gate['metric']})"
            )
        if self.gates_not_evaluated:
            terminalreporter.write_line(
                f"{len(self.gates_not_evaluated)} gates NOT evaluated (--tinyai-allow-missing-data):",
                red=True,
                bold=True,
            )
            for reason in self.gates_not_evaluated:
                terminalreporter.write_line(f"  {reason}", red=True)

    def _write_budgets(self, terminalreporter: pytest.TerminalReporter) -> None:
        if not self.budgets:
            return
        terminalreporter.write_line(
            f"latency budgets (median ratio of interleaved pairs, {CONFIDENCE:.0%} bootstrap interval):"
        )
        for budget in sorted(self.budgets, key=lambda b: (b["model"], b["relative_to"], b["resolution"])):
            interval = f"[{budget['low']:.3f}, {budget['high']:.3f}]"
            terminalreporter.write_line(
                f"  {budget['model']} vs {budget['relative_to']} at {budget['resolution']}: "
                f"{budget['ratio']:.3f}x {interval} budget {budget['max_ratio']}x "
                f"{budget['verdict']} ({budget['pairs']} pairs)",
                red=budget["verdict"] != "pass",
            )


def _record(properties: dict[str, Any], check: str) -> dict[str, Any] | None:
    """The check's measured record, unless it is missing or breaks its schema (the report lists that as malformed)."""
    record = properties.get(keys.result(check))
    return record if record is not None and schema_problem(record, RECORDS[check]) is None else None


def _baseline_cell(gate: dict[str, Any]) -> str:
    """'<id> <measured>', '<id> unmeasured' when the baseline could not be scored (the gate fails), or '-'."""
    if not gate["baseline"]:
        return "-"
    measured = gate["baseline_measured"]
    return f"{gate['baseline']} {measured:.4f}" if measured is not None else f"{gate['baseline']} unmeasured"
