"""A whole text to token ids in bounded memory: no list of every token, no Python object per token.

``list(text)`` makes one str object per character (about 80 bytes each for Chinese, plus an
8-byte list slot), and a Counter and an int64 id per token follow: a 50 MB Chinese text took
1.7 GB.  Here the text is walked in chunks of about a million characters:

- char level: a chunk becomes its code points, ``np.frombuffer(chunk.encode('utf-32-le'),
  uint32)``; ``np.bincount`` counts them and a table indexed by code point maps them to ids
  (vectorised, 4 bytes per character of the chunk at a time);
- word level: a chunk is tokenised (regex or jieba) and its tokens mapped to ids at once.  A
  chunk ends just before a line break that follows a non-space character, where neither
  tokeniser can have a token running on, so the tokens are exactly those of the whole text.

The ids come out in the smallest unsigned type that holds the vocabulary (``ids_dtype``):
1 byte per token for up to 256 tokens, 2 bytes up to 65,536.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from itertools import repeat

import numpy as np

from .errors import DataError
from .tokens import contains_cjk, tokenize

__all__ = [
    "CHUNK",
    "ids_dtype",
    "char_chunks",
    "text_chunks",
    "count_chars",
    "encode_chars",
    "count_words",
    "encode_words",
    "concatenate",
]

CHUNK = 1 << 20  # characters per chunk
_BOUNDARY = re.compile(r"(?<=\S)\s")  # a whitespace character after a non-space one


def ids_dtype(vocab_size: int) -> np.dtype:
    """The smallest unsigned dtype that holds ids ``0 .. vocab_size - 1``: uint8, uint16 or uint32."""
    for dt in (np.uint8, np.uint16, np.uint32):
        if vocab_size <= np.iinfo(dt).max + 1:
            return np.dtype(dt)
    raise DataError(f"a vocabulary of {vocab_size} entries does not fit token ids of 32 bits")


def char_chunks(text: str, chunk: int | None = None) -> Iterator[np.ndarray]:
    """The code points of ``text``, ``chunk`` (default `CHUNK`) characters at a time (uint32 arrays)."""
    chunk = chunk or CHUNK
    for i in range(0, len(text), chunk):
        # 'surrogatepass': a lone surrogate (from a 'surrogateescape' decode) is one code point too
        yield np.frombuffer(text[i : i + chunk].encode("utf-32-le", "surrogatepass"), dtype=np.uint32)


def count_chars(text: str) -> dict[str, int]:
    """``{character: count}`` in order of first appearance (as ``Counter(text)`` gives)."""
    counts = np.zeros(0, dtype=np.int64)  # grows to the largest code point seen + 1
    first_seen: list[int] = []  # code points in order of first appearance
    for codes in char_chunks(text):
        c = np.bincount(codes)  # (max code point + 1,)
        if len(c) > len(counts):
            counts = np.concatenate([counts, np.zeros(len(c) - len(counts), dtype=np.int64)])
        new = (c > 0) & (counts[: len(c)] == 0)
        if new.any():
            # Only the chunk's occurrences of new characters are sorted, to order them by first position.
            where = np.flatnonzero(new[codes])
            found, first = np.unique(codes[where], return_index=True)
            first_seen.extend(found[np.argsort(where[first], kind="stable")].tolist())
        counts[: len(c)] += c
    return {chr(cp): int(counts[cp]) for cp in first_seen}


def encode_chars(text: str, stoi: dict[str, int], unknown: str, unk_id: int | None, dtype: np.dtype) -> np.ndarray:
    """Ids (n,) of the characters of ``text`` through ``stoi``; characters outside it are an error
    (``unknown='error'``, listing them), ``unk_id`` ('unk') or dropped ('skip')."""
    single = {ord(t): i for t, i in stoi.items() if len(t) == 1}
    top = max(single, default=-1) + 1
    table = np.full(top + 1, -1, dtype=np.int32)  # code point -> id; the last slot (-1) catches the rest
    table[list(single)] = list(single.values())
    out = np.empty(len(text), dtype=dtype)
    n = 0
    missing: dict[str, None] = {}
    for codes in char_chunks(text):
        ids = table.take(codes, mode="clip")  # code points above the vocab's land on the last slot
        bad = ids < 0
        if bad.any():
            where = np.flatnonzero(bad)
            found, first = np.unique(codes[where], return_index=True)  # listed in order of appearance
            missing.update(dict.fromkeys(chr(c) for c in found[np.argsort(where[first])].tolist()))
            if unknown == "error":
                continue
            ids = ids[~bad] if unknown == "skip" else np.where(bad, unk_id, ids)
        out[n : n + len(ids)] = ids
        n += len(ids)
    if missing and unknown == "error":
        raise _unknown_error(missing, "characters", len(stoi), unk_id)
    return out if n == len(out) else out[:n].copy()


def _unknown_error(missing: dict[str, None], kind: str, size: int, unk_id: int | None) -> DataError:
    items = list(missing)
    shown = ", ".join(repr(t) for t in items[:10]) + (f", ... ({len(items)} in all)" if len(items) > 10 else "")
    return DataError(
        f"{len(items)} {kind} not in the vocab ({size} entries): {shown}; pass unknown='skip' to drop them"
        + (" or unknown='unk' to map them to <unk>" if unk_id is not None else "")
    )


def text_chunks(text: str, chunk: int | None = None) -> Iterator[str]:
    """``text`` in pieces of about ``chunk`` characters, each ending before a whitespace
    character that follows a non-space one: a token boundary for both word tokenisers (the
    regex's whitespace runs start there, and jieba makes every whitespace character a token)."""
    chunk = chunk or CHUNK
    start, n = 0, len(text)
    while start < n:
        m = _BOUNDARY.search(text, start + chunk) if start + chunk < n else None
        end = m.start() if m else n
        yield text[start:end]
        start = end


def _resolve(segmenter: str, text: str) -> str:
    """'auto' decided once for the whole text (as `tokenize` decides it), not chunk by chunk."""
    if segmenter != "auto":
        return segmenter
    return "jieba" if contains_cjk(text) else "regex"


def _lookup(toks: list[str], table: dict[str, int]) -> np.ndarray:
    """``table[t]`` for every token (-1 where missing), looked up at C speed: (len(toks),) int64."""
    return np.fromiter(map(table.get, toks, repeat(-1)), dtype=np.int64, count=len(toks))


def count_words(text: str, segmenter: str) -> tuple[dict[str, int], list[np.ndarray]]:
    """``({token: count} in order of first appearance, provisional ids)``: each token's id is its
    rank of first appearance; the ids come as one uint32 array per chunk of the text."""
    segmenter = _resolve(segmenter, text)
    index: dict[str, int] = {}
    parts = []
    counts = np.zeros(0, dtype=np.int64)
    for piece in text_chunks(text):
        toks = tokenize(piece, "word", segmenter)
        ids = _lookup(toks, index)
        for i in np.flatnonzero(ids < 0).tolist():  # tokens not seen before: few after the first chunks
            ids[i] = index.setdefault(toks[i], len(index))
        c = np.bincount(ids, minlength=len(index))
        counts = np.concatenate([counts, np.zeros(len(c) - len(counts), dtype=np.int64)]) + c
        parts.append(ids.astype(np.uint32))
    return {t: int(counts[i]) for t, i in index.items()}, parts


def encode_words(
    text: str, stoi: dict[str, int], segmenter: str, unknown: str, unk_id: int | None, dtype: np.dtype
) -> np.ndarray:
    """Ids (n,) of the word tokens of ``text`` through ``stoi`` (unknown tokens as in `encode_chars`)."""
    segmenter = _resolve(segmenter, text)
    parts = []
    missing: dict[str, None] = {}
    for piece in text_chunks(text):
        toks = tokenize(piece, "word", segmenter)
        ids = _lookup(toks, stoi)
        bad = ids < 0
        if bad.any():
            missing.update(dict.fromkeys(toks[i] for i in np.flatnonzero(bad).tolist()))
            if unknown == "error":
                continue
            ids = ids[~bad] if unknown == "skip" else np.where(bad, unk_id, ids)
        parts.append(ids.astype(dtype))
    if missing and unknown == "error":
        raise _unknown_error(missing, "tokens", len(stoi), unk_id)
    return concatenate(parts, dtype)


def concatenate(parts: list[np.ndarray], dtype: np.dtype, mapping: np.ndarray | None = None) -> np.ndarray:
    """The parts (each through ``mapping`` if given) in one array of ``dtype``; each part is
    released as soon as it is copied, so the peak is the output plus one part."""
    out = np.empty(sum(len(p) for p in parts), dtype=dtype)
    n = 0
    while parts:
        part = parts.pop(0)
        out[n : n + len(part)] = part if mapping is None else mapping[part]
        n += len(part)
    return out
