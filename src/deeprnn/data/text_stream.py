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
import stat
from collections.abc import Callable, Iterator
from pathlib import Path

from .errors import DataError
from .text import _decode_hint

__all__ = ["CHUNK_BYTES", "check_text_file", "iter_text"]

CHUNK_BYTES = 1 << 20  # bytes read at a time (numpy then makes 8-byte index copies of a chunk)


def check_text_file(path: str | os.PathLike[str], encoding: str) -> os.stat_result:
    """Check that ``path`` is a readable, non-empty regular file and ``encoding`` a text codec.

    Returns its ``os.stat`` result (size, modification time).  Raises as `read_text`:
    FileNotFoundError, IsADirectoryError, or DataError (an unknown or non-text encoding, an
    empty file, or something other than a regular file, such as a FIFO, whose reading could
    block for ever).
    """
    p = Path(path)
    try:
        info = codecs.lookup(encoding)
    except LookupError:
        raise DataError(
            f"unknown text encoding {encoding!r}: expected a Python codec name such as 'utf-8', 'gbk' or 'latin-1'"
        ) from None
    if not getattr(info, "_is_text_encoding", True):  # e.g. 'rot13': a codec, but not bytes <-> str
        raise DataError(f"{encoding!r} is not a text encoding; expected e.g. 'utf-8' or 'gbk'")
    if not p.exists():
        raise FileNotFoundError(f"text file not found: {str(p)!r} (expected an existing file)")
    if p.is_dir():
        raise IsADirectoryError(f"expected a text file but {str(p)!r} is a directory; pass the path of a file in it")
    st = p.stat()
    if not stat.S_ISREG(st.st_mode):
        raise DataError(f"{str(p)!r} is not a regular file (a FIFO, socket or device?); expected a text file")
    if st.st_size == 0:
        raise DataError(f"text file {str(p)!r} is empty (0 bytes); expected some text to train on")
    return st


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
    on_bytes: Callable[[int], None] | None = None,
) -> Iterator[str]:
    """Yield the decoded, newline-normalised text of ``path`` in pieces (see the module docstring).

    ``on_bytes(n)`` is called after each read with the number of bytes read (for a progress
    bar).  Raises the errors of `check_text_file`, and DataError when the bytes do not decode
    or the file holds only a byte order mark.
    """
    p = Path(path)
    check_text_file(p, encoding)
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
            if on_bytes is not None and data:
                on_bytes(len(data))
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
