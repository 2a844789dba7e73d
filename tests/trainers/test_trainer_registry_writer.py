"""upsert_entry: one entry added or replaced, upstream format kept, validated, written atomically."""

import json

import pytest

from pytest_tinyai.registry_writer import RegistryWriteError, upsert_entry

SHA_A, SHA_B = "a" * 64, "b" * 64


def _entry(model_id, sha=SHA_A, **extra):
    return {"id": model_id, "kind": "nr", "onnx": f"{model_id}.onnx", "sha256": sha, "opset": 17, **extra}


def test_a_missing_registry_is_created_with_schema_version_1(tmp_path):
    path = tmp_path / "registry.json"
    upsert_entry(path, _entry("m"))
    assert json.loads(path.read_text()) == {"schema_version": 1, "models": [_entry("m")]}


def test_an_entry_with_the_same_id_is_replaced_in_place(tmp_path):
    path = tmp_path / "registry.json"
    for model_id in ("a", "m", "z"):
        upsert_entry(path, _entry(model_id))
    upsert_entry(path, _entry("m", SHA_B))
    models = json.loads(path.read_text())["models"]
    assert [(m["id"], m["sha256"]) for m in models] == [("a", SHA_A), ("m", SHA_B), ("z", SHA_A)]


def test_top_level_keys_keep_the_upstream_order_and_the_file_ends_with_a_newline(tmp_path):
    path = tmp_path / "registry.json"
    path.write_text(json.dumps({"models": [], "schema_version": 0, "$schema": "x.json"}))
    upsert_entry(path, _entry("m", license="MIT", smoke=False))
    text = path.read_text()
    assert list(json.loads(text)) == ["$schema", "schema_version", "models"]
    assert list(json.loads(text)["models"][0]) == ["id", "kind", "onnx", "sha256", "opset", "smoke", "license"]
    assert text.endswith("}\n")


def test_an_entry_that_would_make_the_registry_invalid_is_refused_and_nothing_changes(tmp_path):
    path = tmp_path / "registry.json"
    upsert_entry(path, _entry("m"))
    before = path.read_bytes()
    with pytest.raises(RegistryWriteError, match="sha256"):
        upsert_entry(path, _entry("n", sha="not-a-hash"))
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["registry.json"]  # no temp file left behind


def test_the_replaced_file_keeps_its_permissions(tmp_path):
    path = tmp_path / "registry.json"
    upsert_entry(path, _entry("m"))
    path.chmod(0o664)
    upsert_entry(path, _entry("m", SHA_B))
    assert path.stat().st_mode & 0o777 == 0o664
