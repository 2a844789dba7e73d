"""PyTorch's intra-op threads pinned to the run's (--tinyai-threads), as onnxruntime's sessions are."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import torch


@contextmanager
def torch_threads(threads: int) -> Iterator[None]:
    """Run the block on `threads` intra-op threads, then give PyTorch back the count it had.

    Left alone, PyTorch takes one thread per core: beside another busy process, or another xdist worker, its
    threads wait on each other and the reference runs several times slower than on one thread.
    """
    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(before)
