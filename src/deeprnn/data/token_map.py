"""Corpora larger than memory: a text encoded once, in chunks, to a memory-mapped file of token ids.

    tm = encode_corpus("novel.txt", encoding="gbk", level="word", progress=True)
    tm.ids          # (n,) read-only np.memmap of uint8, uint16 or uint32 (by the vocabulary's size)
    tm.vocab        # the Vocab, stored beside the ids
    train, val = train_val_split(tm.ids, 0.05)      # views of the map, no copy
    batches = MappedBPTTBatches(train, batch_size=32, seq_len=64)

The ids and the vocabulary are exactly those of the in-memory pipeline
(``Vocab.from_text(read_text(path, encoding), level)`` and ``vocab.encode_text``), but no more
than a few chunks of text are in memory at any time:

* **char level**: pass 1 counts the code points of each chunk (``np.bincount``), the vocabulary
  is built from the counts, pass 2 maps each chunk's code points through a lookup table and
  writes the ids;
* **word level**: the text is cut into pieces that end where a run of whitespace starts after a
  non-space character, normally at a line break (no token of the regex segmenter or of jieba
  spans such a point, so each piece segments as it would inside the whole text); pass 1
  segments each piece once, writing first-seen ids to a temporary file and counting them; pass 2
  renumbers that file to the vocabulary's ids.  With ``segmenter="auto"`` a first scan looks
  for CJK characters, as `tokenize` does on the whole text.

The result is cached in ``cache_dir`` (default `default_cache_dir`) under a key made of the
text's path, size and modification time and of the tokenisation options, so a second run opens
the map at once, and a changed text is encoded again (the stale entry is removed).  Files are
written atomically: an interrupted encoding leaves no entry behind.
"""

from __future__ import annotations

import codecs
import hashlib
import json
import os
import re
import sys
import tempfile
import zlib
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from ..fileio import atomic_write, atomic_write_text
from .encode import ids_dtype
from .errors import DataError
from .text import check_text_file
from .text_stream import CHUNK_BYTES, iter_text
from .tokens import LEVELS, SEGMENTERS, contains_cjk, tokenize
from .vocab import Vocab

__all__ = ["TokenMap", "encode_corpus", "open_cached", "default_cache_dir", "ids_dtype", "PROGRESS_MIN_BYTES"]

_FORMAT = "deeprnn-token-map"
_VERSION = 2  # 2: the text's SHA-256 is recorded
_N_CODE_POINTS = 0x110000
PROGRESS_MIN_BYTES = 16 << 20  # files smaller than this encode without a progress bar


def default_cache_dir() -> Path:
    """``$DEEPRNN_CACHE_DIR``, else ``$XDG_CACHE_HOME/deeprnn/corpora``, else ``~/.cache/deeprnn/corpora``."""
    if os.environ.get("DEEPRNN_CACHE_DIR"):
        return Path(os.environ["DEEPRNN_CACHE_DIR"])
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "deeprnn" / "corpora"


