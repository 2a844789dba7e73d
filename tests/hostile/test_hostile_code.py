"""Hostile code: nothing a registry holds is ever imported or run (conftest.py files, modules beside it, the
sidecar's PyTorch reference outside the trusted import roots)."""

from __future__ import annotations

import pytest
from hostile_builders import CANARY, assert_declined, canary_code, run_hostile
from plugin_builders import CORE_CHECKS, with_sidecar

PARITY_TOO = ("-m", f"{CORE_CHECKS} or tinyai_parity")


def test_a_conftest_in_the_registry_folder_is_never_imported(pytester, hostile):
    (hostile.folder / "conftest.py").write_text(canary_code(hostile.folder))
    hostile.add("bad", sha256="0" * 64)
    run = run_hostile(pytester, hostile)
    assert not (hostile.folder / CANARY).exists()
    assert run.result.ret == pytest.ExitCode.TESTS_FAILED


def test_a_conftest_below_the_registry_folder_is_not_imported_when_pytest_walks_a_parent(pytester, hostile):
    nested = hostile.folder / "sub"
    nested.mkdir()
    (nested / "conftest.py").write_text(canary_code(hostile.folder))
    (hostile.folder / "conftest.py").write_text(canary_code(hostile.folder))
    hostile.add("bad", sha256="0" * 64)
    run = run_hostile(pytester, hostile, str(pytester.path))
    assert not list(hostile.folder.rglob(CANARY))
    assert run.result.ret == pytest.ExitCode.TESTS_FAILED


@pytest.mark.parametrize("reference", ["os:fork", "os:abort", "sys:exit", "signal:pause", "_thread:interrupt_main"])
def test_a_reference_outside_the_trusted_roots_is_never_imported(pytester, hostile, reference):
    hostile.add("bad", sidecar=with_sidecar("bad", reference=reference))
    run = run_hostile(pytester, hostile, "-o", "tinyai_reference_roots=trainers", *PARITY_TOO)
    assert_declined(run, "parity[bad]", f"reference '{reference}' is outside the trusted roots (trainers")


def test_no_reference_is_trusted_when_no_roots_are_configured(pytester, hostile):
    hostile.add("bad", sidecar=with_sidecar("bad", reference="trainers.saliency_student.model:saliency_student_v2"))
    run = run_hostile(pytester, hostile, *PARITY_TOO)
    assert_declined(run, "parity[bad]", "outside the trusted roots (none configured")


def test_a_module_beside_the_registry_cannot_pose_as_a_trusted_root(pytester, hostile):
    (hostile.folder / "evil.py").write_text(canary_code(hostile.folder) + "def build():\n    return None\n")
    hostile.add("bad", sidecar=with_sidecar("bad", reference="evil:build"))
    run = run_hostile(pytester, hostile, "-o", "tinyai_reference_roots=evil", *PARITY_TOO)
    assert not (hostile.folder / CANARY).exists()
    run.result.stdout.fnmatch_lines(["*bad: reference 'evil:build': cannot import module 'evil'*"])


def test_a_trusted_reference_that_exits_fails_in_one_line_and_the_run_goes_on(pytester, hostile):
    trusted = pytester.mkdir("trusted")
    (trusted / "exiting.py").write_text("import sys\n\ndef build():\n    sys.exit(3)\n")
    pytester.syspathinsert(trusted)
    hostile.add("bad", sidecar=with_sidecar("bad", reference="exiting:build"))
    run = run_hostile(pytester, hostile, "-o", "tinyai_reference_roots=exiting", *PARITY_TOO)
    run.result.stdout.fnmatch_lines(["*bad: reference 'exiting:build': calling build() raised SystemExit(3)*"])
    assert run.result.ret == pytest.ExitCode.TESTS_FAILED
    assert "Traceback" not in run.output
