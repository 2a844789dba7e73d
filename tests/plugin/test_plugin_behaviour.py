"""Behaviour of the plugin as a whole: outcomes per item, isolation of broken entries, selection, summary, xdist."""

from __future__ import annotations

import onnx
import onnxruntime
import pytest
from onnx import helper
from plugin_builders import (
    CHECKS,
    CORE_CHECKS,
    RegistryDir,
    assert_clean_failure,
    assert_only_failing,
    item_outcomes,
    lines,
    resize_middle,
    run_in_process,
    saliency_model,
    with_sidecar,
)

from pytest_tinyai.ort_sandbox import OrtSandbox


def test_a_clean_registry_passes_all_five_checks(registry, run_tinyai):
    registry.add("owl")
    result = run_tinyai(registry, "-v")
    result.assert_outcomes(passed=5)
    assert_only_failing(result, "owl")
    result.stdout.fnmatch_lines([f"*registry.json::{check}?owl? PASSED*" for check in CHECKS])


def test_a_broken_entry_fails_only_its_own_items_and_the_other_model_passes(registry, run_tinyai):
    registry.add("heron")
    registry.add("owl", sha256="0" * 64)
    result = run_tinyai(registry)
    assert_clean_failure(result)
    result.assert_outcomes(passed=5, failed=5)
    assert_only_failing(result, "heron")
    assert_only_failing(result, "owl", *CHECKS)


def test_a_registry_of_broken_entries_never_gives_an_internal_error(pytester, registry, run_tinyai):
    """One registry holding many kinds of broken entry: every one fails cleanly, the good model still passes."""
    data = saliency_model().SerializeToString()
    (registry.folder.parent / "x.onnx").write_bytes(data)
    (registry.folder / "sub").mkdir()
    registry.add("good")
    registry.add("escape", onnx_path="sub/../../x.onnx", onnx_bytes=data)
    registry.add("empty", onnx_bytes=b"")
    registry.add("garbage", onnx_bytes=b"\x08\x07garbage that is not protobuf")
    registry.add("no-sidecar", sidecar=None)
    registry.add("bad-sidecar", sidecar="[1, 2")
    cubic, scales = resize_middle(mode="cubic")
    registry.add("cubic", saliency_model(cubic, initializers=scales))
    registry.add("floor", saliency_model([helper.make_node("Floor", ["features"], ["logits"])]))
    registry.add("custom", saliency_model([helper.make_node("Conv", ["features"], ["logits"], domain="x.y")]))
    registry.add("renamed", saliency_model(input_name="image"))
    registry.entries.append({"id": "no-file", "kind": 7})
    registry.entries.append("not even an object")
    result = run_tinyai(registry)
    assert_clean_failure(result)
    assert_only_failing(result, "good")
    failing_models = {
        name.split("[", 1)[1][:-1] for name, outcome in item_outcomes(result).items() if outcome == "failed"
    }
    assert len(failing_models) == len(registry.entries) - 1


def test_failures_are_short_messages_without_tracebacks_into_the_plugin(registry, run_tinyai):
    registry.add("owl", saliency_model([helper.make_node("Floor", ["features"], ["logits"], name="floor")]))
    result = run_tinyai(registry, "--tb=long")
    assert_clean_failure(result)
    output = result.stdout.str()
    for internal in ("pytest_tinyai/", "Traceback", "raise ConformanceFailure", "def runtest", "NotChecked("):
        assert internal not in output
    result.stdout.fnmatch_lines(
        ["*_ allowlist[[]owl] _*", "owl: Floor 'floor': op 'Floor' is not on the allowlist (allowlist.config)"]
    )


def test_collection_is_sorted_by_check_then_model_id_whatever_the_registry_order(registry, run_tinyai):
    for model_id in ("wren", "auk", "kite"):
        registry.add(model_id)
    result = run_tinyai(registry, "--collect-only", "-q")
    collected = [line.split("::")[-1] for line in result.stdout.lines if "::" in line]
    assert collected == [f"{check}[{model_id}]" for check in CHECKS for model_id in ("auk", "kite", "wren")]


