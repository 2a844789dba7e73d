"""The open seams: a conftest alone adds a model kind, a metric and a check, and the suite collects, runs and
gates a model of that kind with no edit to the package."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper
from PIL import Image
from plugin_builders import assert_usage_error, item_outcomes, run_in_process, with_sidecar

OPSET = 17
DISTORTIONS = (10, 40, 90, 160, 250)

CONFTEST = '''
import csv
import hashlib
import subprocess
import sys

import numpy as np

from pytest_tinyai.checks import Check
from pytest_tinyai.dataset import load_image
from pytest_tinyai.findings import Finding
from pytest_tinyai.metrics import Metric


class FullReference:
    """A reference and a distorted image in, one distortion score out; folds hold ref/, dist/ and scores.csv."""

    name = "fr_score"

    def samples(self, fold_root):
        with open(fold_root / "scores.csv", newline="") as handle:
            return [(fold_root / "ref" / row["image"], fold_root / "dist" / row["image"], float(row["dmos"]))
                    for row in csv.DictReader(handle)]

    def content_hash(self, fold_root):
        digest = hashlib.sha256()
        for path in sorted(p for p in fold_root.rglob("*") if p.is_file()):
            digest.update(path.relative_to(fold_root).as_posix().encode() + b"\\0" + path.read_bytes())
        return digest.hexdigest()

    def feeds(self, sample, contract):
        ref, dist, _ = sample
        return {spec.name: spec.image_feed(load_image(path)) for spec, path in zip(contract.inputs, (ref, dist))}

    def truth(self, sample):
        return sample[2]

    def prediction(self, outputs, contract):
        return float(np.asarray(outputs[contract.outputs[0].name]).reshape(-1)[0])


def plcc(predictions, truths):
    return float(np.corrcoef(predictions, truths)[0, 1])


def two_inputs(model, context):
    count = len(model.proto.graph.input)
    return [] if count == 2 else [Finding(model.id, "two_inputs", f"{count} inputs, a full-reference model has 2")]


def pytest_tinyai_model_kinds():
    return [FullReference()]


def pytest_tinyai_metrics():
    return [Metric("plcc", "Pearson correlation of the scores with the opinion scores", plcc)]


def pytest_tinyai_checks():
    return [Check("two_inputs", "a full-reference model takes a reference and a distorted image", two_inputs)]
'''


def full_reference_model() -> onnx.ModelProto:
    """score = mean |ref - dist| over every element: a scalar distortion score of two images."""
    image = [1, 3, "H", "W"]
    graph = helper.make_graph(
        [
            helper.make_node("Sub", ["ref", "dist"], ["delta"], name="delta"),
            helper.make_node("Abs", ["delta"], ["magnitude"], name="magnitude"),
            helper.make_node("ReduceMean", ["magnitude"], ["score"], name="score", keepdims=0),
        ],
        "full_reference",
        [
            helper.make_tensor_value_info("ref", TensorProto.FLOAT, image),
            helper.make_tensor_value_info("dist", TensorProto.FLOAT, image),
        ],
        [helper.make_tensor_value_info("score", TensorProto.FLOAT, [])],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="tests")
    model.ir_version = 8
    return model


def write_fold(root) -> None:
    """Grey reference images and uniformly brighter distorted ones; the score is linear in the distortion."""
    (root / "ref").mkdir(parents=True)
    (root / "dist").mkdir()
    rows = ["image,dmos"]
    for index, level in enumerate(DISTORTIONS):
        name = f"s{index}.png"
        Image.fromarray(np.zeros((16, 16, 3), np.uint8)).save(root / "ref" / name)
        Image.fromarray(np.full((16, 16, 3), level, np.uint8)).save(root / "dist" / name)
        rows.append(f"{name},{level}")
    (root / "scores.csv").write_text("\n".join(rows) + "\n")


def fold_hash(root) -> str:
    digest = hashlib.sha256()
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def sidecar(content_sha256: str) -> dict:
    image = {"dtype": "float32", "shape": [1, 3, "H", "W"], "layout": "NCHW"}
    return {
        "name": "fr",
        "kind": "fr",
        "input_names": ["ref", "dist"],
        "output_name": "score",
        "onnx_opset": OPSET,
        "tinyai": {
            "contract": {
                "kind": "fr_score",
                "inputs": [{"name": "ref", **image}, {"name": "dist", **image}],
                "outputs": [{"name": "score", "dtype": "float32", "shape": [], "range": [0.0, 100.0]}],
                "dims": {"H": {"min": 8, "max": 64}, "W": {"min": 8, "max": 64}},
                "nominal": {"H": 16, "W": 16},
            },
            "gate": {
                "fold": {"name": "quality", "content_sha256": content_sha256},
                "metric": "plcc",
                "floor": 0.9,
                "claimed": 1.0,
            },
        },
    }


def write_full_reference_registry(folder) -> Path:
    """`fr` (the full-reference model, gated by plcc on its fold `quality`) alone in a registry at `folder`."""
    write_fold(folder / "folds" / "quality")
    data = full_reference_model().SerializeToString()
    (folder / "fr.onnx").write_bytes(data)
    (folder / "fr.json").write_text(json.dumps(sidecar(fold_hash(folder / "folds" / "quality"))))
    entry = {
        "id": "fr",
        "kind": "fr",
        "onnx": "fr.onnx",
        "sha256": hashlib.sha256(data).hexdigest(),
        "opset": OPSET,
        "license": "Apache-2.0",
    }
    (folder / "registry.json").write_text(json.dumps({"schema_version": 1, "models": [entry]}))
    return folder / "registry.json"


def test_a_conftest_alone_adds_a_kind_a_metric_and_a_check_and_a_model_of_that_kind_is_gated(pytester):
    pytester.makeconftest(CONFTEST)
    registry = write_full_reference_registry(pytester.path / "models")
    result = run_in_process(
        pytester,
        "--tinyai-registry",
        str(registry),
        "-m",
        "not tinyai_bench",
        "--tinyai-fuzz-examples",
        "5",
    )
    outcomes = item_outcomes(result)
    assert outcomes == {
        name: "passed"
        for name in (
            "registry[fr]",
            "opset[fr]",
            "allowlist[fr]",
            "resize[fr]",
            "contract[fr]",
            "fuzz[fr]",
            "gate[fr]",
            "two_inputs[fr]",
        )
    }, result.stdout.str()
    result.stdout.fnmatch_lines(["*fr *1.0000 * -  0.900 *+0.1000  quality (plcc)*"])


def test_a_gate_naming_an_unregistered_metric_fails_naming_the_known_ones(pytester):
    registry = write_full_reference_registry(pytester.path / "models")
    result = run_in_process(pytester, "--tinyai-registry", str(registry), "-m", "tinyai_gate")
    result.stdout.fnmatch_lines(["*fr: metric 'plcc' is not a registered metric (mean_iou@0.5)*"])


FIELD_CONFTEST = """
def pytest_tinyai_sidecar_fields():
    return {"reviewers": {"type": "array", "items": {"type": "string"}, "minItems": 1}}
