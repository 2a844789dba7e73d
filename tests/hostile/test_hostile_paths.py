"""Hostile paths: names the OS cannot resolve and files that are not regular files, in every place an entry names.

Each becomes one registry-check line naming the path and why; nothing is opened that could block (a FIFO), and the
healthy model beside it passes.
"""

from __future__ import annotations

import os
import pickle
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import onnx
from hostile_builders import assert_contained, canary_code, external, run_hostile
from plugin_builders import saliency_model, saliency_sidecar, sha256_bytes
from saliency_sidecar import placed

BAD_ONNX = "bad.onnx"
GIVE_UP_SECONDS = 60


@contextmanager
def fifo(path: Path) -> Iterator[None]:
    """A FIFO at `path` (replacing any file). Should anything block opening it for reading, its writing end is opened
    after GIVE_UP_SECONDS, so that the test fails on its assertions instead of hanging."""
    path.unlink(missing_ok=True)
    os.mkfifo(path)

    def release() -> None:
        with suppress(OSError):  # ENXIO: nobody is reading, nothing to release
            os.close(os.open(path, os.O_WRONLY | os.O_NONBLOCK))

    timer = threading.Timer(GIVE_UP_SECONDS, release)
    timer.start()
    try:
        yield
    finally:
        timer.cancel()


def symlink_loop(path: Path) -> None:
    """`path` becomes a symlink to itself."""
    path.unlink(missing_ok=True)
    path.symlink_to(path.name)


def with_external_weight(location: str) -> onnx.ModelProto:
    model = saliency_model()
    external(model.graph.initializer[0], location)
    return model


# --- the ONNX file ------------------------------------------------------------------------------------------------


def test_a_symlink_loop_as_the_onnx_file_is_refused(pytester, hostile):
    hostile.add("bad")
    symlink_loop(hostile.folder / BAD_ONNX)
    run = run_hostile(pytester, hostile)
    assert_contained(run, "bad", "ONNX path 'bad.onnx' cannot be resolved: symlink loop")


def test_a_fifo_as_the_onnx_file_is_refused_without_being_opened(pytester, hostile):
    hostile.add("bad")
    with fifo(hostile.folder / BAD_ONNX):
        run = run_hostile(pytester, hostile)
    assert_contained(run, "bad", "ONNX 'bad.onnx' is a FIFO, not a regular file")


def test_a_socket_as_the_onnx_file_is_refused(pytester, hostile):
    hostile.add("bad")
    (hostile.folder / BAD_ONNX).unlink()
    with socket.socket(socket.AF_UNIX) as server:
        server.bind(os.path.relpath(hostile.folder / BAD_ONNX))  # relative: AF_UNIX paths are short
        run = run_hostile(pytester, hostile)
    assert_contained(run, "bad", "ONNX 'bad.onnx' is a socket, not a regular file")


def test_a_directory_named_as_the_onnx_file_is_refused(pytester, hostile):
    hostile.add("bad")
    (hostile.folder / BAD_ONNX).unlink()
    (hostile.folder / BAD_ONNX).mkdir()
    run = run_hostile(pytester, hostile)
    assert_contained(run, "bad", "ONNX 'bad.onnx' is a directory, not a regular file")


def test_a_nul_byte_in_the_onnx_path_is_refused(pytester, hostile):
    hostile.add("bad")["onnx"] = "bad\x00.onnx"
    run = run_hostile(pytester, hostile)
    assert_contained(run, "bad", "ONNX path 'bad\\x00.onnx' cannot be resolved: embedded null byte")


def test_an_over_long_onnx_name_is_refused(pytester, hostile):
    hostile.add("bad")["onnx"] = "b" * 300 + ".onnx"
    run = run_hostile(pytester, hostile)
    assert_contained(run, "bad", "cannot be resolved: File name too long")


# --- the files beside it ------------------------------------------------------------------------------------------


def test_a_symlink_loop_as_the_sidecar_is_refused(pytester, hostile):
    hostile.add("bad")
    symlink_loop(hostile.folder / "bad.json")
    run = run_hostile(pytester, hostile)
    assert_contained(run, "bad", "sidecar path 'bad.json' cannot be resolved: symlink loop")


def test_a_fifo_as_the_sidecar_is_refused_without_being_opened(pytester, hostile):
    hostile.add("bad")
    with fifo(hostile.folder / "bad.json"):
        run = run_hostile(pytester, hostile)
    assert_contained(run, "bad", "sidecar 'bad.json' is a FIFO, not a regular file")


def test_a_directory_as_the_sidecar_is_refused(pytester, hostile):
    hostile.add("bad", sidecar=None)
    (hostile.folder / "bad.json").mkdir()
    run = run_hostile(pytester, hostile)
    assert_contained(run, "bad", "sidecar 'bad.json' is a directory, not a regular file")


