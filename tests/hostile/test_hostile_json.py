"""Hostile JSON: numbers that are not finite, duplicate keys, nesting and size bombs, in sidecars and registries.

Each fails the model (or the file) that holds it in one line; the healthy model beside it passes.
"""

from __future__ import annotations

import json

import pytest
from hostile_builders import HEALTHY, assert_contained, run_hostile
from plugin_builders import with_sidecar

GATE = {
    "fold": {"name": "fold", "content_sha256": "0" * 64},
    "metric": "mean_iou@0.5",
    "floor": 0.5,
    "claimed": 0.6,
}


def sidecar_text(model_id: str, **changes) -> str:
    return json.dumps(with_sidecar(model_id, **changes))


@pytest.mark.parametrize(
    ("literal", "where"),
    [("NaN", "floor"), ("Infinity", "floor"), ("-Infinity", "claimed"), ("1e999", "claimed")],
)
def test_a_gate_number_that_is_not_finite_fails_the_sidecar(pytester, hostile, literal, where):
    text = sidecar_text("bad", gate=GATE).replace(f'"{where}": {GATE[where]}', f'"{where}": {literal}')
    hostile.add("bad", sidecar=text)
    run = run_hostile(pytester, hostile)
    assert_contained(run, "bad", f"$.tinyai.gate.{where}: {literal} is not a finite number")


def test_an_infinite_parity_tolerance_fails_the_sidecar(pytester, hostile):
    text = sidecar_text("bad", parity={"tolerance": 1e-5}).replace("1e-05", "1e999")
    hostile.add("bad", sidecar=text)
    assert_contained(run_hostile(pytester, hostile), "bad", "$.tinyai.parity.tolerance: 1e999 is not a finite number")


def test_a_huge_finite_parity_tolerance_fails_the_schema(pytester, hostile):
    hostile.add("bad", sidecar=with_sidecar("bad", parity={"tolerance": 1e300}))
    assert_contained(
        run_hostile(pytester, hostile), "bad", "$.tinyai.parity.tolerance: 1e+300 is greater than the maximum"
    )


def test_a_huge_latency_budget_fails_the_schema(pytester, hostile):
    latency = {"resolutions": [[8, 8]], "budgets": [{"relative_to": HEALTHY, "resolution": [8, 8], "max_ratio": 1e9}]}
    hostile.add("bad", sidecar=with_sidecar("bad", latency=latency))
    run = run_hostile(pytester, hostile)
    assert_contained(run, "bad", "max_ratio: 1000000000.0 is greater than the maximum of 100")


def test_a_duplicate_key_in_a_sidecar_fails_it(pytester, hostile):
    text = sidecar_text("bad").replace('"onnx_opset": 17', '"onnx_opset": 17, "onnx_opset": 13')
    hostile.add("bad", sidecar=text)
    assert_contained(run_hostile(pytester, hostile), "bad", "duplicate key 'onnx_opset'")


def test_a_duplicate_key_in_a_registry_entry_fails_that_entry_only(pytester, hostile):
    hostile.add("bad")
    path = hostile.write()
    text = path.read_text().replace('"onnx": "bad.onnx"', '"onnx": "bad.onnx", "onnx": "good.onnx"')
    path.write_text(text)
    run = run_hostile(pytester, hostile, write=False)
    assert_contained(run, "bad", "entry: duplicate key 'onnx' (parsers disagree on which copy wins)")


def test_a_non_finite_number_in_a_registry_entry_fails_that_entry_only(pytester, hostile):
    hostile.add("bad", quant_accuracy_budget_plcc=0.5)
    path = hostile.write()
    path.write_text(path.read_text().replace('"quant_accuracy_budget_plcc": 0.5', '"quant_accuracy_budget_plcc": NaN'))
    run = run_hostile(pytester, hostile, write=False)
    assert_contained(run, "bad", "entry.quant_accuracy_budget_plcc: NaN is not a finite number")


def test_a_sidecar_nested_a_hundred_thousand_deep_fails_it(pytester, hostile):
    depth = 100_000
    text = sidecar_text("bad", training={"x": 0}).replace('{"x": 0}', "[" * depth + "]" * depth)
    hostile.add("bad", sidecar=text)
    assert_contained(run_hostile(pytester, hostile), "bad", "nests deeper than 64 levels")


def test_a_registry_entry_nested_past_the_limit_fails_that_entry_only(pytester, hostile):
    hostile.add("bad", notes="deep")
    path = hostile.write()
    path.write_text(path.read_text().replace('"deep"', "[" * 100 + "]" * 100))
    run = run_hostile(pytester, hostile, write=False)
    assert_contained(run, "bad", "nests deeper than 64 levels")


def test_a_sidecar_over_the_size_cap_is_not_read(pytester, hostile):
    hostile.add("bad", sidecar=sidecar_text("bad", notes="x" * (2 * 1024 * 1024)))
    assert_contained(run_hostile(pytester, hostile), "bad", "over the cap of 1,048,576 bytes")


def test_a_sidecar_that_is_not_utf8_fails_it(pytester, hostile):
    hostile.add("bad", sidecar=None)
    (hostile.folder / "bad.json").write_bytes(b'{"name": "\xff\xfe"}')
    assert_contained(run_hostile(pytester, hostile), "bad", "is not UTF-8 text")


def test_a_five_megabyte_string_is_echoed_in_no_more_than_a_line(pytester, hostile):
    hostile.add("bad", description="z" * 5_000_000)
    run = run_hostile(pytester, hostile)
    assert_contained(run, "bad", "characters)")
    assert len(run.output) < 50_000
