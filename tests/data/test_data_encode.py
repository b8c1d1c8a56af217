"""Encoding a whole text chunk by chunk: the same vocabularies and ids as tokenising it into a list,
in memory bounded by the ids (1-2 bytes a token) instead of a Python object per token."""

from __future__ import annotations

import re
import tracemalloc
import zlib

import numpy as np
import pytest

import deeprnn.data.encode as encode
from deeprnn.data import BPTTBatches, DataError, Vocab, tokenize, train_val_split
from deeprnn.data.encode import ids_dtype, text_chunks

MIXED = (
    "First Citizen:\nBefore we proceed any further, hear me speak.\n\n  All:\tSpeak, speak!\r\n"
    "深度循环神经网络，从零实现。每一步都解释清楚：形状、公式和梯度。\n"
    "ok_2 ＡＢＣ Ünïcödé ٣٤ 𠀀𠀁 ーカタ 한국어   end\n\n\n"
)


@pytest.fixture
def small_chunks(monkeypatch):
    """Chunks of 7 characters, so every text here crosses many chunk boundaries."""
    monkeypatch.setattr(encode, "CHUNK", 7)


def _reference(text: str, level: str, segmenter: str = "auto", **kw) -> tuple[Vocab, np.ndarray]:
    """The list-of-tokens definition: build(tokenize(text)) and encode(tokenize(text))."""
    toks = tokenize(text, level, segmenter)
    vocab = Vocab.build(toks, level, segmenter=segmenter, **kw)
    unknown = "unk" if vocab.unk_id is not None else "skip"
    return vocab, vocab.encode(toks, unknown=unknown)


@pytest.mark.parametrize("level,segmenter", [("char", "auto"), ("word", "regex"), ("word", "jieba"), ("word", "auto")])
@pytest.mark.parametrize(
    "kw", [{}, {"order": "sorted"}, {"order": "first"}, {"min_freq": 2}, {"max_size": 9}, {"unk_token": None}]
)
def test_same_vocab_and_ids_as_the_token_list(small_chunks, level, segmenter, kw):
    if level == "char" and kw.get("unk_token", 0) is None:
        kw = {"unk_token": "<unk>", "min_freq": 2}  # a char vocab with an unknown token
    text = MIXED * 3
    ref_vocab, ref_ids = _reference(text, level, segmenter, **kw)
    vocab, ids = Vocab.from_text_with_ids(text, level, segmenter=segmenter, **kw)
    assert vocab == ref_vocab == Vocab.from_text(text, level, segmenter=segmenter, **kw)
    assert ids.dtype == vocab.ids_dtype
    np.testing.assert_array_equal(ids, ref_ids)
    if vocab.unk_id is not None or len(vocab) == len(set(tokenize(text, level, segmenter))):
        np.testing.assert_array_equal(
            vocab.encode_text(text, unknown="unk" if vocab.unk_id is not None else None), ref_ids
        )


def test_chunks_end_only_at_token_boundaries():
    text = MIXED * 5
    pieces = list(text_chunks(text, 10))
    assert "".join(pieces) == text and len(pieces) > 10
    for seg in ("regex", "jieba"):
        assert [t for p in pieces for t in tokenize(p, "word", seg)] == tokenize(text, "word", seg)


def test_auto_segmenter_is_decided_for_the_whole_text(small_chunks):
    text = "plain english words here. " * 5 + "然后是中文。"
    assert Vocab.from_text(text, "word").itos == Vocab.build(tokenize(text, "word"), "word").itos
    assert "然后" in Vocab.from_text(text, "word").stoi  # jieba's word, though most chunks hold no Chinese


