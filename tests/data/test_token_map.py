"""The memory-mapped token-id corpus: the same ids, vocabulary and batches as the in-memory loader,
a cache keyed by the text and the options, and memory that does not grow with the text."""

from __future__ import annotations

import codecs
import hashlib
import json
import os
import tracemalloc

import numpy as np
import pytest

from deeprnn.data import (
    BPTTBatches,
    DataError,
    MappedBPTTBatches,
    SlidingWindows,
    TokenMap,
    Vocab,
    encode_corpus,
    fingerprint_ids,
    ids_dtype,
    iter_text,
    open_cached,
    read_text,
    train_val_split,
)
from deeprnn.data import token_map as token_map_module

ODD = "naïve café — 😀 emoji\r\nand CR\rlines\r\n\r\nend\r"  # 2-4 byte UTF-8, CRLF, a lone CR at the end


def _write(path, text, encoding="utf-8", bom=False):
    data = text.encode(encoding)
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + data)
    return path


def _in_memory(path, encoding, level, segmenter="auto"):
    text = read_text(path, encoding)
    vocab = Vocab.from_text(text, level, segmenter=segmenter)
    return vocab, vocab.encode_text(text)


@pytest.mark.parametrize("chunk", [1, 2, 3, 7, 1 << 20])
@pytest.mark.parametrize("which", ["en", "zh", "odd"])
def test_char_level_equals_the_in_memory_loader(tmp_path, en_text, zh_text, which, chunk):
    text = {"en": en_text, "zh": zh_text, "odd": ODD}[which]
    path = _write(tmp_path / "t.txt", text, bom=which == "odd")
    assert "".join(iter_text(path, chunk_bytes=chunk)) == read_text(path)
    vocab, ids = _in_memory(path, "utf-8", "char")
    tm = encode_corpus(path, cache_dir=tmp_path / "cache", chunk_bytes=chunk)
    assert tm.vocab == vocab
    assert tm.ids.dtype == np.uint8 and isinstance(tm.ids, np.memmap)
    np.testing.assert_array_equal(tm.ids, ids)


@pytest.mark.parametrize("encoding", ["gbk", "utf-16", "gb18030"])
def test_any_encoding(tmp_path, zh_text, encoding):
    path = _write(tmp_path / "zh.txt", zh_text.replace("\n", "\r\n"), encoding)
    vocab, ids = _in_memory(path, encoding, "char")
    tm = encode_corpus(path, encoding=encoding, cache_dir=tmp_path / "c", chunk_bytes=5)
    assert tm.vocab == vocab and tm.source["encoding"] == codecs.lookup(encoding).name
    np.testing.assert_array_equal(tm.ids, ids)


@pytest.mark.parametrize("chunk", [3, 64, 1 << 20])
@pytest.mark.parametrize("which, segmenter", [("en", "auto"), ("en", "regex"), ("zh", "auto"), ("zh", "jieba")])
def test_word_level_equals_the_in_memory_loader(tmp_path, en_text, zh_text, which, segmenter, chunk):
    text = {"en": en_text * 3, "zh": zh_text + "\n  \n" + zh_text[:200] + " tail  words\n\n"}[which]
    path = _write(tmp_path / "w.txt", text)
    vocab, ids = _in_memory(path, "utf-8", "word", segmenter)
    tm = encode_corpus(path, level="word", segmenter=segmenter, cache_dir=tmp_path / "c", chunk_bytes=chunk)
    assert tm.vocab == vocab and tm.vocab.segmenter == segmenter
    np.testing.assert_array_equal(tm.ids, ids)


def test_a_text_without_any_line_break_or_space_is_one_piece(tmp_path, zh_text):
    text = "".join(zh_text.split())[:300]
    path = _write(tmp_path / "w.txt", text)
    vocab, ids = _in_memory(path, "utf-8", "word")
    tm = encode_corpus(path, level="word", cache_dir=tmp_path / "c", chunk_bytes=16)
    np.testing.assert_array_equal(tm.ids, ids)


@pytest.mark.parametrize("level, given", [("char", False), ("char", True), ("word", False), ("word", True)])
def test_the_texts_sha256_is_recorded(tmp_path, zh_text, level, given):
    path = _write(tmp_path / "t.txt", zh_text + " end\n")
    vocab = Vocab.from_text(read_text(path), level) if given else None
    tm = encode_corpus(path, level=level, vocab=vocab, cache_dir=tmp_path / "c", chunk_bytes=64)
    assert tm.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert tm.source["size"] == path.stat().st_size


