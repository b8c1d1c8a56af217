"""Reading text files with clear, actionable errors."""

from __future__ import annotations

import codecs
import os
import stat
from pathlib import Path

from .errors import DataError

__all__ = ["read_text", "check_text_file"]


def _decode_hint(encoding: str) -> str:
    norm = codecs.lookup(encoding).name
    if norm == "utf-8":
        return "the file is not UTF-8; if it is Chinese text saved on Windows, try --encoding gbk"
    if norm in ("gbk", "gb2312", "gb18030"):
        return "the file is not GBK; try --encoding utf-8 (or gb18030 for rare characters)"
    return "try --encoding utf-8 or --encoding gbk"


def check_text_file(path: str | os.PathLike[str], encoding: str = "utf-8") -> os.stat_result:
    """``os.stat(path)`` once ``encoding`` is known to be a text codec and ``path`` a non-empty regular file.

    Raises:
        DataError: an unknown or non-text encoding (e.g. 'rot13'), an empty file, or a path that is
            not a regular file (a FIFO nobody writes to would block for ever, /dev/zero never ends).
        FileNotFoundError, IsADirectoryError: as the names say.
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
    try:
        st = os.stat(p)
    except FileNotFoundError:
        raise FileNotFoundError(f"text file not found: {str(p)!r} (expected an existing file)") from None
    if stat.S_ISDIR(st.st_mode):
        raise IsADirectoryError(f"expected a text file but {str(p)!r} is a directory; pass the path of a file in it")
    if not stat.S_ISREG(st.st_mode):
        kind = "a FIFO (named pipe)" if stat.S_ISFIFO(st.st_mode) else "a device or socket"
        raise DataError(f"{str(p)!r} is {kind}, not a regular file; save the text to a file and train on that")
    if st.st_size == 0:
        raise DataError(f"text file {str(p)!r} is empty (0 bytes); expected some text to train on")
    return st


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
    check_text_file(p, encoding)
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
    del data  # the bytes are not needed once decoded: the text alone stays
    if text.startswith("\ufeff"):
        text = text[1:]
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if not text:
        raise DataError(f"text file {str(p)!r} holds only a byte order mark; expected some text")
    return text