class TokenMap:
    """A corpus's token ids in a read-only memory map, with its vocabulary and metadata.

    Attributes:
        ids: ``np.memmap`` of shape ``(n,)`` (uint8/uint16/uint32).
        vocab: the `Vocab` the ids index.
        path: the ``.ids`` file; ``meta_path`` the JSON beside it.
        meta: the metadata (source file, size, mtime, options, dtype, count, CRC-32 of the ids).
    """

    def __init__(self, meta_path: Path, meta: dict[str, Any]) -> None:
        self.meta_path = meta_path
        self.meta = meta
        self.path = meta_path.with_suffix(".ids")
        self.vocab = Vocab.from_dict(meta["vocab"])
        n, dtype = int(meta["n_tokens"]), np.dtype(meta["dtype"])
        self.ids: np.ndarray = np.memmap(self.path, dtype=dtype, mode="r", shape=(n,))

    def __len__(self) -> int:
        return int(self.ids.shape[0])

    def __repr__(self) -> str:
        return (
            f"TokenMap({str(self.path)!r}, n_tokens={len(self)}, dtype={self.ids.dtype}, vocab_size={len(self.vocab)})"
        )

    @property
    def source(self) -> dict[str, Any]:
        """The text it was encoded from: ``{"path", "size", "mtime_ns", "encoding"}``."""
        return {**self.meta["source"], "encoding": self.meta["encoding"]}

    @property
    def crc32(self) -> int:
        """CRC-32 of the stored ids (an identity of the content, the same on every machine)."""
        return int(self.meta["crc32"])

    @property
    def sha256(self) -> str:
        """SHA-256 (hex) of the text file's bytes when it was encoded."""
        return str(self.meta["sha256"])

    def fingerprint(self, n: int) -> int:
        """`BPTTBatches`' fingerprint of ``ids[:n]`` (CRC-32 of them as int64), computed in chunks.

        Remembered in the metadata, so a resumed run does not read the whole map again.
        """
        if not 0 <= n <= len(self):
            raise DataError(f"fingerprint of the first n ids needs 0 <= n <= {len(self)}, got {n}")
        known = self.meta.setdefault("fingerprints", {})
        if str(n) not in known:
            crc, step = 0, CHUNK_BYTES
            # Read, not through the map: the map's pages would stay in this process's RSS (the whole file).
            with open(self.path, "rb") as fh:
                for start in range(0, n, step):
                    chunk = np.fromfile(fh, dtype=self.ids.dtype, count=min(n, start + step) - start)
                    crc = zlib.crc32(chunk.astype(np.int64), crc)
            known[str(n)] = crc
            try:  # a cache it cannot update stays valid; the value is just computed again next time
                atomic_write_text(self.meta_path, json.dumps(self.meta))
            except OSError:
                pass
        return int(known[str(n)])


# ---- cache entries -----------------------------------------------------------------------------
def _identity(path: Path, st: os.stat_result, encoding: str, level: str, segmenter: str, vocab: Vocab | None) -> dict:
    return {
        "source": {"path": str(path), "size": st.st_size, "mtime_ns": st.st_mtime_ns},
        "encoding": codecs.lookup(encoding).name,
        "level": level,
        "segmenter": segmenter,
        "given_vocab": None if vocab is None else hashlib.sha256(json.dumps(vocab.to_dict()).encode()).hexdigest(),
    }


def _entry(cache_dir: Path, identity: dict) -> Path:
    key = hashlib.sha256(json.dumps({"format": _FORMAT, "version": _VERSION, **identity}).encode()).hexdigest()
    stem = re.sub(r"[^\w.-]", "_", Path(identity["source"]["path"]).name)[:40]
    return cache_dir / f"{stem}-{key[:20]}.json"


def _load_entry(meta_path: Path, identity: dict) -> TokenMap | None:
    """The cached map at ``meta_path`` if it is complete and made for ``identity``, else None."""
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        if meta.get("format") != _FORMAT or meta.get("version") != _VERSION:
            return None
        if any(meta.get(k) != v for k, v in identity.items()):
            return None
        ids_path = meta_path.with_suffix(".ids")
        if ids_path.stat().st_size != int(meta["n_tokens"]) * np.dtype(meta["dtype"]).itemsize:
            return None
        return TokenMap(meta_path, meta)
    except (OSError, ValueError, KeyError, TypeError, DataError):
        return None


def _remove_stale(cache_dir: Path, identity: dict, keep: Path) -> None:
    """Delete the entries of the same text made before it last changed (another size or mtime)."""
    src = identity["source"]
    for other in cache_dir.glob("*.json"):
        if other == keep:
            continue
        try:
            old = json.loads(other.read_text(encoding="utf-8"))["source"]
            if old["path"] == src["path"] and (old["size"], old["mtime_ns"]) != (src["size"], src["mtime_ns"]):
                other.with_suffix(".ids").unlink(missing_ok=True)
                other.unlink(missing_ok=True)
        except (OSError, ValueError, KeyError, TypeError):
            continue