def test_given_vocabulary_and_unknown_tokens(tmp_path, en_text):
    path = _write(tmp_path / "t.txt", en_text)
    vocab = Vocab.from_text(en_text + "XYZ", "char")  # a checkpoint's, with more characters
    tm = encode_corpus(path, vocab=vocab, cache_dir=tmp_path / "c")
    assert tm.vocab == vocab
    np.testing.assert_array_equal(tm.ids, vocab.encode_text(en_text))
    small = Vocab.from_text("abc", "char")
    with pytest.raises(DataError) as ours:
        encode_corpus(path, vocab=small, cache_dir=tmp_path / "c")
    with pytest.raises(DataError) as theirs:
        small.encode_text(en_text)
    assert str(ours.value) == str(theirs.value)  # one chunk: the same unknown characters, in the same order
    assert "not in the vocab (3 entries)" in str(ours.value)
    words = Vocab.from_text("First Citizen: speak", "word")  # has <unk>: unknown words map to it
    tw = encode_corpus(path, level="word", vocab=words, cache_dir=tmp_path / "c")
    np.testing.assert_array_equal(tw.ids, words.encode_text(en_text))


def test_ids_dtype_follows_the_vocabulary_size(tmp_path, zh_text):
    assert [ids_dtype(n) for n in (1, 256, 257, 65536, 65537)] == [np.uint8, np.uint8, np.uint16, np.uint16, np.uint32]
    with pytest.raises(DataError, match="does not fit token ids of 32 bits"):
        ids_dtype(2**32 + 1)
    path = _write(tmp_path / "many.txt", "".join(chr(0x4E00 + i) for i in range(300)) * 2)
    tm = encode_corpus(path, cache_dir=tmp_path / "c")
    assert len(tm.vocab) == 300 and tm.ids.dtype == np.uint16
    _, ids = _in_memory(path, "utf-8", "char")
    np.testing.assert_array_equal(tm.ids, ids)


def test_second_run_opens_the_cache_without_reading_the_text(tmp_path, en_text, monkeypatch):
    path = _write(tmp_path / "t.txt", en_text)
    first = encode_corpus(path, cache_dir=tmp_path / "c")
    monkeypatch.setattr(token_map_module, "iter_text", lambda *a, **k: pytest.fail("the text was read again"))
    again = encode_corpus(path, cache_dir=tmp_path / "c")
    assert again.path == first.path and again.crc32 == first.crc32
    assert open_cached(path, cache_dir=tmp_path / "c").path == first.path
    assert open_cached(path, vocab=first.vocab, cache_dir=tmp_path / "c").path == first.path  # same vocab: reused
    assert open_cached(path, level="word", cache_dir=tmp_path / "c") is None


def test_cache_is_invalidated_when_the_text_changes(tmp_path, en_text):
    path = _write(tmp_path / "t.txt", en_text)
    cache = tmp_path / "c"
    old = encode_corpus(path, cache_dir=cache)
    words = encode_corpus(path, level="word", cache_dir=cache)  # other options: its own entry
    assert old.path != words.path and len(list(cache.glob("*.ids"))) == 2
    st = path.stat()
    _write(path, en_text.replace("speak", "SPEAK"))  # same size: only the content and mtime change
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000))
    assert open_cached(path, cache_dir=cache) is None
    new = encode_corpus(path, cache_dir=cache)
    assert new.path != old.path and "K" in new.vocab.stoi and "K" not in old.vocab.stoi
    np.testing.assert_array_equal(new.ids, _in_memory(path, "utf-8", "char")[1])
    assert sorted(p.name for p in cache.glob("*.ids")) == [new.path.name]  # both stale entries removed


def test_a_truncated_cache_entry_is_encoded_again(tmp_path, en_text):
    path = _write(tmp_path / "t.txt", en_text)
    tm = encode_corpus(path, cache_dir=tmp_path / "c")
    tm.path.write_bytes(tm.path.read_bytes()[:10])
    again = encode_corpus(path, cache_dir=tmp_path / "c")
    np.testing.assert_array_equal(again.ids, _in_memory(path, "utf-8", "char")[1])


