"""Hostile attestations and int8 siblings: a bundle that tries to look valid or to block the run, and a sibling that
is hostile when run. Each is one line naming the model and the file; the healthy model beside it passes, and a
sibling that is off the allowlist is never run."""

from __future__ import annotations

from execution_builders import busy_loop_middle, custom_op_middle
from hostile_builders import assert_contained, failure, fifo, run_hostile
from plugin_builders import saliency_model, sha256_bytes
from signature_bundles import b64, encoded, message_bundle

from pytest_tinyai.strict_json import MAX_DEPTH

RUN_TIMEOUT = ("--tinyai-run-timeout", "1")
BUNDLE = "bad.onnx.sigstore.json"
SIBLING = "bad.int8.onnx"


def add_with_bundle(hostile, data: bytes | None = None) -> str:
    sha256 = hostile.add("bad", sigstore_bundle=BUNDLE)["sha256"]
    if data is not None:
        (hostile.folder / BUNDLE).write_bytes(data)
    return sha256


def add_with_sibling(hostile, sibling) -> None:
    data = sibling.SerializeToString()
    (hostile.folder / SIBLING).write_bytes(data)
    hostile.add("bad", quant_mode="dynamic", int8_sha256=sha256_bytes(data))


def test_a_bundle_naming_its_digest_twice_is_refused_not_read_either_way(pytester, hostile):
    """A first-wins and a last-wins reader would see different digests: the wrong one first, the right one last."""
    sha256 = add_with_bundle(hostile)
    text = encoded(message_bundle("0" * 64)).decode()
    twice = text.replace('"algorithm"', f'"digest": "{b64(bytes.fromhex(sha256))}", "algorithm"', 1)
    (hostile.folder / BUNDLE).write_text(twice)
    run = run_hostile(pytester, hostile)
    assert_contained(run, "bad", f"sigstore bundle '{BUNDLE}' is refused: ")
    assert "duplicate key 'digest'" in failure(run, "registry[bad]")


def test_a_bundle_nested_past_the_depth_limit_is_refused_in_one_line(pytester, hostile):
    add_with_bundle(hostile, b"[" * (MAX_DEPTH * 40) + b"]" * (MAX_DEPTH * 40))
    run = run_hostile(pytester, hostile)
    assert_contained(run, "bad", f"sigstore bundle '{BUNDLE}'")


def test_a_fifo_as_the_bundle_is_refused_without_being_opened(pytester, hostile):
    add_with_bundle(hostile)
    with fifo(hostile.folder / BUNDLE):
        run = run_hostile(pytester, hostile)
    assert_contained(run, "bad", f"sigstore bundle '{BUNDLE}' is a FIFO, not a regular file")


def test_a_sibling_with_a_billion_trip_loop_fails_the_allowlist_and_is_never_run(pytester, hostile):
    add_with_sibling(hostile, saliency_model(busy_loop_middle(10**9, side=2)))
    run = run_hostile(pytester, hostile)
    assert_contained(run, "bad", f"bad: {SIBLING}: Loop 'busy_loop': trip count 1000000000 is outside [0, 1024]")
    assert failure(run, "contract[bad]") == (
        f"bad: {SIBLING}: not run: allowlist failed: Loop 'busy_loop': trip count 1000000000 is outside [0, 1024]"
    )


def test_a_sibling_calling_an_unknown_custom_op_is_never_loaded(pytester, hostile):
    add_with_sibling(hostile, saliency_model(custom_op_middle("evil.domain", "Boom"), extra_opsets={"evil.domain": 1}))
    run = run_hostile(pytester, hostile)
    assert_contained(run, "bad", f"bad: {SIBLING}: Boom 'custom' is in domain 'evil.domain'")
    assert failure(run, "contract[bad]").startswith(f"bad: {SIBLING}: not run: allowlist failed: Boom 'custom'")


def test_a_slow_sibling_on_the_allowlist_is_killed_at_the_time_limit_naming_its_file(pytester, hostile):
    add_with_sibling(hostile, saliency_model(busy_loop_middle(1000)))
    run = run_hostile(pytester, hostile, *RUN_TIMEOUT)
    assert_contained(run, "bad", f"bad: {SIBLING}: onnxruntime run exceeded 1 s at input [1, 3, 32, 32] (killed)")
