"""What the conformance suite costs, against what it cannot avoid: prints tables, asserts nothing.

    python benchmarks/suite_cost.py [--registry model/tiny/registry.json] [--copies 1 2 4 8]

1. The ORT floor: one forward pass per held-out image per gated model, with the suite's threads (1): the least
   any run that scores the gates must spend.
2. The main job's wall time in one process (benchmarks included) and with `-n 2 -m "not tinyai_bench"`, each
   against the floor, and the seconds per check of the one-process run (from its JUnit XML).
3. Scaling: the static and dynamic checks (`-m "not tinyai_bench"`) on registries holding 1, 2, 4 and 8 copies of
   the registry's production model, each copy gated on the same fold (no baseline) and recorded in a temporary
   ledger, so each copy costs what the model costs.

Every pytest run is a fresh process started from the repository root with this checkout first on the path.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from collections import defaultdict
from pathlib import Path

import numpy as np
import onnxruntime as ort

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pytest_tinyai.dataset import find_samples, load_image, normalise  # noqa: E402
from pytest_tinyai.gate.ledger import Ledger  # noqa: E402
from pytest_tinyai.ort_sandbox import session_options  # noqa: E402
from pytest_tinyai.sidecar import NAMESPACE, namespace  # noqa: E402
from pytest_tinyai.thresholds import declared_thresholds  # noqa: E402
from pytest_tinyai.trust import sha256_of  # noqa: E402

THREADS = 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--registry", type=Path, default=ROOT / "model/tiny/registry.json")
    parser.add_argument("--copies", type=int, nargs="*", default=[1, 2, 4, 8])
    args = parser.parse_args()
    registry = args.registry.resolve()

    floor = ort_floor(registry)
    print_table("ORT floor (one forward pass per held-out image, 1 thread)", ("model", "images", "seconds"), floor)
    floor_seconds = sum(seconds for _, _, seconds in floor)

    with tempfile.TemporaryDirectory() as scratch:
        junit = Path(scratch) / "one.xml"
        one = run_suite(["--tinyai-registry", str(registry), f"--junitxml={junit}"])
        parallel = run_suite(
            ["--tinyai-registry", str(registry), "-n", "2", "--dist", "loadgroup", "-m", "not tinyai_bench"]
        )
        per_check = check_seconds(junit)
    rows = [
        ("one process, benchmarks included", one, one / floor_seconds),
        ('-n 2 --dist loadgroup -m "not tinyai_bench"', parallel, parallel / floor_seconds),
    ]
    print_table("main job wall time", ("run", "seconds", "x floor"), rows)
    print_table("seconds per check (one process)", ("check", "items", "seconds"), per_check)

    scaling = []
    for copies in args.copies:
        with tempfile.TemporaryDirectory() as scratch:
            scaled = copies_registry(registry, Path(scratch), copies)
            seconds = run_suite(
                [
                    "--tinyai-registry",
                    str(scaled),
                    "--tinyai-ledger",
                    str(Path(scratch) / "ledger.json"),
                    "--tinyai-data-dir",
                    str(registry.parent / "folds"),
                    "-m",
                    "not tinyai_bench",
                ]
            )
        scaling.append((copies, seconds, seconds / scaling[0][1] if scaling else 1.0))
    print_table(
        "static + dynamic suite, N copies of the production model", ("copies", "seconds", "x one copy"), scaling
    )


def ort_floor(registry: Path) -> list[tuple[str, int, float]]:
    """(model, images, seconds) of one forward pass per image of its gate's fold, for each gated model."""
    rows = []
    for entry in json.loads(registry.read_text())["models"]:
        gate = namespace(_sidecar(registry, entry)).get("gate")
        if not gate:
            continue
        session = ort.InferenceSession(
            str(registry.parent / entry["onnx"]), session_options("all", THREADS), providers=["CPUExecutionProvider"]
        )
        name = session.get_inputs()[0].name
        images = [
            normalise(load_image(sample.image_path))[np.newaxis]
            for sample in find_samples(registry.parent / "folds" / gate["fold"]["name"])
        ]
        started = time.perf_counter()
        for image in images:
            session.run(None, {name: image})
        rows.append((entry["id"], len(images), time.perf_counter() - started))
    return rows


