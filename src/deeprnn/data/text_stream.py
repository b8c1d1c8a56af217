"""Reading a text file in chunks, decoded exactly as `read_text` decodes the whole file.

``iter_text(path, encoding)`` yields pieces of text whose concatenation equals
``read_text(path, encoding)``: the bytes are decoded strictly by an incremental decoder (a
multi-byte character split between two reads is joined), a leading byte order mark is dropped,
and ``\\r\\n`` and ``\\r`` become ``\\n`` (a ``\\r`` at the end of a piece waits for the next one,
which may start with its ``\\n``).  A decoding error names the byte offset and the line, as
`read_text` does.  Memory stays at a few times ``chunk_bytes``, whatever the file's size.
"""

from __future__ import annotations

import codecs
import os
from collections.abc import Callable, Iterator
from pathlib import Path

from .errors import DataError
from .text import _decode_hint, check_text_file

__all__ = ["CHUNK_BYTES", "iter_text"]

CHUNK_BYTES = 1 << 20  # bytes read at a time (numpy then makes 8-byte index copies of a chunk)


def _line_of(path: Path, offset: int, chunk_bytes: int) -> int:
    """The line (from 1) of byte ``offset``: 1 + the number of b"\\n" before it (as `read_text` counts)."""
    lines = 1
    with open(path, "rb") as fh:
        while offset > 0:
            data = fh.read(min(chunk_bytes, offset))
            if not data:
                break
            lines += data.count(b"\n")
            offset -= len(data)
    return lines


def iter_text(
    path: str | os.PathLike[str],
    encoding: str = "utf-8",
    chunk_bytes: int = CHUNK_BYTES,
    on_read: Callable[[bytes], None] | None = None,
) -> Iterator[str]:
    """Yield the decoded, newline-normalised text of ``path`` in pieces (see the module docstring).

    ``on_read(data)`` is called with each block of bytes read (for a progress bar, a hash).
    Raises what `read_text` raises, for the same reasons and with the same messages.
    """
    p = Path(path)
    if check_text_file(p, encoding).st_size == 0:
        raise DataError(f"text file {str(p)!r} is empty (0 bytes); expected some text to train on")
    if not getattr(codecs.lookup(encoding), "_is_text_encoding", True):  # what bytes.decode checks
        raise DataError(f"{encoding!r} is not a text encoding; expected e.g. 'utf-8' or 'gbk'")  # e.g. 'rot13'
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    offset = 0  # bytes before the current read
    first, held, produced = True, "", False
    with open(p, "rb") as fh:
        while True:
            data = fh.read(chunk_bytes)
            final = not data
            pending = decoder.getstate()[0]
            try:
                text = decoder.decode(data, final=final)
            except UnicodeDecodeError as e:
                seen = pending + data
                where = offset - len(pending) + e.start
                line = _line_of(p, where, chunk_bytes)
                bad = seen[e.start : e.end]
                raise DataError(
                    f"cannot decode {str(p)!r} as {encoding}: invalid byte(s) {bad.hex(' ')} at byte "
                    f"offset {where} (line {line}): {e.reason}. Hint: {_decode_hint(encoding)}"
                ) from None
            offset += len(data)
            if on_read is not None and data:
                on_read(data)
            if first and text:
                if text.startswith("\ufeff"):
                    text = text[1:]
                first = False
            text = held + text
            held = ""
            if text.endswith("\r") and not final:
                text, held = text[:-1], "\r"
            if "\r" in text:
                text = text.replace("\r\n", "\n").replace("\r", "\n")
            if text:
                produced = True
                yield text
            if final:
                break
    if not produced:
        raise DataError(f"text file {str(p)!r} holds only a byte order mark; expected some text")
