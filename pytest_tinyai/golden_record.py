"""`tinyai-golden record`: record a golden test data set for the models of any registry.

For each model it writes `<registry folder>/<model stem>/test_data_set_0/{input_K.pb, output_K.pb}` (the Model Zoo's
layout, beside the model) and declares the set, its file digests and the onnxruntime version in the sidecar's
`tinyai.golden` block. The inputs are deterministic: a gated model's first fold image, through its model kind; otherwise
seeded random inputs at the nominal shape of the contract, the declared one or (declaring none) the one derived from
the graph, every input of a two-input model included. The model runs in the sandbox like in the check, and only
once its registry trust and its allowlist screening hold. An existing set is never overwritten without --force.
Only the sidecar's `tinyai` member is written (see `sidecar_text`); a smoke model with no sidecar gets one holding
that member alone.

Core layer: no pytest import. The trainers call `record` when they publish.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import numpy as np
import onnxruntime as ort

from pytest_tinyai.context import FoldEscape, fold_root
from pytest_tinyai.findings import NotChecked, printable
from pytest_tinyai.golden import SET_PREFIX, tensor_bytes
from pytest_tinyai.kinds import BUILTIN_KINDS, ModelKind
from pytest_tinyai.model import ModelUnderTest
from pytest_tinyai.registry import load_registry
from pytest_tinyai.registry_writer import atomic_write_bytes
from pytest_tinyai.sidecar import NAMESPACE, sidecar_problems
from pytest_tinyai.sidecar_text import SidecarTextError, with_namespace
from pytest_tinyai.tensor_contract import Contract
from pytest_tinyai.thresholds import DEFAULT_GOLDEN_TOLERANCE
from pytest_tinyai.trust import Limits, Untrusted, confined, present, read_capped, sidecar_relative

FIRST_SET = f"{SET_PREFIX}0"
SEED = 0


class RecordError(ValueError):
    """A model whose set cannot or may not be recorded; one line, nothing written for it."""


@dataclass(frozen=True)
class Recorded:
    model_id: str
    set_path: str
    source: str
    overwrote: bool
    created_sidecar: str | None = None  # the sidecar written for a smoke model that had none

    def __str__(self) -> str:
        verb = "re-recorded (overwrote the previous set)" if self.overwrote else "recorded"
        created = f" (created its sidecar '{self.created_sidecar}')" if self.created_sidecar else ""
        return f"{self.model_id}: {verb} golden set '{self.set_path}' from {self.source}{created}"


def set_path(entry_onnx: str) -> str:
    """Where a model's first set lives, relative to the registry folder: `<stem>/test_data_set_0` beside the model."""
    return str(PurePosixPath(entry_onnx).with_suffix("") / FIRST_SET)


def recording_feeds(
    model: ModelUnderTest, contract: Contract, kinds: dict[str, ModelKind], data_dir: Path | None = None
) -> tuple[dict[str, np.ndarray], str]:
    """Deterministic inputs and where they came from: a gated model's first fold image, else seeded random ones."""
    fold = model.tinyai.get("gate", {}).get("fold", {}).get("name")
    if fold is not None:
        try:
            root = fold_root(model.entry.folder, data_dir, fold)
        except FoldEscape as escape:
            raise RecordError(f"{model.id}: {escape}") from None
        if root.is_dir():
            kind = kinds.get(contract.kind)
            if kind is None:
                raise RecordError(f"{model.id}: no model kind '{contract.kind}' to read fold '{fold}' with")
            try:
                samples = kind.samples(root)
            except (OSError, ValueError) as error:
                raise RecordError(f"{model.id}: fold '{fold}' cannot be read: {error}") from None
            if samples:
                return kind.feeds(samples[0], contract), f"the first sample of fold {fold}"
    if contract.shape_violations(contract.nominal):
        raise RecordError(f"{model.id}: the contract's nominal shape {contract.nominal} breaks the contract")
    if over := contract.cap_problems("the nominal shape", contract.nominal, model.limits.max_pixels):
        raise RecordError(f"{model.id}: {over[0]}")
    source = f"seeded random inputs (seed {SEED}) at {_described(contract.nominal)}"
    return contract.make_inputs(contract.nominal, seed=SEED), source


def _described(dims: dict[str, int]) -> str:
    return " ".join(f"{symbol}={value}" for symbol, value in dims.items()) or "the graph's fixed dims"


def recording_contract(model: ModelUnderTest) -> Contract:
    """The contract the inputs are drawn from: the sidecar's, else the one derived from the model's own graph, which
    must be runnable at a shape (a symbolic dim with no value needs `tinyai.contract.nominal`) and hold the owner's
    fields."""
    if model.contract is not None:
        return model.contract
    derivation = model.derivation()
    why = derivation.not_run_reason or "; ".join(derivation.problems)
    if why:
        raise RecordError(f"{model.id}: the contract derived from its graph cannot be run: {why}")
    return derivation.contract


def sidecar_text(model: ModelUnderTest) -> str | None:
    """The sidecar's text as it stands (None: the model has none), which must still be the document trust checked."""
    relative = sidecar_relative(model.entry)
    if model.trust.sidecar is None and not present(model.entry.folder, relative):
        return None
    try:
        data = read_capped(confined(model.entry.folder, relative, "sidecar"), model.limits.max_sidecar_bytes, "sidecar")
    except Untrusted as error:
        raise RecordError(f"{model.id}: {error}") from None
    try:
        text = data.decode("utf-8")
        unchanged = model.trust.sidecar is not None and json.loads(text) == model.trust.sidecar
    except ValueError:  # not UTF-8 or not JSON any more
        unchanged = False
    if not unchanged:
        raise RecordError(f"{model.id}: sidecar '{relative}' changed since its registry trust was checked")
    return text


