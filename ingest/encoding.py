"""Which encoding a CSV file is in: UTF-8 (with or without BOM), UTF-16, GB18030 (a superset of
GBK) or Windows-1252, checked over the whole file in large chunks.
"""

from __future__ import annotations

import codecs
import re
from pathlib import Path

from graph.errors import InvalidData

__all__ = ["detect_encoding", "utf8_or_detected", "not_valid_text", "SAMPLE"]

SAMPLE = 1 << 16  # the bytes a file is first looked at by
_CHUNK = 1 << 24


def detect_encoding(path: Path) -> str:
    """UTF-8 (with or without BOM), GB18030 (a superset of GBK) or cp1252.

    The whole file is checked for UTF-8 in large chunks (cheap), because the first non-ASCII
    byte of a Western export may sit deep in the file. Between GBK and cp1252 the byte
    pattern decides (`_gbk_or_cp1252`): GBK's non-ASCII bytes come in pairs (or fours), cp1252's mostly alone. (charset-normalizer,
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


# one GB18030 character as the decoder reads it: four bytes (characters beyond GBK: 𫖯, •), a lead
# byte and a high trail (the common Hanzi), a lead and an ASCII trail (赟, 玥 …, but also cp1252's
# 'é' before a letter), or a high byte alone (cp1252's accent before a space or a comma)
_GB_CHAR = re.compile(rb"[\x81-\xfe][\x30-\x39][\x81-\xfe][\x30-\x39]|[\x81-\xfe][\x80-\xfe]|[\x81-\xfe][\x40-\x7e]|[\x80-\xff]")
_GB_SHARE = 0.8  # of a GB18030 file's non-ASCII characters, at least this many are whole high pairs or four bytes


def _gbk_or_cp1252(sample: bytes) -> str:
    """GB18030 when the sample decodes as it and its non-ASCII characters are mostly pairs of high
    bytes or four-byte sequences (cp1252's accents stand alone or before a letter), or when it is
    no cp1252 text at all (bytes 0x81, 0x8D, 0x8F, 0x90, 0x9D, which GB18030 uses as lead bytes)."""
    try:
        sample.decode("gb18030")
    except UnicodeDecodeError as exc:
        if exc.start < len(sample) - 4:  # more than the cut at the end of the sample failed
            return "cp1252"
    try:
        sample.decode("cp1252")
    except UnicodeDecodeError:
        return "gb18030"
    chars = [(m.start(), m.end(), len(m.group()) == 4 or m.group()[-1] >= 0x80) for m in _GB_CHAR.finditer(sample)]
    # an ASCII trail beside a whole pair is a Hanzi's (张赟): cp1252 puts no three accents in a row
    bounds = {at for start, end, whole in chars if whole for at in (start, end)}
    paired = sum(1 for start, end, whole in chars if whole or start in bounds or end in bounds)
    return "gb18030" if chars and paired >= _GB_SHARE * len(chars) else "cp1252"


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


def not_valid_text(path: Path, encoding: str, at: int | None, declared: bool) -> InvalidData:
    """The error for a file that is not the text its encoding says: a mapping's `encoding` to
    remove, or (detected) what to do instead."""
    where = "" if at is None else f" (byte {at:,})"
    return InvalidData(f"{path.name}: not valid {encoding} text{where}; " + (
        "remove `encoding` from the mapping to detect it" if declared else
        "its encoding was detected as that; save it as UTF-8 (CSV UTF-8), or name its encoding in a mapping "
        "(`encoding: gb18030`)"))
