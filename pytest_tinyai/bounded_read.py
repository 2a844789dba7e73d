"""Reading a file that arrives as untrusted data: a regular file only (a FIFO, device, socket or directory is
refused without waiting on it), never more than its cap (at most cap + 1 bytes are read, so a file that grows
while it is read is refused too), and every refusal one line naming the file and why."""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

from pytest_tinyai.findings import printable

MIB = 1024 * 1024
_FILE_KINDS = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISFIFO, "a FIFO"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
)
# Never wait on a FIFO (POSIX flags; absent elsewhere).
_READ_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
_NO_FOLLOW = getattr(os, "O_NOFOLLOW", 0)


class Refused(Exception):
    """A file that is not a regular file, is empty, is over its cap or cannot be read; one line."""


def byte_size(size: int) -> str:
    """Exact bytes and MiB, so a size just over a cap never prints the same as the cap."""
    return f"{size:,} bytes ({size / MIB:.4g} MiB)"


def reason(error: Exception) -> str:
    """Why the OS refused a path, in a few words."""
    if isinstance(error, RuntimeError) or getattr(error, "errno", None) == errno.ELOOP:
        return "symlink loop"
    if isinstance(error, OSError):
        return error.strerror or type(error).__name__
    return str(error)


def file_kind(mode: int) -> str:
    return next((kind for test, kind in _FILE_KINDS if test(mode)), "not a file")


def read_regular(path: Path, cap: int, what: str, *, follow_symlinks: bool = True) -> bytes:
    """The bytes of the regular file at `path`, at most `cap` of them; raises Refused otherwise.

    `follow_symlinks=False` refuses a path that is itself a symlink (a file confined to a folder, which a link
    swapped in afterwards must not lead out of); the kind of file is checked on the open descriptor.
    """
    name = printable(Path(path).name)
    flags = _READ_FLAGS | (0 if follow_symlinks else _NO_FOLLOW)
    try:
        descriptor = os.open(path, flags)
        try:
            data = _read_open(descriptor, cap, what, name)
        finally:
            os.close(descriptor)
    except (OSError, ValueError) as error:
        raise Refused(f"{what} '{name}' cannot be read: {reason(error)}") from None
    if not data:
        raise Refused(f"{what} '{name}' is empty (0 bytes)")
    return data


def _read_open(descriptor: int, cap: int, what: str, name: str) -> bytes:
    status = os.fstat(descriptor)
    if not stat.S_ISREG(status.st_mode):
        raise Refused(f"{what} '{name}' is {file_kind(status.st_mode)}, not a regular file")
    if status.st_size > cap:
        raise Refused(f"{what} '{name}' is {byte_size(status.st_size)}, over the cap of {byte_size(cap)}")
    chunks: list[bytes] = []
    left = cap + 1
    while left > 0 and (chunk := os.read(descriptor, min(left, 1 << 20))):
        chunks.append(chunk)
        left -= len(chunk)
    if left <= 0:
        raise Refused(f"{what} '{name}' grew past the cap of {byte_size(cap)} while being read")
    return b"".join(chunks)
