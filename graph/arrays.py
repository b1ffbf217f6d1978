"""Arrow column helpers shared by ingest, scoring and the API."""

from __future__ import annotations

import pyarrow as pa

__all__ = ["one_array"]


def one_array(values: pa.Array | pa.ChunkedArray) -> pa.Array:
    """A column as one Arrow array: a chunked column's chunks combined (its only chunk taken as it
    is, without a copy; no chunk at all: an empty array of its type); an array as it is."""
    if not isinstance(values, pa.ChunkedArray):
        return values
    if values.num_chunks == 1:
        return values.chunk(0)
    if values.num_chunks == 0:
        return pa.array([], type=values.type)
    return values.combine_chunks()