def run_suite(args: list[str]) -> float:
    """Wall seconds of one pytest process on the conformance suite (its outcome is shown, not judged)."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:randomly", "-p", "no:cacheprovider", *args]
    started = time.perf_counter()
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - started
    last = result.stdout.strip().splitlines()[-1] if result.stdout.strip() else result.stderr.strip()[-200:]
    print(f"  [{seconds:6.1f} s] {' '.join(args)}\n           -> {last}", flush=True)
    return seconds


def check_seconds(junit: Path) -> list[tuple[str, int, float]]:
    """(check, items, seconds) summed over the JUnit test cases, a case's check being its name before '['."""
    totals: dict[str, list[float]] = defaultdict(list)
    for case in ET.parse(junit).iter("testcase"):
        totals[case.get("name", "").split("[")[0]].append(float(case.get("time", 0.0)))
    return sorted(((check, len(times), sum(times)) for check, times in totals.items()), key=lambda row: -row[2])


def copies_registry(registry: Path, folder: Path, copies: int) -> Path:
    """A registry of `copies` copies of the production model (sharing its weights file), each gated (no baseline)
    and in a fresh ledger."""
    entries = json.loads(registry.read_text())["models"]
    source = next(entry for entry in entries if namespace(_sidecar(registry, entry)).get("status") == "production")
    sidecar = _sidecar(registry, source)
    blocks = namespace(sidecar)
    gate = {key: value for key, value in blocks["gate"].items() if key != "baseline"}
    # golden sets and latency stay with the original: a copy's items are the static and dynamic checks
    dropped = ("status", "role", "latency", "golden")
    kept = {key: value for key, value in blocks.items() if key not in dropped}
    if "weights" in kept:  # the trained weights parity loads, shared by every copy
        weights = folder / kept["weights"]["path"]
        weights.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(registry.parent / kept["weights"]["path"], weights)
    path = folder / "registry.json"
    ledger = Ledger(folder / "ledger.json")
    records, models = ledger.records_to_update(path), []
    for index in range(copies):
        model_id = f"{source['id']}_copy{index}"
        shutil.copyfile(registry.parent / source["onnx"], folder / f"{model_id}.onnx")
        copy = {**sidecar, "name": model_id, NAMESPACE: {**kept, "gate": gate}}
        (folder / f"{model_id}.json").write_text(json.dumps(copy))
        digest = sha256_of(folder / f"{model_id}.onnx")
        models.append({**source, "id": model_id, "onnx": f"{model_id}.onnx", "sha256": digest})
        records.update(model_id, gate)
        records.update_thresholds(model_id, declared_thresholds(copy[NAMESPACE]))
    ledger.save()
    path.write_text(json.dumps({"schema_version": 1, "models": models}))
    return path


def _sidecar(registry: Path, entry: dict) -> dict:
    path = registry.parent / Path(entry["onnx"]).with_suffix(".json")
    return json.loads(path.read_text()) if path.exists() else {}


def print_table(title: str, header: tuple[str, ...], rows: list[tuple]) -> None:
    cells = [header, *([f"{v:.2f}" if isinstance(v, float) else str(v) for v in row] for row in rows)]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    print(f"\n{title}")
    for index, row in enumerate(cells):
        print(
            "  "
            + "  ".join(
                cell.ljust(width) if i == 0 else cell.rjust(width)
                for i, (cell, width) in enumerate(zip(row, widths, strict=True))
            )
        )
        if index == 0:
            print("  " + "  ".join("-" * width for width in widths))


if __name__ == "__main__":
    main()