def test_encode_text_unknown_tokens(small_chunks):
    vocab = Vocab.from_text("abcabc", "char")
    with pytest.raises(DataError, match=r"2 characters not in the vocab \(3 entries\): 'x', 'y'; pass unknown="):
        vocab.encode_text("abxcay")
    np.testing.assert_array_equal(vocab.encode_text("abxcay", unknown="skip"), vocab.encode_text("abca"))
    words = Vocab.from_text("the cat sat", "word")
    ids = words.encode_text("the dog sat")
    assert words.decode(ids) == ["the", " ", "<unk>", " ", "sat"]
    with pytest.raises(DataError, match="1 tokens not in the vocab .*'dog'"):
        words.encode_text("the dog sat", unknown="error")


def test_code_points_beyond_the_vocab_and_surrogates():
    vocab = Vocab.from_text("ab\udcff", "char")  # a lone surrogate, as surrogateescape decodes
    np.testing.assert_array_equal(vocab.encode_text("b\udcffa"), [vocab.stoi[c] for c in "b\udcffa"])
    with pytest.raises(DataError, match=re.escape(repr("\U0010ffff"))):
        vocab.encode_text("a\U0010ffff")


def test_ids_dtype_and_int64_by_default():
    assert [ids_dtype(n) for n in (1, 256, 257, 65536, 65537)] == [np.uint8, np.uint8, np.uint16, np.uint16, np.uint32]
    vocab = Vocab.from_text(MIXED, "char")
    assert vocab.encode_text(MIXED).dtype == np.int64
    assert vocab.encode_text(MIXED, dtype=vocab.ids_dtype).dtype == np.uint8
    with pytest.raises(DataError, match="cannot hold"):
        Vocab.from_text("".join(chr(0x4E00 + i) for i in range(300)), "char").encode_text("一", dtype=np.uint8)


def test_batches_of_compact_ids_are_int64_with_the_same_fingerprint():
    vocab, ids = Vocab.from_text_with_ids(MIXED * 20, "char")
    wide = ids.astype(np.int64)
    a, b = BPTTBatches(ids, 4, 5), BPTTBatches(wide, 4, 5)
    for k in range(len(a)):
        xa, ya = a.batch(k)
        xb, yb = b.batch(k)
        assert xa.dtype == ya.dtype == np.int64
        np.testing.assert_array_equal(xa, xb)
        np.testing.assert_array_equal(ya, yb)
    assert a.state_dict() == b.state_dict()
    assert a.state_dict()["fingerprint"] == zlib.crc32(wide.tobytes())  # what earlier checkpoints recorded
    assert a._x.base is not None  # views of the compact ids, not copies


def _chinese(n_chars: int) -> str:
    rng = np.random.default_rng(0)
    chars = np.array([chr(0x4E00 + i) for i in range(3000)] + ["，", "。", "\n"])
    return "".join(rng.choice(chars, size=n_chars))


def _english(n_chars: int) -> str:
    rng = np.random.default_rng(0)
    words = np.array(["the", "baker", "rises", "before", "town", "and", "lights", "oven", "bread", "a"])
    return " ".join(rng.choice(words, size=n_chars // 5))


@pytest.mark.parametrize(
    ("make", "level", "bound"), [(_chinese, "char", 2.0), (_english, "char", 2.0), (_english, "word", 3.5)]
)
def test_memory_is_bounded_by_the_ids(monkeypatch, make, level, bound):
    """Encoding and batching a text allocate its ids and a chunk's worth of temporaries: under 2
    times its UTF-8 size at the char level (the list of tokens took 34 times for Chinese), 3.5
    times at the word level (4 bytes a token while counting).  Chunks of 16K characters keep
    the chunk's share small on a small text."""
    monkeypatch.setattr(encode, "CHUNK", 1 << 14)
    text = make(1_000_000)
    size = len(text.encode("utf-8"))
    tracemalloc.start()
    try:
        vocab, ids = Vocab.from_text_with_ids(text, level)
        train, val = train_val_split(ids, 0.05)
        batches = BPTTBatches(train, 32, 64)
        batches.next_batch()
        batches.state_dict()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < bound * size, f"{peak / size:.2f} x the text's size"