def record_model(
    model: ModelUnderTest,
    *,
    force: bool = False,
    kinds: dict[str, ModelKind] | None = None,
    data_dir: Path | None = None,
) -> Recorded:
    """Record (or with `force` re-record) the model's first set and declare it in its sidecar, atomically per file."""
    entry = model.entry
    if model.trust.problems:
        raise RecordError(f"{model.id}: registry trust failed: {model.trust.problems[0]}")
    sidecar, blocks = model.sidecar, model.tinyai
    relative = set_path(entry.raw["onnx"])
    folder = entry.folder.resolve()
    target = folder / relative
    declared = blocks.get("golden", {}).get("sets", [])
    exists = target.exists() or any(block["path"] == relative for block in declared)
    if exists and not force:
        raise RecordError(f"{model.id}: golden set '{relative}' exists; not overwritten (--force re-records it)")
    contract = recording_contract(model)
    feeds, source = recording_feeds(model, contract, kinds or {kind.name: kind for kind in BUILTIN_KINDS}, data_dir)
    try:
        ort_session = model.ort_session()
        input_names = [info.name for info in ort_session.get_inputs()]
        output_names = [info.name for info in ort_session.get_outputs()]
        ordered = {name: feeds[name] for name in input_names}
        outputs = ort_session.run(None, ordered)
    except NotChecked as error:
        raise RecordError(error.render()) from None
    except KeyError as error:
        raise RecordError(f"{model.id}: the model kind gives no input {error}") from None
    except Exception as error:  # the sandbox's OrtError
        raise RecordError(f"{model.id}: onnxruntime fails on the recording inputs: {error}") from None
    files = {f"input_{index}.pb": tensor_bytes(ordered[name], name) for index, name in enumerate(input_names)}
    files |= {
        f"output_{index}.pb": tensor_bytes(np.asarray(value), name)
        for index, (name, value) in enumerate(zip(output_names, outputs, strict=True))
    }
    block = {
        "path": relative,
        "onnxruntime": ort.__version__,
        "source": source,
        "files": {name: hashlib.sha256(data).hexdigest() for name, data in files.items()},
    }
    golden = dict(blocks.get("golden", {}))
    golden.setdefault("tolerance", DEFAULT_GOLDEN_TOLERANCE)
    golden["sets"] = [*(other for other in declared if other["path"] != relative), block]
    namespace = {**blocks, "golden": golden}
    problems = sidecar_problems({**sidecar, NAMESPACE: namespace}, model.limits.sidecar_fields)
    if problems:
        raise RecordError(f"{model.id}: the sidecar would be invalid: {'; '.join(problems)}")
    before = sidecar_text(model)
    try:
        after = with_namespace(before, namespace)
    except SidecarTextError as error:
        raise RecordError(f"{model.id}: {error}") from None
    existing = next(path for path in (target, *target.parents) if path.exists())
    if not existing.resolve().is_relative_to(folder):  # checked before any folder is made
        raise RecordError(f"{model.id}: '{relative}' leads outside the registry folder")
    target.mkdir(parents=True, exist_ok=True)
    for stale in [*target.glob("input_*.pb"), *target.glob("output_*.pb")]:
        if stale.name not in files:
            stale.unlink()
    for name, data in files.items():
        atomic_write_bytes(target / name, data)
    atomic_write_bytes(folder / sidecar_relative(entry), after.encode())
    return Recorded(model.id, relative, source, exists, sidecar_relative(entry) if before is None else None)


def record(
    registry: Path,
    model_id: str | None = None,
    *,
    force: bool = False,
    limits: Limits | None = None,
    data_dir: Path | None = None,
) -> tuple[list[Recorded], list[str]]:
    """Record sets for every model of the registry (or the one named): what was recorded, and what was refused."""
    loaded = load_registry(registry / "registry.json" if registry.is_dir() else registry)
    if loaded.problems:
        return [], [f"{printable(str(registry))}: {problem}" for problem in loaded.problems]
    entries = [entry for entry in loaded.entries if model_id is None or entry.id == model_id]
    if not entries:
        return [], [f"{printable(str(registry))}: no model '{printable(model_id or '')}'"]
    done, refused = [], []
    for entry in entries:
        try:
            done.append(record_model(ModelUnderTest(entry, limits or Limits()), force=force, data_dir=data_dir))
        except RecordError as error:
            refused.append(printable(str(error)))
    return done, refused


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tinyai-golden", description="Golden test data sets (ONNX test-data format).")
    commands = parser.add_subparsers(dest="command", required=True)
    recorder = commands.add_parser("record", help="record test_data_set_0 beside each model and declare it")
    recorder.add_argument("--registry", type=Path, required=True, help="registry.json (or its folder)")
    recorder.add_argument("--model", help="only this model id")
    recorder.add_argument("--force", action="store_true", help="re-record a set that exists (it is overwritten)")
    recorder.add_argument("--data-dir", type=Path, help="where the gates' folds live (default <registry>/folds)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    done, refused = record(args.registry, args.model, force=args.force, data_dir=args.data_dir)
    for line in done:
        print(line)
    for line in refused:
        print(line, file=sys.stderr)
    if done:
        print(
            "the sidecars declare the sets; record new golden tolerances in the ledger with "
            "`pytest --tinyai-registry REGISTRY --tinyai-update-ledger --collect-only -q`"
        )
    return 1 if refused else 0


if __name__ == "__main__":
    sys.exit(main())