def test_a_fifo_as_the_int8_sibling_is_refused_without_being_opened(pytester, hostile):
    hostile.add("bad", int8_sha256="0" * 64)
    with fifo(hostile.folder / "bad.int8.onnx"):
        run = run_hostile(pytester, hostile)
    assert_contained(run, "bad", "int8 sibling 'bad.int8.onnx' is a FIFO, not a regular file")


def test_a_symlink_loop_as_the_sigstore_bundle_is_refused(pytester, hostile):
    hostile.add("bad", sigstore_bundle="bad.sigstore.json")
    symlink_loop(hostile.folder / "bad.sigstore.json")
    run = run_hostile(pytester, hostile)
    assert_contained(run, "bad", "sigstore bundle path 'bad.sigstore.json' cannot be resolved: symlink loop")


def test_a_fifo_as_the_external_data_file_is_refused_without_being_opened(pytester, hostile):
    hostile.add("bad", with_external_weight("bad.bin"))
    with fifo(hostile.folder / "bad.bin"):
        run = run_hostile(pytester, hostile)
    assert_contained(run, "bad", "external data 'bad.bin' is a FIFO, not a regular file")


def test_a_symlink_loop_as_the_external_data_file_is_refused(pytester, hostile):
    hostile.add("bad", with_external_weight("bad.bin"))
    symlink_loop(hostile.folder / "bad.bin")
    run = run_hostile(pytester, hostile)
    assert_contained(run, "bad", "external data path 'bad.bin' cannot be resolved: symlink loop")


def test_external_data_through_a_symlink_to_a_device_is_refused(pytester, hostile):
    hostile.add("bad", with_external_weight("bad.bin"))
    (hostile.folder / "bad.bin").symlink_to("/dev/zero")
    run = run_hostile(pytester, hostile)
    assert_contained(run, "bad", "external data path 'bad.bin' leads through a symlink to /dev/zero, outside")


def test_an_over_long_fold_name_is_refused_before_any_gate_looks_for_it(pytester, hostile):
    fold = {"name": "f" * 300, "content_sha256": "0" * 64}
    gate = {"fold": fold, "metric": "mean_iou@0.5", "claimed": 0.5, "floor": 0.5}
    hostile.add("bad", sidecar=placed(saliency_sidecar("bad"), gate=gate))
    (hostile.folder / "folds").mkdir()
    run = run_hostile(pytester, hostile, "-m", "tinyai_registry or tinyai_gate")
    assert_contained(run, "bad", "$.tinyai.gate.fold.name")


# --- the trained weights a sidecar declares -------------------------------------------------------------------------


def with_weights(model_id: str, path: str, data: bytes | None = None) -> dict:
    """The default sidecar declaring the weights file `path`, with the digest of `data` (zeros when None)."""
    digest = sha256_bytes(data) if data is not None else "0" * 64
    return placed(saliency_sidecar(model_id), weights={"path": path, "sha256": digest})


def test_a_weights_path_escaping_the_folder_is_refused(pytester, hostile):
    (pytester.path / "outside.safetensors").write_bytes(b"not read")
    hostile.add("bad", sidecar=with_weights("bad", "w/../../outside.safetensors"))
    run = run_hostile(pytester, hostile)
    assert_contained(run, "bad", "weights path 'w/../../outside.safetensors' escapes the registry folder")


def test_a_fifo_as_the_weights_file_is_refused_without_being_opened(pytester, hostile):
    hostile.add("bad", sidecar=with_weights("bad", "bad.safetensors"))
    with fifo(hostile.folder / "bad.safetensors"):
        run = run_hostile(pytester, hostile)
    assert_contained(run, "bad", "weights 'bad.safetensors' is a FIFO, not a regular file")


def test_a_pickle_as_the_weights_file_is_never_unpickled(pytester, hostile):
    """A pickle whose loading would run code, with its true digest declared: refused as not safetensors, and the
    canary proves nothing ran."""
    payload = pickle.dumps(_RunsOnUnpickle(canary_code(pytester.path)))
    (hostile.folder / "bad.safetensors").write_bytes(payload)
    hostile.add("bad", sidecar=with_weights("bad", "bad.safetensors", payload))
    run = run_hostile(pytester, hostile)
    assert_contained(run, "bad", "weights 'bad.safetensors' is not a valid safetensors file")


class _RunsOnUnpickle:
    """An object whose unpickling executes `source`."""

    def __init__(self, source: str) -> None:
        self.source = source

    def __reduce__(self):
        return exec, (self.source,)