def open_cached(
    path: str | os.PathLike[str],
    *,
    encoding: str = "utf-8",
    level: str = "char",
    segmenter: str = "auto",
    vocab: Vocab | None = None,
    cache_dir: str | os.PathLike[str] | None = None,
) -> TokenMap | None:
    """The cached map of ``path`` for these options, or None if there is none (nothing is encoded).

    With ``vocab`` given, an entry built from the text itself whose vocabulary equals it serves too.
    """
    p = Path(path).resolve()
    st = check_text_file(p, encoding)
    cache = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    identity = _identity(p, st, encoding, level, segmenter, vocab)
    found = _load_entry(_entry(cache, identity), identity)
    if found is None and vocab is not None:
        own = _identity(p, st, encoding, level, segmenter, None)
        found = _load_entry(_entry(cache, own), own)
        if found is not None and found.vocab != vocab:
            found = None
    return found


# ---- progress ------------------------------------------------------------------------------------
class _Bar:
    """A byte-counting progress bar: tqdm if installed, else a line every 10%; nothing when off."""

    def __init__(self, enabled: bool, total: int, desc: str) -> None:
        self.total, self.desc, self.done, self._shown, self._bar = total, desc, 0, -1, None
        self.enabled = enabled
        if not enabled:
            return
        try:
            from tqdm.auto import tqdm
        except ImportError:
            return
        self._bar = tqdm(total=total, desc=desc, unit="B", unit_scale=True, unit_divisor=1024, file=sys.stderr)

    def __call__(self, data: bytes) -> None:
        n = len(data)
        self.done += n
        if self._bar is not None:
            self._bar.update(n)
        elif self.enabled and self.total:
            tenth = 10 * self.done // self.total
            if tenth > self._shown:
                self._shown = tenth
                print(f"{self.desc}: {10 * tenth}% of {self.total:,} bytes", file=sys.stderr, flush=True)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()


# ---- encoding ------------------------------------------------------------------------------------
def _code_points(text: str) -> np.ndarray:
    return np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype="<u4")


_SAFE_CUT = re.compile(r"\S(?=\s)")


def _safe_cut(buf: str) -> int:
    """The last position p with buf[p-1] not a space and buf[p] a space (0: none).

    A word token of the regex segmenter and of jieba never spans such a point.
    """
    i = buf.rfind("\n")
    while i > 0 and buf[i - 1].isspace():
        i -= 1
    if i > 0:
        return i
    last = None
    for last in _SAFE_CUT.finditer(buf):
        pass
    return 0 if last is None else last.end()


def _pieces(chunks: Iterator[str]) -> Iterator[str]:
    """Re-cut text chunks at `_safe_cut` points (a piece without one is joined to the next)."""
    carry = ""
    for chunk in chunks:
        buf = carry + chunk
        cut = _safe_cut(buf)
        if cut == 0:
            carry = buf
            continue
        yield buf[:cut]
        carry = buf[cut:]
    if carry:
        yield carry


def _unknown(vocab: Vocab, tokens: list[str]) -> None:
    """Raise `Vocab.encode`'s DataError naming the unknown tokens (those of this chunk)."""
    vocab.encode(tokens, unknown="error")


def _latin1(text: str) -> bytes | None:
    """``text`` as one byte per character if every character is below U+0100 (a copy in C), else None."""
    try:
        return text.encode("latin-1")
    except UnicodeEncodeError:
        return None


def _char_vocab(chunks: Iterator[str], segmenter: str) -> Vocab:
    """The vocabulary ``Vocab.from_text`` builds, from code-point counts of each chunk."""
    counts = np.zeros(_N_CODE_POINTS, dtype=np.int64)
    for text in chunks:
        narrow = _latin1(text)
        cps = np.frombuffer(narrow, dtype=np.uint8) if narrow is not None else _code_points(text)
        top = int(cps.max()) + 1
        counts[:top] += np.bincount(cps, minlength=top)
    present = np.flatnonzero(counts)
    return Vocab.build(Counter({chr(c): int(counts[c]) for c in present}), "char", segmenter=segmenter)


