"""Hostile text: ids, paths and messages from a registry are printed escaped and cut, so a registry can neither
forge lines of the report nor drive the terminal."""

from __future__ import annotations

import json

from hostile_builders import assert_contained, run_hostile


def test_control_characters_in_an_id_are_escaped_in_item_names_and_findings(pytester, hostile):
    hostile.add("bad")
    path = hostile.write()
    forged = "bad\\n\\u001b[32mPASSED good\\r"
    path.write_text(path.read_text().replace('"id": "bad"', f'"id": "{forged}"'))
    run = run_hostile(pytester, hostile, write=False)
    assert "\x1b" not in run.output and "\r" not in run.output
    assert_contained(run, "bad\\n\\x1b[32mPASSED good\\r", "does not match")


def test_a_right_to_left_override_in_an_id_is_escaped(pytester, hostile):
    hostile.add("bad")
    path = hostile.write()
    document = json.loads(path.read_text())
    document["models"][1]["id"] = "bad\u202eexe.onnx"
    path.write_text(json.dumps(document))
    run = run_hostile(pytester, hostile, write=False)
    assert "\u202e" not in run.output
    assert_contained(run, "bad\\u202eexe.onnx", "does not match")


def test_an_id_of_a_megabyte_is_cut_in_item_names_and_findings(pytester, hostile):
    hostile.add("bad")
    path = hostile.write()
    document = json.loads(path.read_text())
    document["models"][1]["id"] = "b" * 1_000_000
    path.write_text(json.dumps(document))
    run = run_hostile(pytester, hostile, write=False)
    assert len(run.output) < 50_000
    assert_contained(run, "b" * 80, "characters)")
