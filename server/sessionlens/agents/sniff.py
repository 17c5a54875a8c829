"""What a log file holds before any parser sees it: its encoding (gzip, zstd, UTF-16, a byte-order
mark, CR-only line breaks), its lines as UTF-8 JSONL, and the top-level keys of a first line too
long to read whole.  Detection goes by content, never by the file name alone.

Pure functions, except :func:`read_decoded` (reads one file).
"""

from __future__ import annotations

import io
import json
import re
from typing import Any, Iterator

import orjson

GZIP_MAGIC = b"\x1f\x8b"
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
#: Largest decompressed / transcoded log read whole (a bigger one is reported, not read: zip bombs).
MAX_DECODED = 512 * 1024 * 1024
#: Lines looked at, at most, to decide what a file is (malformed ones do not count towards
#: ``DETECT_LINES`` but do towards this).
MAX_SCAN_LINES = 2000
DETECT_LINES = 20

PLAIN = "utf-8"


class TooLarge(ValueError):
    pass


def encoding_of(head: bytes, path: str = "") -> str:
    """How the bytes of a log are stored: ``utf-8`` (plain JSONL, read incrementally) or one of
    ``gzip``, ``zstd``, ``utf-8-sig``, ``utf-16-le``, ``utf-16-be``, ``cr`` (read whole, decoded)."""
    if head.startswith(b"SQLite format 3\x00"):
        return PLAIN  # read as a database, not as lines
    if head.startswith(GZIP_MAGIC):
        return "gzip"
    if head.startswith(ZSTD_MAGIC):
        return "zstd"
    if head.startswith(b"\xef\xbb\xbf"):
        return "utf-8-sig"
    if head.startswith(b"\xff\xfe"):
        return "utf-16-le"
    if head.startswith(b"\xfe\xff"):
        return "utf-16-be"
    probe = head[:64].lstrip(b"\r\n\t ")
    if len(probe) >= 4 and probe[1:2] == b"\x00" and probe[3:4] == b"\x00" and probe[0:1] != b"\x00":
        return "utf-16-le"
    if len(probe) >= 4 and probe[0:1] == b"\x00" and probe[2:3] == b"\x00" and probe[1:2] != b"\x00":
        return "utf-16-be"
    if b"\n" not in head and b"\r" in head and probe[:1] in (b"{", b"["):
        return "cr"  # a raw CR can only be whitespace between JSON values: old Mac line breaks
    return PLAIN


def _bounded_read(stream: Any, limit: int) -> bytes:
    out = stream.read(limit + 1)
    if len(out) > limit:
        raise TooLarge(f"decompresses to more than {limit // (1024 * 1024)} MB: not read")
    return out


def decode(data: bytes, encoding: str, limit: int = MAX_DECODED) -> bytes:
    """The bytes of a log as UTF-8 JSONL with ``\\n`` line breaks (``data`` is the whole file)."""
    if encoding == "gzip":
        import gzip

        with gzip.GzipFile(fileobj=io.BytesIO(data)) as g:
            data = _bounded_read(g, limit)
        return decode(data, encoding_of(data[:65536]), limit)
    if encoding == "zstd":
        import zstandard

        with zstandard.ZstdDecompressor().stream_reader(io.BytesIO(data)) as z:
            data = _bounded_read(z, limit)
        return decode(data, encoding_of(data[:65536]), limit)
    if encoding == "utf-8-sig":
        return data[3:]
    if encoding in ("utf-16-le", "utf-16-be"):
        text = data.decode("utf-16" if data[:2] in (b"\xff\xfe", b"\xfe\xff") else encoding, errors="replace")
        data = text.encode("utf-8", errors="replace")
        return decode(data, encoding_of(data[:65536]), limit) if b"\n" not in data[:65536] and b"\r" in data else data
    if encoding == "cr":
        return data.replace(b"\r", b"\n")
    return data


def read_decoded(path: str, encoding: str | None = None) -> bytes:
    """A whole file as UTF-8 JSONL (decompressed / transcoded).  Raises ``OSError``, ``TooLarge``,
    and the decompressors' errors for corrupt archives."""
    with open(path, "rb") as fh:
        if encoding is None:
            head = fh.read(65536)
            encoding = encoding_of(head, path)
            fh.seek(0)
        if encoding in ("gzip", "zstd"):
            data = fh.read(MAX_DECODED + 1)
        else:
            data = _bounded_read(fh, MAX_DECODED)
    return decode(data, encoding)


#: A cut-off value in :func:`sniff_prefix` output.
CUT = object()
_WS = re.compile(r"[ \t\r\n]*")
_DEC = json.JSONDecoder()


def sniff_prefix(raw: bytes, limit: int = 65536) -> dict | None:
    """The top-level members of a JSON object whose text is cut off (a first line of megabytes):
    every complete member, then the cut one's key with the value :data:`CUT`.  None when ``raw`` does
    not start like an object."""
    s = raw[:limit].decode("utf-8", "replace").lstrip()
    if not s.startswith("{"):
        return None
    out: dict = {}
    pos, n = 1, len(s)
    while True:
        pos = _WS.match(s, pos).end()  # type: ignore[union-attr]
        if pos >= n or s[pos] != '"':
            break
        try:
            key, pos = _DEC.raw_decode(s, pos)
        except ValueError:
            break
        pos = _WS.match(s, pos).end()  # type: ignore[union-attr]
        if pos >= n or s[pos] != ":":
            break
        pos = _WS.match(s, pos + 1).end()  # type: ignore[union-attr]
        try:
            value, pos = _DEC.raw_decode(s, pos)
        except ValueError:
            out[key] = CUT
            break
        out[key] = value
        pos = _WS.match(s, pos).end()  # type: ignore[union-attr]
        if pos < n and s[pos] == ",":
            pos += 1
            continue
        break
    return out or None


def head_objects(head: bytes, wanted: int = DETECT_LINES, scan: int = MAX_SCAN_LINES) -> Iterator[tuple[int, object]]:
    """``(n, value)``: the JSON values of the first lines of ``head`` for detection, ``n`` the
    line's rank among the non-blank lines.  Malformed lines are skipped (leading garbage does not
    hide a log), at most ``wanted`` decoded values and ``scan`` lines; a last line cut off by the
    head's end is sniffed (:func:`sniff_prefix`)."""
    pos, n, got, seen = 0, len(head), 0, 0
    while pos < n and got < wanted and seen < scan:
        end = head.find(b"\n", pos)
        raw = head[pos:] if end < 0 else head[pos:end]
        pos = n if end < 0 else end + 1
        if not raw.strip():
            continue
        seen += 1
        try:
            obj = orjson.loads(raw)
        except orjson.JSONDecodeError:
            if end < 0:  # cut off by the end of the head: its first members may tell
                sniffed = sniff_prefix(raw)
                if sniffed is not None:
                    yield seen, sniffed
            continue
        got += 1
        yield seen, obj