def _char_ids(chunks: Iterator[str], vocab: Vocab, dtype: np.dtype) -> Iterator[np.ndarray]:
    """Each chunk's ids, through a code point -> id lookup table.

    Text whose characters are all below U+0100, with ids of one byte, takes ``bytes.translate``.
    """
    lut = np.zeros(_N_CODE_POINTS, dtype=dtype)
    known = np.zeros(_N_CODE_POINTS, dtype=bool)
    for token, i in vocab.stoi.items():
        if len(token) == 1:
            lut[ord(token)], known[ord(token)] = i, True
    table = lut[:256].astype(np.uint8).tobytes() if dtype == np.uint8 else None
    known_bytes = bytes(np.flatnonzero(known[:256]).astype(np.uint8).tolist())
    for text in chunks:
        narrow = _latin1(text) if table is not None else None
        if narrow is not None and not narrow.translate(None, known_bytes):  # all known: the fast path
            yield np.frombuffer(narrow.translate(table), dtype=np.uint8)
            continue
        cps = _code_points(text)
        ids = lut[cps]
        ok = known[cps]
        if not ok.all():
            if vocab.unk_id is None:
                _unknown(vocab, list(text))
            ids[~ok] = vocab.unk_id
        yield ids


def _word_ids(pieces: Iterator[str], segmenter: str, vocab: Vocab, dtype: np.dtype) -> Iterator[np.ndarray]:
    """The ids of every piece's tokens under a given ``vocab``."""
    stoi, unk = vocab.stoi, vocab.unk_id
    for piece in pieces:
        toks = tokenize(piece, "word", segmenter)
        if unk is None and any(t not in stoi for t in toks):
            _unknown(vocab, toks)
        yield np.fromiter((stoi.get(t, unk) for t in toks), dtype=dtype, count=len(toks))


def _first_seen_ids(pieces: Iterator[str], segmenter: str, tmp: Any) -> tuple[Counter, dict[str, int]]:
    """Segment every piece once, writing first-seen ids (uint32) to the file ``tmp``.

    Returns the token counts (in first-appearance order, as ``Counter(tokens)`` of the whole
    text) and the first-seen id of every token.
    """
    first_seen: dict[str, int] = {}
    counts = np.zeros(0, dtype=np.int64)
    for piece in pieces:
        toks = tokenize(piece, "word", segmenter)
        ids = np.fromiter((first_seen.setdefault(t, len(first_seen)) for t in toks), np.uint32, len(toks))
        tmp.write(memoryview(ids).cast("B"))
        if len(first_seen) > counts.size:
            counts = np.concatenate([counts, np.zeros(len(first_seen) - counts.size, np.int64)])
        counts += np.bincount(ids, minlength=counts.size)
    return Counter({t: int(counts[i]) for t, i in first_seen.items()}), first_seen


