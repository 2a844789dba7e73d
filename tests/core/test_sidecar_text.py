"""Writing the `tinyai` namespace into a sidecar: the owner's bytes stay exactly as they were."""

from __future__ import annotations

import json

import pytest

from pytest_tinyai.registry_writer import dump_json
from pytest_tinyai.sidecar_text import SidecarTextError, with_namespace

BLOCKS = {"golden": {"tolerance": 1e-05, "sets": [{"path": "m/test_data_set_0", "files": {}}]}}
# upstream's style: ASCII escapes, numbers as its exporter wrote them
OWNERS = '{\n  "notes": "smoke \\u2014 fixture",\n  "training": {\n    "pt_onnx_max_abs_diff": 1.49e-6\n  }\n}\n'


def test_the_namespace_is_appended_after_the_owners_last_member_leaving_every_owner_byte_as_it_was():
    written = with_namespace(OWNERS, BLOCKS)
    assert written.startswith(OWNERS[: OWNERS.rindex("\n}")]) and written.endswith("\n}\n")
    assert json.loads(written) == {**json.loads(OWNERS), "tinyai": BLOCKS}


def test_a_namespace_already_there_is_replaced_in_place():
    first = with_namespace(OWNERS, {"contract": {"nominal": {"H": 256, "W": 256}}})
    assert with_namespace(first, BLOCKS) == with_namespace(OWNERS, BLOCKS)


def test_a_sidecar_in_the_projects_own_style_is_written_as_the_project_writes_it():
    document = {"name": "m", "tinyai": {"status": "production"}, "kind": "nr"}
    assert with_namespace(dump_json(document).decode(), BLOCKS) == dump_json({**document, "tinyai": BLOCKS}).decode()


def test_a_model_with_no_sidecar_gets_one_holding_the_namespace_alone():
    assert json.loads(with_namespace(None, BLOCKS)) == {"tinyai": BLOCKS}


@pytest.mark.parametrize("text", ["[1, 2]", '{"a": 1} trailing', "{"])
def test_a_sidecar_that_is_not_one_json_object_is_refused(text):
    with pytest.raises(SidecarTextError):
        with_namespace(text, BLOCKS)
