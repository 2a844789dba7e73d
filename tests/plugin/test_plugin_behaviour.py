"""Behaviour of the plugin as a whole: outcomes per item, isolation of broken entries, selection, summary."""

from __future__ import annotations

from plugin_builders import CHECKS, assert_only_failing


def test_a_clean_registry_passes_all_five_checks(registry, run_tinyai):
    registry.add("owl")
    result = run_tinyai(registry, "-v")
    result.assert_outcomes(passed=5)
    assert_only_failing(result, "owl")
    result.stdout.fnmatch_lines([f"*registry.json::{check}?owl? PASSED*" for check in CHECKS])
