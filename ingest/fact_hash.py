"""The keyed BLAKE2b digests of fact rows, computed in a child process for large files.

Neither Arrow nor DuckDB has keyed BLAKE2b, so each row is hashed by `hashlib`, one Python
step per row that holds the GIL. In a thread it competes with the thread that validates (each
return from an Arrow kernel waits for the GIL); in a child process it runs on the other core.
The child imports only the standard library and speaks a small protocol on its pipes: for each
slice of rows, two little-endian uint64 (rows n, data bytes), the n + 1 int64 offsets of the
rows in the data, the data; it answers with the n 16-byte digests, in order.

`digest_rows` hashes the slices it is given (Arrow large_binary arrays) the same way in either
place: the digests are byte-identical (tests/ingest/test_fact_ids.py). A child that cannot be
started or fails (a Python that cannot import this module, say) costs time, never the ingest:
the rows are then hashed here.
"""

from __future__ import annotations

import hashlib
import logging
import struct
import subprocess
import sys
import threading
from collections.abc import Callable, Iterable, Iterator
from typing import IO, Any

__all__ = ["digest_rows", "digest_in_process", "CHILD_MIN_ROWS"]

CHILD_MIN_ROWS = 200_000  # below this, starting a process costs more than the hashing it frees
_HEAD = struct.Struct("<QQ")
log = logging.getLogger("prospect_graph.ingest")


def _hash_texts(texts: Iterable[bytes], keyed: Any, out: bytearray) -> None:
    # written out, no function called per row: a Python call per row costs a quarter of the time
    for text in texts:
        hasher = keyed()
        hasher.update(text)
        out += hasher.digest()


def digest_in_process(slices: Iterable[Any], file_key: bytes) -> bytes:
    """The digests of the rows of `slices` (Arrow large_binary arrays), hashed here."""
    keyed = hashlib.blake2b(digest_size=16, key=file_key).copy
    out = bytearray()
    for piece in slices:
        _hash_texts(piece.to_pylist(), keyed, out)
    return bytes(out)


def digest_rows(slices: Callable[[], Iterator[Any]], file_key: bytes, rows: int) -> bytes:
    """The digests of the rows of the slices `slices()` yields, hashed in a child process when
    there are at least `CHILD_MIN_ROWS` rows, else here (and here again if the child fails)."""
    if rows >= CHILD_MIN_ROWS and sys.executable:  # an embedded Python may name no executable
        try:
            return _digest_in_child(slices(), file_key, rows)
        except (OSError, RuntimeError) as exc:
            log.warning("fact ids hashed in this process: %s", exc)
    return digest_in_process(slices(), file_key)


def _digest_in_child(slices: Iterator[Any], file_key: bytes, rows: int) -> bytes:
    child = subprocess.Popen([sys.executable, "-m", "ingest.fact_hash", file_key.hex()], bufsize=0,
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    stdin, stdout, stderr = child.stdin, child.stdout, child.stderr
    assert stdin is not None and stdout is not None and stderr is not None
    answer: list[bytes] = []
    # the answer is read by a thread of its own: a child blocked writing a full pipe would
    # stop reading, and the slices written to it would block in turn
    reader = threading.Thread(target=lambda: answer.append(stdout.read()), daemon=True)
    reader.start()
    try:
        try:
            for piece in slices:
                _send(stdin, piece)
        except BrokenPipeError:
            pass  # the child failed: its exit status and message say why
        finally:
            stdin.close()  # unbuffered: nothing left to flush
        reader.join()
        error = stderr.read()
        status = child.wait()
    except BaseException:  # the slices could not be made: the child is not left waiting for more
        child.kill()
        child.wait()
        raise
    if status != 0 or not answer or len(answer[0]) != 16 * rows:
        raise RuntimeError(f"the child process that hashes fact rows failed (exit {status}): "
                           f"{error.decode(errors='replace')[-300:]}")
    return answer[0]


def _send(stream: IO[bytes], piece: Any) -> None:
    """One slice to the child: its offsets and data buffers as they are (no copy)."""
    n = len(piece)
    if n == 0:
        return
    offsets = memoryview(piece.buffers()[1]).cast("q")
    if piece.offset or offsets[0] != 0:  # a view into a larger array: copied to buffers of its own
        import pyarrow as pa

        piece = pa.concat_arrays([piece, piece.slice(0, 0)])
        offsets = memoryview(piece.buffers()[1]).cast("q")
    size = offsets[n]
    _write_all(stream, memoryview(_HEAD.pack(n, size)))
    _write_all(stream, offsets[: n + 1].cast("B"))
    if size:
        _write_all(stream, memoryview(piece.buffers()[2])[:size])


def _write_all(stream: IO[bytes], data: memoryview) -> None:
    """An unbuffered pipe may take part of a write (a signal in between): write the rest."""
    while len(data):
        data = data[stream.write(data) or 0:]


def _child(file_key: bytes) -> None:
    """The child's loop: read slices from stdin, write their digests to stdout."""
    keyed = hashlib.blake2b(digest_size=16, key=file_key).copy
    source, sink = sys.stdin.buffer, sys.stdout.buffer
    while head := source.read(_HEAD.size):
        n, size = _HEAD.unpack(head)
        offsets = memoryview(source.read(8 * (n + 1))).cast("q")
        data = source.read(size)
        out = bytearray()
        for i in range(n):
            hasher = keyed()
            hasher.update(data[offsets[i]: offsets[i + 1]])
            out += hasher.digest()
        sink.write(out)
    sink.flush()


if __name__ == "__main__":
    _child(bytes.fromhex(sys.argv[1]))