def _renumbered(tmp: Any, renumber: np.ndarray, chunk_bytes: int) -> Iterator[np.ndarray]:
    """``renumber[first-seen id]`` for the ids stored in ``tmp``, chunk by chunk."""
    tmp.flush()
    tmp.seek(0)
    step = max(4, chunk_bytes // 4 * 4)
    while data := tmp.read(step):
        yield renumber[np.frombuffer(data, dtype=np.uint32)]


def encode_corpus(
    path: str | os.PathLike[str],
    *,
    encoding: str = "utf-8",
    level: str = "char",
    segmenter: str = "auto",
    vocab: Vocab | None = None,
    cache_dir: str | os.PathLike[str] | None = None,
    progress: bool = False,
    chunk_bytes: int = CHUNK_BYTES,
) -> TokenMap:
    """Encode the text file ``path`` to a memory-mapped `TokenMap`, or open the cached one.

    Args:
        path: the text file.
        encoding: any Python text codec (``"utf-8"``, ``"gbk"``, ...), decoded as `read_text` does.
        level, segmenter: as in `tokenize` (``"char"`` / ``"word"``; ``"auto"``, ``"regex"``, ``"jieba"``).
        vocab: encode with this vocabulary (e.g. a checkpoint's) instead of building one from
            the text; unknown tokens raise DataError unless it has an unknown token.
        cache_dir: where the map and its metadata go (default `default_cache_dir`).
        progress: show a progress bar while encoding a file of `PROGRESS_MIN_BYTES` or more.
        chunk_bytes: bytes of text read at a time.

    Raises:
        FileNotFoundError, IsADirectoryError, DataError: as `read_text`, plus unknown tokens.
        ImportError: word level on Chinese text without jieba.
    """
    if level not in LEVELS:
        raise DataError(f"unknown token level {level!r}; expected one of {LEVELS}")
    if segmenter not in SEGMENTERS:
        raise DataError(f"unknown word segmenter {segmenter!r}; expected one of {SEGMENTERS}")
    p = Path(path).resolve()
    st = check_text_file(p, encoding)
    cache = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    found = open_cached(p, encoding=encoding, level=level, segmenter=segmenter, vocab=vocab, cache_dir=cache)
    if found is not None:
        return found
    identity = _identity(p, st, encoding, level, segmenter, vocab)
    meta_path = _entry(cache, identity)
    cache.mkdir(parents=True, exist_ok=True)
    show = progress and st.st_size >= PROGRESS_MIN_BYTES

    digest = hashlib.sha256()

    def chunks(step: str, hashing: bool = False) -> Iterator[str]:
        """The text in pieces; ``hashing``: this pass reads the whole file into ``digest``."""
        bar = _Bar(show, st.st_size, f"{step} {p.name}")

        def on_read(data: bytes) -> None:
            bar(data)
            if hashing:
                digest.update(data)

        try:
            yield from iter_text(p, encoding, chunk_bytes, on_read=on_read)
        finally:
            bar.close()

    with tempfile.TemporaryFile(dir=cache, prefix=".first-seen-") as tmp:
        if level == "char":
            counted = vocab is None
            if counted:
                vocab = _char_vocab(chunks("counting", hashing=True), segmenter)
            dtype = ids_dtype(len(vocab))
            id_chunks = _char_ids(chunks("encoding", hashing=not counted), vocab, dtype)
        else:
            seg = segmenter
            if seg == "auto":  # as tokenize(): jieba if the text has any CJK character
                seg = "jieba" if any(contains_cjk(t) for t in chunks("looking for CJK in")) else "regex"
            pieces = _pieces(chunks("segmenting", hashing=True))
            if vocab is not None:
                dtype = ids_dtype(len(vocab))
                id_chunks = _word_ids(pieces, seg, vocab, dtype)
            else:
                counts, first_seen = _first_seen_ids(pieces, seg, tmp)
                vocab = Vocab.build(counts, "word", segmenter=segmenter)
                dtype = ids_dtype(len(vocab))
                renumber = np.fromiter((vocab.stoi.get(t, vocab.unk_id) for t in first_seen), dtype, len(first_seen))
                id_chunks = _renumbered(tmp, renumber, chunk_bytes)
        total, crc = 0, 0

        def write(fh: Any) -> None:
            nonlocal total, crc
            for ids in id_chunks:
                data = memoryview(np.ascontiguousarray(ids, dtype=dtype)).cast("B")
                fh.write(data)
                crc = zlib.crc32(data, crc)
                total += ids.size

        atomic_write(meta_path.with_suffix(".ids"), write)
    meta = {
        "format": _FORMAT,
        "version": _VERSION,
        **identity,
        "dtype": dtype.name,
        "n_tokens": total,
        "crc32": crc,
        "sha256": digest.hexdigest(),
        "vocab": vocab.to_dict(),
    }
    atomic_write_text(meta_path, json.dumps(meta))
    _remove_stale(cache, identity, meta_path)
    return TokenMap(meta_path, meta)