def test_errors_match_read_text(tmp_path):
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"good line\nline two\nabc\xff\xfedef")
    with pytest.raises(DataError) as theirs:
        read_text(bad)
    for chunk in (4, 1 << 20):
        with pytest.raises(DataError) as ours:
            encode_corpus(bad, cache_dir=tmp_path / "c", chunk_bytes=chunk)
        assert str(ours.value) == str(theirs.value)
        assert "at byte offset 22 (line 3)" in str(ours.value)
    split = tmp_path / "split.txt"  # a multi-byte character cut by the read, then a bad byte
    split.write_bytes("é".encode() * 3 + b"\n\x80")
    with pytest.raises(DataError, match=r"invalid byte\(s\) 80 at byte offset 7 \(line 2\)"):
        encode_corpus(split, cache_dir=tmp_path / "c", chunk_bytes=1)
    (tmp_path / "empty.txt").write_bytes(b"")
    with pytest.raises(DataError, match=r"empty \(0 bytes\)"):
        encode_corpus(tmp_path / "empty.txt", cache_dir=tmp_path / "c")
    (tmp_path / "bom.txt").write_bytes(b"\xef\xbb\xbf")
    with pytest.raises(DataError, match="holds only a byte order mark"):
        encode_corpus(tmp_path / "bom.txt", cache_dir=tmp_path / "c")
    with pytest.raises(FileNotFoundError, match="text file not found"):
        encode_corpus(tmp_path / "nope.txt", cache_dir=tmp_path / "c")
    with pytest.raises(IsADirectoryError, match="is a directory"):
        encode_corpus(tmp_path, cache_dir=tmp_path / "c")
    with pytest.raises(DataError, match="unknown text encoding 'nope'"):
        encode_corpus(bad, encoding="nope", cache_dir=tmp_path / "c")
    with pytest.raises(DataError, match="'rot13' is not a text encoding"):
        encode_corpus(bad, encoding="rot13", cache_dir=tmp_path / "c")
    with pytest.raises(DataError, match="unknown token level 'byte'"):
        encode_corpus(bad, level="byte", cache_dir=tmp_path / "c")
    with pytest.raises(DataError, match="unknown word segmenter 'spacy'"):
        encode_corpus(bad, segmenter="spacy", cache_dir=tmp_path / "c")
    assert not list((tmp_path / "c").glob("*.ids"))  # nothing half-written was left


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this platform")
def test_a_fifo_is_refused_instead_of_blocking(tmp_path):
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    with pytest.raises(DataError, match=r"is a FIFO \(named pipe\), not a regular file"):
        encode_corpus(fifo, cache_dir=tmp_path / "c")


def test_progress_bar_on_large_files(tmp_path, en_text, capsys, monkeypatch):
    path = _write(tmp_path / "t.txt", en_text)
    encode_corpus(path, cache_dir=tmp_path / "c", progress=True)
    assert capsys.readouterr().err == ""  # small file: no bar
    monkeypatch.setattr(token_map_module, "PROGRESS_MIN_BYTES", 1)
    encode_corpus(path, level="word", cache_dir=tmp_path / "c", progress=True)
    err = capsys.readouterr().err
    assert "segmenting t.txt" in err and "100%" in err


@pytest.mark.parametrize("batch_first, drop_last", [(False, True), (True, True), (False, False)])
def test_mapped_batches_are_the_in_memory_batches(tmp_path, en_text, batch_first, drop_last):
    tm = encode_corpus(_write(tmp_path / "t.txt", en_text * 4), cache_dir=tmp_path / "c")
    train, _ = train_val_split(tm.ids, 0.1)
    assert np.shares_memory(train, tm.ids)  # a view of the map, not a copy
    ref = BPTTBatches(np.asarray(train, dtype=np.int64), 5, 13, batch_first, drop_last)
    ours = MappedBPTTBatches(train, 5, 13, batch_first, drop_last)
    assert len(ours) == len(ref) and ours.stream_len == ref.stream_len
    for k in range(len(ref)):
        for a, b in zip(ours.batch(k), ref.batch(k)):
            assert a.dtype == np.int64 and a.flags.c_contiguous
            np.testing.assert_array_equal(a, b)
    assert ours.state_dict() == ref.state_dict()  # the same fingerprint: checkpoints interchange
    for _ in range(3):
        a, b = ours.next_batch(), ref.next_batch()
        assert a.reset == b.reset and a.index == b.index
    ref2 = BPTTBatches(np.asarray(train, dtype=np.int64), 5, 13, batch_first, drop_last)
    ref2.load_state_dict(ours.state_dict())
    np.testing.assert_array_equal(ref2.next_batch().x, ours.next_batch().x)


