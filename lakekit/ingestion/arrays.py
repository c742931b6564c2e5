"""Arrow arrays to and from numpy without pyarrow's ``to_numpy`` or ``pa.array``.

Both look for pandas the first time they run, and importing pandas costs about 0.3 s,
more than the rest of the command's start-up: an ingest has no use for it. These
helpers read and build the buffers directly.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc


def bool_mask(arr: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """A boolean array as numpy booleans; nulls are False.

    >>> bool_mask(pa.array([True, None, False, True]).slice(1)).tolist()
    [False, False, True]
    """
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    if arr.null_count:
        arr = pc.fill_null(arr, False)
    n = len(arr)
    if n == 0:
        return np.zeros(0, dtype=bool)
    bits = np.frombuffer(arr.buffers()[1], dtype=np.uint8)
    return np.unpackbits(bits, count=arr.offset + n, bitorder="little")[arr.offset:].view(bool)


def bool_array(mask: np.ndarray) -> pa.BooleanArray:
    """numpy booleans as an Arrow boolean array (no nulls).

    >>> bool_array(np.array([True, False, True])).to_pylist()
    [True, False, True]
    """
    packed = np.packbits(np.asarray(mask, dtype=bool), bitorder="little")
    return pa.Array.from_buffers(pa.bool_(), len(mask), [None, pa.py_buffer(packed)])


def int64_values(arr: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """An integer array without nulls as numpy int64 (a view when it is int64 already).

    >>> int64_values(pa.array([3, 1, 2], pa.int32()).slice(1)).tolist()
    [1, 2]
    """
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    if arr.null_count:
        raise ValueError("int64_values needs an array without nulls")
    if arr.type != pa.int64():
        arr = arr.cast(pa.int64())
    return np.frombuffer(arr.buffers()[1], dtype=np.int64, count=len(arr), offset=arr.offset * 8)
