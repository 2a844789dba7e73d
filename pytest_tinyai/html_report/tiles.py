"""Pictures that arrive as text (a gate's tiles, base64 PNG or JPEG) decoded back into pixels, bounded: a tile
that is not base64, not a PNG or JPEG, or larger than a tile can be is refused with a ValueError."""

from __future__ import annotations

import base64
import binascii
import io

import numpy as np
from PIL import Image

MAX_TILE_SIDE = 512  # the gate makes tiles of at most 192 pixels a side
FORMATS = ("PNG", "JPEG")


def decode_tile(text: str, mode: str) -> np.ndarray:
    """A tile as a uint8 array in `mode` ("RGB": (H, W, 3), "L": (H, W)); raises ValueError when it is not one."""
    try:
        data = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError, TypeError) as error:
        raise ValueError(f"a tile is not base64 ({error})") from None
    try:
        with Image.open(io.BytesIO(data), formats=FORMATS) as image:
            width, height = image.size
            if max(width, height) > MAX_TILE_SIDE:
                raise ValueError(f"a tile of {width}x{height} pixels is larger than {MAX_TILE_SIDE} a side")
            return np.asarray(image.convert(mode), dtype=np.uint8)
    except (OSError, Image.DecompressionBombError, SyntaxError) as error:
        raise ValueError(f"a tile is not a PNG or JPEG picture ({error})") from None