"""


def with_reviewers(model_id: str, reviewers) -> dict:
    """The default sidecar declaring a plugin's `reviewers` block in the `tinyai` namespace."""
    sidecar = with_sidecar(model_id)
    sidecar["tinyai"]["reviewers"] = reviewers
    return sidecar


def test_a_sidecar_field_registered_by_a_conftest_is_allowed_and_checked_in_the_namespace(pytester, registry):
    pytester.makeconftest(FIELD_CONFTEST)
    registry.add("owl", sidecar=with_reviewers("owl", ["ana", "ben"]))
    registry.add("bat", sidecar=with_reviewers("bat", "ana"))
    result = run_in_process(pytester, "--tinyai-registry", str(registry.write()), "-m", "tinyai_registry")
    assert item_outcomes(result) == {"registry[bat]": "failed", "registry[owl]": "passed"}
    result.stdout.fnmatch_lines(["*bat: sidecar 'bat.json' $.tinyai.reviewers: 'ana' is not of type 'array'*"])


def test_an_unregistered_field_in_the_namespace_still_fails_the_schema(pytester, registry):
    registry.add("owl", sidecar=with_reviewers("owl", ["ana", "ben"]))
    result = run_in_process(pytester, "--tinyai-registry", str(registry.write()), "-m", "tinyai_registry")
    assert item_outcomes(result) == {"registry[owl]": "failed"}
    result.stdout.fnmatch_lines(
        ["*owl: sidecar 'owl.json' $.tinyai: Additional properties are not allowed ('reviewers' was unexpected)*"]
    )


def test_a_registered_field_declared_at_the_top_level_is_pointed_to_the_namespace(pytester, registry):
    pytester.makeconftest(FIELD_CONFTEST)
    registry.add("owl", sidecar=with_sidecar("owl", reviewers=["ana", "ben"]))
    result = run_in_process(pytester, "--tinyai-registry", str(registry.write()), "-m", "tinyai_registry")
    assert item_outcomes(result) == {"registry[owl]": "failed"}
    result.stdout.fnmatch_lines(
        ["*owl: sidecar 'owl.json' declares 'reviewers' at the top level: pytest-tinyai's blocks belong under 'tinyai'"]
    )


def test_a_sidecar_field_named_like_a_built_in_block_is_a_usage_error(pytester, registry):
    pytester.makeconftest(
        """
def pytest_tinyai_sidecar_fields():
    return {"gate": {"type": "object"}}
"""
    )
    registry.add("owl")
    result = run_in_process(pytester, "--tinyai-registry", str(registry.write()))
    assert_usage_error(result, "pytest-tinyai: sidecar field 'gate' is a built-in block of the 'tinyai' namespace")


FORMAT_CONFTEST = """
from pytest_tinyai.registry_formats import RegistryFormat

def pytest_tinyai_registry_formats():
    return [RegistryFormat(
        "model-list",
        matches=lambda document: isinstance(document, list),
        to_registry=lambda document: {"schema_version": 1, "models": document},
    )]
"""


def test_a_registry_format_registered_by_a_conftest_is_read(pytester, registry):
    pytester.makeconftest(FORMAT_CONFTEST)
    registry.add("owl")
    registry.path.write_text(json.dumps(registry.entries))
    result = run_in_process(pytester, "--tinyai-registry", str(registry.path), "-m", "tinyai_registry")
    assert item_outcomes(result) == {"registry[owl]": "passed"}


def test_two_parts_of_one_sort_sharing_a_name_are_a_usage_error(pytester, registry):
    pytester.makeconftest(
        """
from pytest_tinyai.metrics import Metric

def pytest_tinyai_metrics():
    return [Metric("mean_iou@0.5", "a second one", lambda predictions, truths: 0.0)]
"""
    )
    registry.add("owl")
    result = run_in_process(pytester, "--tinyai-registry", str(registry.write()))
    assert_usage_error(result, "pytest-tinyai: metric 'mean_iou@0.5' is registered twice")


def test_loading_the_plugin_imports_nothing_heavy():
    code = (
        "import sys, pytest_tinyai.plugin; "
        "print(sorted(m for m in ('onnx', 'onnxruntime', 'hypothesis', 'torch', 'PIL', 'numpy') if m in sys.modules))"
    )
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert loaded.strip() == "[]"
