"""Gate check: a model's held-out score, re-measured, against its baseline, floor, claim and ledger record."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from functools import partial
from typing import Any

from pytest_tinyai import properties as keys
from pytest_tinyai.context import CheckContext, FoldEscape
from pytest_tinyai.findings import CheckResult, Finding, NotChecked, NotRun
from pytest_tinyai.fold_eval import FoldScore
from pytest_tinyai.gate.evaluation import EvaluationError
from pytest_tinyai.gate.pictures import gate_attachment
from pytest_tinyai.model import ModelUnderTest

CLAIM_TOLERANCE = 0.002
FLOAT_SLACK = 1e-9  # so that a claim exactly CLAIM_TOLERANCE away is not failed by rounding in float subtraction


class MissingData(NotRun):
    """The gate's fold is absent and --tinyai-allow-missing-data turns that into a loud skip."""


@dataclass(frozen=True)
class GateResult:
    """One evaluated gate, as the terminal summary prints it."""

    model: str
    fold: str
    metric: str
    measured: float
    baseline: str | None
    baseline_measured: float | None
    floor: float | None
    claimed: float

    @property
    def margin(self) -> float:
        bars = [bar for bar in (self.baseline_measured, self.floor) if bar is not None]
        return self.measured - max(bars) if bars else float("nan")

    @property
    def properties(self) -> dict[str, float]:
        """The headline numbers for JUnit XML: `iou`, `baseline_iou`, `margin` (`score`, `baseline_score` under a
        metric other than IoU); a margin only where there is a bar to clear."""
        iou = self.metric.startswith("mean_iou")
        found = {keys.IOU if iou else keys.SCORE: self.measured}
        if self.baseline_measured is not None:
            found[keys.BASELINE_IOU if iou else keys.BASELINE_SCORE] = self.baseline_measured
        if not math.isnan(self.margin):
            found[keys.MARGIN] = self.margin
        return found


def check_gate(model: ModelUnderTest, context: CheckContext) -> list[Finding] | CheckResult:
    gate = model.tinyai.get("gate")
    findings: list[Finding] = []

    def report(message: str) -> None:
        findings.append(Finding(model.id, "gate", message))

    if context.ledger is not None:
        for problem in context.ledger.gate_problems(model.entry.registry_path, model.id, gate):
            report(f"ledger {context.ledger.path.name}: {problem}")
    if gate is None:
        return findings or [Finding(model.id, "gate", "the sidecar declares no gate")]
    _status_problems(model, gate, context, report)

    fold_name, pinned = gate["fold"]["name"], gate["fold"]["content_sha256"]
    try:
        fold_root = context.fold_path(model, fold_name)
    except FoldEscape as escape:
        report(str(escape))
        return findings
    if not fold_root.is_dir():
        if context.allow_missing_data:
            raise MissingData(model.id, "gate", f"fold '{fold_name}' is missing at {fold_root}")
        report(
            f"fold '{fold_name}' is missing at {fold_root} (point --tinyai-data-dir at it, or pass "
            "--tinyai-allow-missing-data to skip the gate loudly)"
        )
        return findings
    metric = context.metrics.get(gate["metric"])
    if metric is None:
        report(f"metric '{gate['metric']}' is not a registered metric ({', '.join(sorted(context.metrics))})")
        return findings
    try:
        kind = context.kinds.get(model.contract.kind) if model.contract else None
        if kind is None:
            raise EvaluationError(f"'{model.id}' has no registered model kind to read fold '{fold_name}' with")
        actual = context.evaluations.content_hash(fold_root, kind)
        if actual != pinned:
            report(
                f"fold '{fold_name}' content hash is {actual}, the gate pins {pinned}: not evaluated on a changed fold"
            )
            return findings
        score = context.evaluations.score(model, fold_root, context.kinds, metric)
    except EvaluationError as error:
        report(f"gate not evaluated: {error}")
        return findings
    measured = score.value
    baseline_id = gate.get("baseline")
    baseline_measured = None
    baseline = None
    if baseline_id is not None:
        baseline = _baseline_score(model, baseline_id, fold_root, metric, context, report)
    if baseline is not None:
        baseline_measured = baseline[1].value
        if measured < baseline_measured:
            report(
                f"{gate['metric']} {measured:.4f} < baseline {baseline_id} {baseline_measured:.4f} "
                f"on fold '{fold_name}' (margin {measured - baseline_measured:+.4f})"
            )
    floor = gate.get("floor")
    if floor is not None and measured < floor:
        report(f"{gate['metric']} {measured:.4f} < floor {floor} on fold '{fold_name}'")
    if abs(gate["claimed"] - measured) > CLAIM_TOLERANCE + FLOAT_SLACK:
        report(
            f"claims {gate['metric']} {gate['claimed']} but measures {measured:.4f} "
            f"(|difference| {abs(gate['claimed'] - measured):.4f} > {CLAIM_TOLERANCE})"
        )
    result = GateResult(
        model.id, fold_name, gate["metric"], measured, baseline_id, baseline_measured, floor, gate["claimed"]
    )
    attachment = None
    if context.worst_samples:
        samples = partial(kind.samples, fold_root)
        attachment = gate_attachment(model, score, kind, samples, baseline, context.worst_samples)
    return CheckResult(findings, {**asdict(result), "margin": result.margin}, result.properties, attachment)


def _baseline_score(model, baseline_id, fold_root, metric, context, report) -> tuple[ModelUnderTest, FoldScore] | None:
    """The baseline model and its score on the same fold, or None (reported) when it cannot be scored."""
    baseline = context.peers(model).get(baseline_id)
    if baseline is None:
        report(f"baseline '{baseline_id}' is not a model of this registry")
        return None
    try:
        return baseline, context.evaluations.score(baseline, fold_root, context.kinds, metric)
    except NotChecked as error:
        report(f"baseline '{baseline_id}' cannot be evaluated: {error.reason}")
        return None
    except EvaluationError as error:
        report(f"baseline '{baseline_id}' cannot be evaluated: {error}")
        return None


def _status_problems(model: ModelUnderTest, gate: dict[str, Any], context: CheckContext, report) -> None:
    status = model.tinyai.get("status")
    if status == "production" and "gate_failed" in gate:
        report(f"status is production but the gate records gate_failed: {gate['gate_failed']!r}")
    role = model.tinyai.get("role")
    if status != "production" or role is None:
        return
    rivals = sorted(
        peer_id
        for peer_id, peer in context.peers(model).items()
        if peer_id != model.id and _declares(peer, status="production", role=role)
    )
    if rivals:
        report(f"role '{role}' has more than one production model: {', '.join([model.id, *rivals])}")


def _declares(peer: ModelUnderTest, **fields: str) -> bool:
    try:
        blocks = peer.tinyai
    except NotChecked:
        return False
    return all(blocks.get(key) == value for key, value in fields.items())
