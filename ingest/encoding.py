"""Which encoding a CSV file is in: UTF-8 (with or without BOM), UTF-16, GB18030 (a superset of
GBK) or Windows-1252, checked over the whole file in large chunks.
"""

from __future__ import annotations

import codecs
from pathlib import Path

__all__ = ["detect_encoding", "utf8_or_detected", "SAMPLE"]

SAMPLE = 1 << 16  # the bytes a file is first looked at by
_CHUNK = 1 << 24


def detect_encoding(path: Path) -> str:
    """UTF-8 (with or without BOM), GB18030 (a superset of GBK) or cp1252.

    The whole file is checked for UTF-8 in large chunks (cheap), because the first non-ASCII
    byte of a Western export may sit deep in the file. Between GBK and cp1252 the byte
    pattern decides: GBK's non-ASCII bytes come in pairs, cp1252's mostly alone. (charset-normalizer,
    even limited to these two, took Bradford's 2019-02 payments file, cp1252, for GB18030: this
    rule reads every real and fixture file right, so the product does without it.)
    """
    with open(path, "rb") as fh:
        head = fh.read(4)
        if head.startswith(b"\xef\xbb\xbf"):
            return "utf-8-sig"
        if head.startswith((b"\xff\xfe", b"\xfe\xff")):
            return "utf-16"
        fh.seek(0)
        carry = b""
        while True:
            chunk = fh.read(_CHUNK)
            if not chunk:
                return "utf-8"
            data = carry + chunk
            try:
                data.decode("utf-8")
                carry = b""
            except UnicodeDecodeError as exc:
                if exc.start >= len(data) - 3 and len(chunk) == _CHUNK:
                    carry = data[exc.start:]  # a character cut by the chunk boundary
                    continue
                return _gbk_or_cp1252(data[max(0, exc.start - 4096): exc.start + SAMPLE])


def _gbk_or_cp1252(sample: bytes) -> str:
    runs: list[int] = []
    current = 0
    for byte in sample:
        if byte >= 0x80:
            current += 1
        elif current:
            runs.append(current)
            current = 0
    if current:
        runs.append(current)
    odd = sum(1 for r in runs if r % 2)
    try:
        sample.decode("gb18030")
        decodes = True
    except UnicodeDecodeError as exc:
        decodes = exc.start >= len(sample) - 4  # only the cut at the end of the sample failed
    if decodes and runs and odd / len(runs) < 0.2:
        return "gb18030"
    return "cp1252"


def utf8_or_detected(path: Path, sample: bytes) -> tuple[str, bool]:
    """The encoding to read with, and whether it is only presumed: a file without a BOM whose
    first 64 KiB are UTF-8 is read as UTF-8 straight away, and Arrow's reader, which checks
    every value, finds a non-UTF-8 byte anywhere later (then `detect_encoding` decides)."""
    if sample.startswith((b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")):
        return detect_encoding(path), False
    try:
        codecs.getincrementaldecoder("utf-8")(errors="strict").decode(sample, final=False)
    except UnicodeDecodeError:
        return detect_encoding(path), False
    return "utf-8", True
