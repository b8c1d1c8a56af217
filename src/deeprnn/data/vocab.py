"""Token <-> id vocabularies for character- and word-level language models."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from .encode import concatenate, count_chars, count_words, encode_chars, encode_words, ids_dtype
from .errors import DataError
from .tokens import LEVELS, SEGMENTERS

__all__ = ["UNK", "Vocab"]

UNK = "<unk>"
_ORDERS = ("freq", "sorted", "first")
_FORMAT = "deeprnn.vocab"
_VERSION = 1
_DEFAULT: Any = object()  # "default unk_token for the level"


def _preview(items: Iterable[str], limit: int = 10) -> str:
    items = list(items)
    shown = ", ".join(repr(t) for t in items[:limit])
    return shown + (f", ... ({len(items)} in all)" if len(items) > limit else "")


def _check_options(level: str, order: str, unk_token: Any, min_freq: Any, max_size: Any) -> str | None:
    """Validate `Vocab.build`'s options; returns the unknown token (the level's default resolved)."""
    if level not in LEVELS:
        raise DataError(f"unknown vocab level {level!r}; expected one of {LEVELS}")
    if order not in _ORDERS:
        raise DataError(f"unknown vocab order {order!r}; expected one of {_ORDERS}")
    if unk_token is _DEFAULT:
        unk_token = UNK if level == "word" else None
    if isinstance(min_freq, bool) or not isinstance(min_freq, int) or min_freq < 1:
        raise DataError(f"min_freq must be an int >= 1, got {min_freq!r}")
    n_special = 0 if unk_token is None else 1
    if max_size is not None and (isinstance(max_size, bool) or not isinstance(max_size, int) or max_size <= n_special):
        raise DataError(f"max_size must be an int > {n_special} (it counts the unknown token), got {max_size!r}")
    return unk_token


class Vocab:
    """A bijection between tokens and ids ``0 .. len(vocab)-1``.

    Build one with :meth:`Vocab.build` (or :meth:`Vocab.from_text`); the constructor
    takes the final id order directly.

    Ordering (deterministic, independent of hash seeds): if the vocab has an unknown
    token it is id 0; the other tokens follow in ``order``:

    * ``"freq"`` (default): most frequent first, ties broken by code-point order of
      the token;
    * ``"sorted"``: code-point order of the tokens (like char-rnn / nanoGPT);
    * ``"first"``: order of first appearance in the training tokens.

    Unknown tokens: word-level vocabs have ``unk_token="<unk>"`` by default, char-level
    ones have none (the vocab is the full character set of the training text). What
    :meth:`encode` does with an unseen token is always explicit: ``unknown="error"``
    raises :class:`DataError` naming the unseen tokens, ``"unk"`` maps them to the
    unknown id (needs an ``unk_token``), ``"skip"`` drops them.

    Attributes:
        itos: list of tokens, ``itos[id] -> token``.
        stoi: dict, ``stoi[token] -> id``.
        level: ``"char"`` or ``"word"``.
        segmenter: word segmenter used by :meth:`encode_text` (see ``tokenize``).
        unk_token: the unknown token or ``None``; ``unk_id`` its id or ``None``.
    """

    def __init__(
        self,
        itos: Sequence[str],
        level: str = "char",
        unk_token: str | None = None,
        segmenter: str = "auto",
    ) -> None:
        if level not in LEVELS:
            raise DataError(f"unknown vocab level {level!r}; expected one of {LEVELS}")
        if segmenter not in SEGMENTERS:
            raise DataError(f"unknown segmenter {segmenter!r}; expected one of {SEGMENTERS}")
        itos = list(itos)
        for t in itos:
            if not isinstance(t, str) or not t:
                raise DataError(f"vocab tokens must be non-empty str, got {t!r}")
        if len(set(itos)) != len(itos):
            dup = [t for t, c in Counter(itos).items() if c > 1]
            raise DataError(f"vocab tokens must be unique; duplicated: {_preview(dup)}")
        if unk_token is not None and unk_token not in itos:
            raise DataError(f"unk_token {unk_token!r} is not among the vocab tokens")
        if level == "char":
            long = [t for t in itos if len(t) != 1 and t != unk_token]
            if long:
                raise DataError(f"a char-level vocab holds single characters, got {_preview(long, 3)}")
        if not itos:
            raise DataError("a vocab needs at least one token, got none")
        self.itos: list[str] = itos
        self.stoi: dict[str, int] = {t: i for i, t in enumerate(itos)}
        self.level = level
        self.segmenter = segmenter
        self.unk_token = unk_token
        self.unk_id: int | None = None if unk_token is None else self.stoi[unk_token]

    # ------------------------------------------------------------------ building
    @classmethod
    def build(
        cls,
        tokens: Iterable[str],
        level: str = "char",
        *,
        max_size: int | None = None,
        min_freq: int = 1,
        unk_token: Any = _DEFAULT,
        order: str = "freq",
        segmenter: str = "auto",
    ) -> Vocab:
        """Count ``tokens`` and build a vocab.

        Args:
            tokens: training tokens (a ``str`` counts as its characters).
            level: ``"char"`` or ``"word"``.
            max_size: keep at most this many entries in total (including the unknown
                token); the most frequent tokens are kept, ties by code point.
            min_freq: drop tokens seen fewer than ``min_freq`` times.
            unk_token: the unknown token; default ``"<unk>"`` for word level and
                ``None`` for char level. Pass ``None`` for no unknown token.
            order: ``"freq"``, ``"sorted"`` or ``"first"`` (see class docstring).
            segmenter: recorded for :meth:`encode_text` (word level).
        """
        unk_token = _check_options(level, order, unk_token, min_freq, max_size)
        counts = Counter(tokens)  # a Counter keeps first-appearance order
        return cls._from_counts(counts, level, max_size, min_freq, unk_token, order, segmenter)

    @classmethod
    def _from_counts(
        cls,
        counts: dict[str, int],
        level: str,
        max_size: int | None,
        min_freq: int,
        unk_token: str | None,
        order: str,
        segmenter: str,
    ) -> Vocab:
        """The vocab of tokens counted in ``counts`` (first-appearance order), as `build` describes."""
        n_special = 0 if unk_token is None else 1
        counts = {t: c for t, c in counts.items() if t != unk_token}
        kept = [t for t, c in counts.items() if c >= min_freq]
        if max_size is not None and len(kept) > max_size - n_special:
            kept = sorted(kept, key=lambda t: (-counts[t], t))[: max_size - n_special]
            kept_set = set(kept)
            kept = [t for t in counts if t in kept_set]  # back to first-appearance order
        if order == "freq":
            kept.sort(key=lambda t: (-counts[t], t))
        elif order == "sorted":
            kept.sort()
        itos = ([unk_token] if unk_token is not None else []) + kept
        if not kept:
            raise DataError(
                f"no token reaches min_freq={min_freq} (received {sum(counts.values())} "
                f"tokens, {len(counts)} distinct); expected a non-empty training text"
            )
        return cls(itos, level=level, unk_token=unk_token, segmenter=segmenter)

    @classmethod
    def from_text(cls, text: str, level: str = "char", *, segmenter: str = "auto", **kw: Any) -> Vocab:
        """Tokenise ``text`` at ``level`` and :meth:`build` a vocab (same keywords).

        The same vocab as ``build(tokenize(text, level, segmenter), ...)``, counted chunk by chunk
        without a list of the tokens (see ``encode.py``).
        """
        return cls.from_text_with_ids(text, level, segmenter=segmenter, **kw)[0]

    @classmethod
    def from_text_with_ids(
        cls, text: str, level: str = "char", *, segmenter: str = "auto", **kw: Any
    ) -> tuple[Vocab, np.ndarray]:
        """:meth:`from_text` and the text's ids (n,) under it, in one pass at the word level.

        The ids have the vocab's compact dtype (``ids_dtype``: uint8 up to 256 tokens, uint16 up
        to 65,536); tokens left out by ``min_freq`` or ``max_size`` map to the unknown token,
        or are dropped when the vocab has none.
        """
        if not isinstance(text, str):
            raise DataError(f"Vocab.from_text expects text as str, got {type(text).__name__}")
        if level not in LEVELS:
            raise DataError(f"unknown vocab level {level!r}; expected one of {LEVELS}")
        if segmenter not in SEGMENTERS:
            raise DataError(f"unknown word segmenter {segmenter!r}; expected one of {SEGMENTERS}")
        unknown_kw = sorted(set(kw) - {"max_size", "min_freq", "unk_token", "order"})
        if unknown_kw:
            raise TypeError(f"Vocab.from_text() got unexpected keyword arguments {unknown_kw}")
        max_size, min_freq, order = kw.get("max_size"), kw.get("min_freq", 1), kw.get("order", "freq")
        unk_token = _check_options(level, order, kw.get("unk_token", _DEFAULT), min_freq, max_size)
        if level == "char":
            counts = count_chars(text)
            vocab = cls._from_counts(counts, level, max_size, min_freq, unk_token, order, segmenter)
            unknown = "unk" if vocab.unk_id is not None else "skip"
            return vocab, vocab.encode_text(text, unknown=unknown, dtype=vocab.ids_dtype)
        counts, parts = count_words(text, segmenter)
        vocab = cls._from_counts(counts, level, max_size, min_freq, unk_token, order, segmenter)
        # The provisional ids are ranks of first appearance: one gather maps them to the vocab's.
        drop = -1 if vocab.unk_id is None else vocab.unk_id
        perm = np.array([vocab.stoi.get(t, drop) for t in counts], dtype=np.int64)
        if vocab.unk_id is None and (perm < 0).any():  # tokens left out, and no <unk> to stand for them
            return vocab, concatenate([perm[p][perm[p] >= 0] for p in parts], vocab.ids_dtype)
        return vocab, concatenate(parts, vocab.ids_dtype, mapping=perm)

    # ------------------------------------------------------------------ encoding
    def __len__(self) -> int:
        return len(self.itos)

    def __contains__(self, token: object) -> bool:
        return token in self.stoi

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Vocab):
            return NotImplemented
        return self.to_dict() == other.to_dict()

    def __repr__(self) -> str:
        return (
            f"Vocab(size={len(self)}, level={self.level!r}, unk_token={self.unk_token!r}, "
            f"first={_preview(self.itos, 5)})"
        )

    def encode(self, tokens: Iterable[str], unknown: str | None = None) -> np.ndarray:
        """Map tokens to ids.

        Args:
            tokens: iterable of tokens. For a char-level vocab a ``str`` is accepted
                (its characters); for a word-level vocab pass a token list (or use
                :meth:`encode_text`).
            unknown: what to do with tokens not in the vocab: ``"error"`` (raise
                :class:`DataError` naming them), ``"unk"`` (map to ``unk_id``) or
                ``"skip"`` (drop them). Default: ``"unk"`` if the vocab has an unknown
                token, else ``"error"``.

        Returns:
            ``np.ndarray`` of dtype int64, shape ``(n_tokens,)``.
        """
        if isinstance(tokens, str) and self.level == "word":
            raise DataError(
                "a word-level Vocab.encode expects a list of tokens, got a str; "
                "use vocab.encode_text(text) or tokenize(text, 'word') first"
            )
        unknown = self._unknown_mode(unknown)
        stoi = self.stoi
        toks = tokens if isinstance(tokens, (list, tuple, str)) else list(tokens)
        try:
            return np.fromiter((stoi[t] for t in toks), dtype=np.int64, count=len(toks))
        except KeyError:
            pass  # slow path below: there are unseen tokens
        missing = [t for t in dict.fromkeys(toks) if t not in stoi]
        if unknown == "error":
            kind = "characters" if self.level == "char" else "tokens"
            raise DataError(
                f"{len(missing)} {kind} not in the vocab ({len(self)} entries): "
                f"{_preview(missing)}; pass unknown='skip' to drop them"
                + (" or unknown='unk' to map them to <unk>" if self.unk_id is not None else "")
            )
        if unknown == "skip":
            ids = [stoi[t] for t in toks if t in stoi]
        else:
            ids = [stoi.get(t, self.unk_id) for t in toks]
        return np.asarray(ids, dtype=np.int64).reshape(-1)

    def decode(self, ids: Iterable[int] | np.ndarray) -> list[str]:
        """Map ids (1-D ints, shape ``(n,)``) back to a list of ``n`` tokens."""
        arr = np.asarray(ids)
        if arr.ndim == 0:
            arr = arr.reshape(1)
        if arr.ndim != 1:
            raise DataError(f"decode expects a 1-D sequence of ids, got shape {arr.shape}")
        if arr.size == 0:
            return []
        if not np.issubdtype(arr.dtype, np.integer):
            raise DataError(f"decode expects integer ids, got dtype {arr.dtype}")
        bad = arr[(arr < 0) | (arr >= len(self))]
        if bad.size:
            raise DataError(
                f"ids out of range for a vocab of size {len(self)} (valid 0..{len(self) - 1}): "
                f"{sorted(set(bad.tolist()))[:10]}"
            )
        itos = self.itos
        return [itos[i] for i in arr.tolist()]

    def _unknown_mode(self, unknown: str | None) -> str:
        if unknown is None:
            unknown = "unk" if self.unk_id is not None else "error"
        if unknown not in ("error", "unk", "skip"):
            raise DataError(f"unknown= must be 'error', 'unk' or 'skip', got {unknown!r}")
        if unknown == "unk" and self.unk_id is None:
            raise DataError(
                f"unknown='unk' needs a vocab with an unknown token, but this {self.level}-level "
                "vocab has none; build it with unk_token='<unk>' or use unknown='error'/'skip'"
            )
        return unknown

    @property
    def ids_dtype(self) -> np.dtype:
        """The smallest unsigned dtype that holds this vocab's ids (uint8 up to 256 entries, ...)."""
        return ids_dtype(len(self))

    def encode_text(self, text: str, unknown: str | None = None, dtype: Any = np.int64) -> np.ndarray:
        """Tokenise ``text`` at this vocab's level/segmenter and :meth:`encode` it: ids (n,).

        The same ids as ``encode(tokenize(text, level, segmenter))``, computed chunk by chunk
        without a list of the tokens (``encode.py``).  ``dtype``: int64 by default; ``ids_dtype``
        holds them in 1 or 2 bytes each.
        """
        if not isinstance(text, str):
            raise DataError(f"encode_text expects text as str, got {type(text).__name__}")
        unknown = self._unknown_mode(unknown)
        dt = np.dtype(dtype)
        if dt.kind not in "iu" or (len(self) - 1 > np.iinfo(dt).max):
            raise DataError(f"dtype {dt} cannot hold the ids of a vocab of {len(self)} entries")
        if self.level == "char":
            return encode_chars(text, self.stoi, unknown, self.unk_id, dt)
        return encode_words(text, self.stoi, self.segmenter, unknown, self.unk_id, dt)

    def decode_text(self, ids: Iterable[int] | np.ndarray) -> str:
        """:meth:`decode` and join the tokens into a string."""
        return "".join(self.decode(ids))

    # ------------------------------------------------------------------ persistence
    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dict (format, version, level, segmenter, unk_token, itos)."""
        return {
            "format": _FORMAT,
            "version": _VERSION,
            "level": self.level,
            "segmenter": self.segmenter,
            "unk_token": self.unk_token,
            "itos": list(self.itos),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Vocab:
        """Rebuild a vocab saved with :meth:`to_dict` (validates the contents)."""
        if not isinstance(d, dict) or d.get("format") != _FORMAT or "itos" not in d:
            got = sorted(d) if isinstance(d, dict) else type(d).__name__
            raise DataError(f"not a saved deeprnn vocab: expected a dict with format={_FORMAT!r} and 'itos', got {got}")
        if d.get("version") != _VERSION:
            raise DataError(f"unsupported vocab version {d.get('version')!r}; expected {_VERSION}")
        return cls(
            d["itos"],
            level=d.get("level", "char"),
            unk_token=d.get("unk_token"),
            segmenter=d.get("segmenter", "auto"),
        )
