"""Reading text files with clear, actionable errors."""

from __future__ import annotations

import codecs
import os
import stat
from pathlib import Path

from .errors import DataError

__all__ = ["read_text"]


def _decode_hint(encoding: str) -> str:
    norm = codecs.lookup(encoding).name
    if norm == "utf-8":
        return "the file is not UTF-8; if it is Chinese text saved on Windows, try --encoding gbk"
    if norm in ("gbk", "gb2312", "gb18030"):
        return "the file is not GBK; try --encoding utf-8 (or gb18030 for rare characters)"
    return "try --encoding utf-8 or --encoding gbk"


def read_text(path: str | os.PathLike[str], encoding: str = "utf-8") -> str:
    """Read a whole text file and return it as ``str``.

    Bytes are decoded strictly with ``encoding`` (UTF-8 by default; any Python
    codec name such as ``"gbk"`` or ``"latin-1"`` works). A leading UTF-8 byte
    order mark is dropped and ``\\r\\n`` / ``\\r`` line endings become ``\\n``.

    Raises:
        FileNotFoundError: ``path`` does not exist.
        IsADirectoryError: ``path`` is a directory.
        DataError: ``path`` is not a regular file (a FIFO, a device), the file is empty,
            the encoding name is unknown, or the bytes do not decode (the message names the
            encoding, byte offset and line).
    """
    p = Path(path)
    try:
        codecs.lookup(encoding)
    except LookupError:
        raise DataError(
            f"unknown text encoding {encoding!r}: expected a Python codec name such as 'utf-8', 'gbk' or 'latin-1'"
        ) from None
    try:
        st = os.stat(p)
    except FileNotFoundError:
        raise FileNotFoundError(f"text file not found: {str(p)!r} (expected an existing file)") from None
    if stat.S_ISDIR(st.st_mode):
        raise IsADirectoryError(f"expected a text file but {str(p)!r} is a directory; pass the path of a file in it")
    if not stat.S_ISREG(st.st_mode):  # a FIFO nobody writes to would block for ever, /dev/zero never ends
        kind = "a FIFO (named pipe)" if stat.S_ISFIFO(st.st_mode) else "a device or socket"
        raise DataError(f"{str(p)!r} is {kind}, not a regular file; save the text to a file and train on that")
    data = p.read_bytes()
    if not data:
        raise DataError(f"text file {str(p)!r} is empty (0 bytes); expected some text to train on")
    try:
        text = data.decode(encoding)
    except LookupError:  # e.g. 'rot13': a codec, but not a bytes<->str text encoding
        raise DataError(f"{encoding!r} is not a text encoding; expected e.g. 'utf-8' or 'gbk'") from None
    except UnicodeDecodeError as e:
        bad = data[e.start : e.end]
        line = data.count(b"\n", 0, e.start) + 1
        raise DataError(
            f"cannot decode {str(p)!r} as {encoding}: invalid byte(s) {bad.hex(' ')} at byte "
            f"offset {e.start} (line {line}): {e.reason}. Hint: {_decode_hint(encoding)}"
        ) from None
    if text.startswith("\ufeff"):
        text = text[1:]
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if not text:
        raise DataError(f"text file {str(p)!r} holds only a byte order mark; expected some text")
    return text