def test_collection_is_identical_on_xdist_workers_and_the_summary_counts_their_results(pytester, registry):
    for model_id in ("wren", "auk", "kite"):
        registry.add(model_id)
    registry.add("owl", sha256="0" * 64)
    path = registry.write()
    result = pytester.runpytest_subprocess(
        "--tinyai-registry", str(path), "-p", "no:cacheprovider", "-m", CORE_CHECKS, "-n", "2", "-v"
    )
    output = result.stdout.str() + result.stderr.str()
    assert "Different tests were collected" not in output
    assert "INTERNALERROR" not in output
    result.assert_outcomes(passed=15, failed=5)
    result.stdout.fnmatch_lines(["*models checked: 4*", "  registry *3 passed, 1 failed"])


def test_dash_k_with_a_model_id_selects_that_models_items(registry, run_tinyai):
    registry.add("auk")
    registry.add("kite")
    result = run_tinyai(registry, "-k", "kite")
    result.assert_outcomes(passed=5)
    assert sorted(item_outcomes(result)) == sorted(f"{check}[kite]" for check in CHECKS)


def test_dash_m_with_a_check_marker_selects_that_check(registry, run_tinyai):
    registry.add("auk")
    registry.add("kite")
    result = run_tinyai(registry, "-m", "tinyai_resize")
    result.assert_outcomes(passed=2)
    assert sorted(item_outcomes(result)) == ["resize[auk]", "resize[kite]"]


def test_terminal_summary_lists_models_and_per_check_counts(registry, run_tinyai):
    registry.add("heron")
    registry.add("owl", saliency_model([helper.make_node("Floor", ["features"], ["logits"])]))
    result = run_tinyai(registry)
    result.stdout.fnmatch_lines(
        [
            "*= tinyai conformance =*",
            f"registry: {registry.path}",
            "models checked: 2",
            "  registry *2 passed, 0 failed",
            "  opset *2 passed, 0 failed",
            "  allowlist *1 passed, 1 failed",
            "  resize *2 passed, 0 failed",
            "  contract *1 passed, 1 failed",
        ]
    )


@pytest.mark.parametrize("how", ["relative", "absolute"])
def test_running_from_another_directory_than_the_registry_folder_works(pytester, monkeypatch, how):
    registry = RegistryDir(pytester.path / "deep" / "models")
    registry.add("owl", sidecar=with_sidecar("owl"))
    path = registry.write()
    elsewhere = pytester.mkdir("elsewhere")
    monkeypatch.chdir(elsewhere)
    argument = "../deep/models/registry.json" if how == "relative" else str(path)
    result = run_in_process(pytester, "--tinyai-registry", argument, "-m", CORE_CHECKS)
    result.assert_outcomes(passed=5)


def test_registry_is_collected_beside_ordinary_test_files(pytester, registry):
    registry.add("owl")
    path = registry.write()
    pytester.makepyfile(test_ordinary="def test_ordinary():\n    pass\n")
    later_checks = "not (tinyai_fuzz or tinyai_parity or tinyai_gate or tinyai_bench)"
    result = run_in_process(pytester, "test_ordinary.py", "--tinyai-registry", str(path), "-m", later_checks)
    outcomes = item_outcomes(result)
    assert outcomes["test_ordinary"] == "passed"
    assert_only_failing(result, "owl")


def test_missing_registry_file_is_a_usage_error_naming_it(pytester):
    result = run_in_process(pytester, "--tinyai-registry", "nowhere/registry.json")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert "INTERNALERROR" not in result.stdout.str() + result.stderr.str()
    result.stderr.fnmatch_lines(lines("nowhere/registry.json"))


def test_registry_below_a_conftest_setting_pytest_plugins_runs_from_another_directory(pytester, monkeypatch):
    """pytest refuses `pytest_plugins` in a conftest first met during collection; the registry's are met earlier."""
    (pytester.path / "repo").mkdir()
    (pytester.path / "repo" / "conftest.py").write_text("pytest_plugins = []\n")
    registry = RegistryDir(pytester.path / "repo" / "models")
    registry.add("owl")
    path = registry.write()
    monkeypatch.chdir(pytester.mkdir("elsewhere"))
    result = run_in_process(pytester, "--tinyai-registry", str(path), "-m", CORE_CHECKS)
    result.assert_outcomes(passed=5)