def test_sliding_windows_read_from_the_map_without_a_copy(tmp_path, en_text):
    tm = encode_corpus(_write(tmp_path / "t.txt", en_text), cache_dir=tmp_path / "c")
    ref = SlidingWindows(np.array(tm.ids), 9, 4, pad_value=0, targets=np.array(tm.ids[::-1]))
    ours = SlidingWindows(tm.ids, 9, 4, pad_value=0, targets=tm.ids[::-1])
    np.testing.assert_array_equal(ours.windows, ref.windows)
    np.testing.assert_array_equal(ours.target_windows, ref.target_windows)
    for i in (0, len(ref) - 1):  # a complete window, the last (padded) one
        for a, b in zip(ours[i], ref[i]):
            np.testing.assert_array_equal(a, b)
    assert np.shares_memory(ours[0][0], tm.ids)  # a complete window is a view of the map
    batch = ours.take([0, len(ours) - 1])
    np.testing.assert_array_equal(batch[0], ref.take([0, len(ref) - 1])[0])


def test_a_block_of_streams_is_those_columns(tmp_path, en_text):
    ids = encode_corpus(_write(tmp_path / "t.txt", en_text * 4), cache_dir=tmp_path / "c").ids
    ref = BPTTBatches(ids, 7, 11)
    part = MappedBPTTBatches(ids, 7, 11, streams=slice(2, 5), fingerprint=123)
    x, y = part.batch(3)
    assert x.shape == (11, 3)
    np.testing.assert_array_equal(x, ref.batch(3)[0][:, 2:5])
    np.testing.assert_array_equal(y, ref.batch(3)[1][:, 2:5])
    assert part.batch_size == 7 and part.state_dict()["fingerprint"] == 123
    assert "streams=slice(2, 5, None)" in repr(part)
    for bad in (slice(0, 8), slice(3, 3), slice(0, 4, 2)):
        with pytest.raises(DataError, match=r"streams must be a slice\(a, b\) with 0 <= a < b <= 7"):
            MappedBPTTBatches(ids, 7, 11, streams=bad)
    with pytest.raises(DataError, match="text too short"):
        MappedBPTTBatches(ids[:20], 7, 11)
    with pytest.raises(DataError, match="ids must be integers"):
        MappedBPTTBatches(np.zeros(100), 2, 3)


def test_fingerprint_in_chunks_and_remembered(tmp_path, en_text):
    tm = encode_corpus(_write(tmp_path / "t.txt", en_text * 4), cache_dir=tmp_path / "c")
    n = len(tm) - 50
    assert fingerprint_ids(tm.ids[:n], block=100) == BPTTBatches(tm.ids[:n], 2, 3).state_dict()["fingerprint"]
    assert tm.fingerprint(n) == fingerprint_ids(tm.ids[:n])
    reopened = TokenMap(tm.meta_path, json.loads(tm.meta_path.read_text()))
    assert reopened.meta["fingerprints"] == {str(n): tm.fingerprint(n)}
    with pytest.raises(DataError, match=r"needs 0 <= n <= \d+, got -1"):
        tm.fingerprint(-1)


def test_memory_stays_bounded_on_a_text_of_hundreds_of_megabytes(tmp_path):
    """200 MB of text: today's loader holds it as str + int64 ids + two int64 copies (~30x);
    the map's encoder holds a few chunks, and the batches read N x (T+1) ids at a time."""
    path = tmp_path / "big.txt"
    block = ("".join(chr(32 + (i * 7919) % 95) for i in range(4096)) + "\n").encode("ascii")
    with open(path, "wb") as fh:
        for _ in range(200 * (1 << 20) // len(block)):
            fh.write(block)
    size = path.stat().st_size
    tracemalloc.start()
    try:
        tm = encode_corpus(path, cache_dir=tmp_path / "c")
        train, val = train_val_split(tm.ids, 0.05)
        batches = MappedBPTTBatches(train, 32, 64)
        for k in range(0, len(batches), len(batches) // 50):
            batches.batch(k)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert len(tm) == size and tm.ids.dtype == np.uint8
    assert peak < 40 << 20, f"peak {peak / 2**20:.1f} MiB for a {size / 2**20:.0f} MiB text"
    assert encode_corpus(path, cache_dir=tmp_path / "c").path == tm.path  # from the cache