def test_each_model_is_parsed_and_given_a_session_once_per_process(registry, run_tinyai, monkeypatch):
    loads, sessions, in_process = [], [], []
    real_load, real_session = onnx.load_model_from_string, OrtSandbox.load
    monkeypatch.setattr(onnx, "load_model_from_string", lambda data, *a, **k: loads.append(data) or real_load(data))
    monkeypatch.setattr(
        OrtSandbox, "load", lambda self, model, *a, **k: sessions.append(model) or real_session(self, model, *a, **k)
    )
    monkeypatch.setattr(onnxruntime, "InferenceSession", lambda *a, **k: in_process.append(a))
    registry.add("auk")
    registry.add("kite")
    run_tinyai(registry).assert_outcomes(passed=10)
    assert (len(loads), len(sessions)) == (2, 2)  # one parse and one session per model, shared by five checks
    assert in_process == []  # the sessions live in the sandbox process, none in pytest's


def test_registry_below_a_norecursedirs_folder_is_collected_beside_its_parent_directory(pytester):
    registry = RegistryDir(pytester.path / "build")
    registry.add("owl")
    registry.write()
    result = run_in_process(pytester, ".", "--tinyai-registry", "build/registry.json", "-m", CORE_CHECKS)
    result.assert_outcomes(passed=5)


def test_a_registry_given_as_its_folder_means_the_folders_registry_json(pytester, registry):
    registry.add("owl")
    registry.write()
    result = run_in_process(pytester, "--tinyai-registry", str(registry.folder), "-m", CORE_CHECKS)
    result.assert_outcomes(passed=5)


def test_a_registry_with_no_models_fails_instead_of_checking_nothing(registry, run_tinyai):
    result = run_tinyai(registry)
    assert_clean_failure(result)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(lines("registry.json: the registry declares no models: there is nothing to check"))


def test_a_check_that_crashes_fails_its_item_in_one_line_naming_model_check_and_place(pytester, registry, run_tinyai):
    pytester.makeconftest(
        """
        from pytest_tinyai.checks import Check

        def crashing_check(model, context):
            raise ZeroDivisionError("a bug in a check")

        def pytest_tinyai_checks():
            return [Check("crashy", "always crashes", crashing_check)]
        """
    )
    registry.add("owl")
    result = run_tinyai(registry, "-m", "tinyai_crashy")
    assert_clean_failure(result)
    result.stdout.fnmatch_lines(
        ["*owl: not checked: the crashy check crashed: ZeroDivisionError: a bug in a check (at conftest.py:*)"]
    )


def test_the_session_runs_the_bytes_that_were_hashed_not_a_file_swapped_afterwards(registry, run_tinyai, pytester):
    registry.add("owl", sidecar=with_sidecar("owl"))
    path = registry.write()
    swap = "\n".join(
        [
            "import onnx, pytest",
            "from pytest_tinyai.run_state import run_state_key",
            "def pytest_collection_finish(session):",
            "    tinyai = session.config.stash[run_state_key]",
            "    for item in session.items:",
            "        model = tinyai.model(item.entry)",
            "        model.trust  # hash and parse now, then swap the file for an empty one",
            "        model.onnx_path.write_bytes(b'')",
        ]
    )
    pytester.makeconftest(swap)
    result = run_in_process(pytester, "--tinyai-registry", str(path), "-m", "tinyai_contract")
    result.assert_outcomes(passed=1)


def test_a_registry_item_given_as_an_argument_runs_alone(pytester, registry):
    registry.add("owl")
    path = registry.write()
    result = run_in_process(pytester, f"{path}::resize[owl]", "--tinyai-registry", str(path), "-m", CORE_CHECKS)
    assert item_outcomes(result) == {"resize[owl]": "passed"}


def test_a_registry_given_also_as_an_argument_is_collected_once(pytester, registry):
    registry.add("owl")
    path = registry.write()
    result = run_in_process(pytester, str(path), "--tinyai-registry", str(path), "-m", CORE_CHECKS)
    result.assert_outcomes(passed=5)
