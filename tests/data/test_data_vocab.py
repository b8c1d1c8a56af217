"""Tokenisation and vocabularies, English and Chinese, char and word level."""

import json
import sys

import numpy as np
import pytest

from deeprnn.data import (
    DataError,
    Tokenizer,
    Vocab,
    contains_cjk,
    detokenize,
    tokenize,
)


def test_english_word_tokens_are_lossless_and_split_as_documented():
    text = "Hello, world!  It's\n\nok_2 now."
    toks = tokenize(text, "word")
    assert toks == [
        "Hello", ",", " ", "world", "!", "  ", "It", "'", "s", "\n\n", "ok_2", " ", "now", ".",
    ]  # fmt: skip
    assert "".join(toks) == text
    assert detokenize(toks, "word") == text
    assert tokenize(text, "char") == list(text)


@pytest.mark.parametrize("level", ["char", "word"])
def test_english_vocab_round_trip(en_text, level):
    toks = tokenize(en_text, level)
    v = Vocab.build(toks, level)
    ids = v.encode(toks)
    assert ids.dtype == np.int64 and ids.shape == (len(toks),)
    assert v.decode(ids) == toks
    assert v.decode_text(v.encode_text(en_text)) == en_text
    n_special = 1 if level == "word" else 0
    assert len(v) == len(set(toks)) + n_special
    assert all(v.stoi[t] == i for i, t in enumerate(v.itos))


def test_order_options_are_deterministic():
    # banana: a x3, n x2, b x1
    assert Vocab.build("banana", "char").itos == ["a", "n", "b"]  # freq (default)
    assert Vocab.build("banana", "char", order="sorted").itos == ["a", "b", "n"]
    assert Vocab.build("banana", "char", order="first").itos == ["b", "a", "n"]
    # frequency ties are broken by code point, not by hash or appearance
    assert Vocab.build("dcba", "char").itos == ["a", "b", "c", "d"]
    w = Vocab.build(["x", "y", "x", "z"], "word")
    assert w.itos == ["<unk>", "x", "y", "z"] and w.unk_id == 0


def test_max_size_and_min_freq_map_rare_words_to_unk():
    toks = ["the", " ", "cat", " ", "the", " ", "dog", " ", "the", " ", "cat"]
    v = Vocab.build(toks, "word", max_size=3)  # <unk> + 2 most frequent
    assert v.itos == ["<unk>", " ", "the"]
    assert v.encode(["the", " ", "cat"]).tolist() == [2, 1, 0]
    m = Vocab.build(toks, "word", min_freq=2)
    assert m.itos == ["<unk>", " ", "the", "cat"]
    assert m.decode(m.encode(["dog", "cat"])) == ["<unk>", "cat"]
    with pytest.raises(DataError, match="max_size"):
        Vocab.build(toks, "word", max_size=1)
    with pytest.raises(DataError, match="min_freq"):
        Vocab.build(toks, "word", min_freq=0)
    with pytest.raises(DataError, match="min_freq=99"):
        Vocab.build(toks, "word", min_freq=99)


def test_unknown_handling_is_explicit():
    v = Vocab.from_text("hello world", "char")
    assert v.unk_token is None
    with pytest.raises(DataError, match=r"2 characters not in the vocab.*'Z', 'q'"):
        v.encode("hello Zq")
    with pytest.raises(DataError, match="has none"):
        v.encode("hello Z", unknown="unk")
    assert v.decode_text(v.encode("hello Z!", unknown="skip")) == "hello "
    with pytest.raises(DataError, match="unknown="):
        v.encode("hello", unknown="ignore")
    cu = Vocab.from_text("hello", "char", unk_token="<unk>")
    assert cu.decode(cu.encode("hex", unknown="unk")) == ["h", "e", "<unk>"]
    with pytest.raises(DataError, match=r"not in the vocab.*'x'"):
        cu.encode("hex", unknown="error")
    w = Vocab.from_text("a cat sat", "word")
    assert w.decode(w.encode_text("a dog sat")) == ["a", " ", "<unk>", " ", "sat"]
    with pytest.raises(DataError, match="'dog'"):
        w.encode_text("a dog sat", unknown="error")
    with pytest.raises(DataError, match="list of tokens"):
        w.encode("a cat")


def test_decode_rejects_bad_ids():
    v = Vocab.from_text("abc", "char")
    assert v.decode(np.array([2, 0], dtype=np.int32)) == ["c", "a"]  # ties: code-point order
    with pytest.raises(DataError, match=r"size 3.*\[3, 7\]"):
        v.decode([0, 3, 7])
    with pytest.raises(DataError, match="out of range"):
        v.decode([-1])
    with pytest.raises(DataError, match="1-D"):
        v.decode(np.zeros((2, 2), dtype=np.int64))
    assert v.decode([]) == []


def test_to_dict_from_dict_json_round_trip(zh_text):
    for v in (
        Vocab.from_text("To be, or not to be", "word", min_freq=1),
        Vocab.from_text(zh_text, "char"),
        Vocab.from_text(zh_text, "word", max_size=50),
    ):
        d = json.loads(json.dumps(v.to_dict(), ensure_ascii=True))
        assert d["level"] == v.level and d["itos"] == v.itos
        w = Vocab.from_dict(d)
        assert w == v and w.stoi == v.stoi and w.unk_id == v.unk_id
        assert w.level == v.level and w.segmenter == v.segmenter
    with pytest.raises(DataError, match="not a saved deeprnn vocab"):
        Vocab.from_dict({"itos": ["a"]})
    with pytest.raises(DataError, match="unique"):
        Vocab(["a", "a"])


def test_build_is_deterministic_across_processes(tmp_path):
    import subprocess

    code = (
        "import json;from deeprnn.data import Vocab;"
        "print(json.dumps(Vocab.from_text('the quick brown fox jumps over the lazy dog',"
        "'word').itos))"
    )
    outs = set()
    for seed in ("1", "2"):
        env = {"PYTHONHASHSEED": seed, "PYTHONPATH": ":".join(p for p in sys.path if p)}
        outs.add(
            subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True).stdout
        )
    assert len(outs) == 1


def test_chinese_char_level(zh_text):
    toks = tokenize(zh_text, "char")
    v = Vocab.build(toks, "char")
    assert len(v) == len(set(zh_text))
    assert "隐" in v and "层" in v
    assert v.decode_text(v.encode_text(zh_text)) == zh_text
    with pytest.raises(DataError, match="'猫'"):
        v.encode("隐层猫")


def test_chinese_word_level_with_jieba(zh_text):
    pytest.importorskip("jieba")
    assert contains_cjk(zh_text) and not contains_cjk("plain ascii")
    toks = tokenize(zh_text, "word")  # auto -> jieba for CJK text
    assert toks == tokenize(zh_text, "word", segmenter="jieba")
    assert "".join(toks) == zh_text
    assert "循环" in toks and "神经网络" in toks  # real multi-character words
    assert sum(len(t) > 1 for t in toks if contains_cjk(t)) > 20
    v = Vocab.build(toks, "word", segmenter="jieba")
    assert v.decode_text(v.encode(toks)) == zh_text
    assert v.decode_text(v.encode_text(zh_text)) == zh_text
    # forcing the regex segmenter splits CJK per character, still lossless
    rt = tokenize("RNN的隐层状态，很重要。", "word", segmenter="regex")
    assert rt == ["RNN", "的", "隐", "层", "状", "态", "，", "很", "重", "要", "。"]
    mixed = tokenize("用 NumPy 实现循环神经网络", "word")
    assert "".join(mixed) == "用 NumPy 实现循环神经网络" and "NumPy" in mixed


def test_missing_jieba_gives_install_hint(monkeypatch):
    monkeypatch.setitem(sys.modules, "jieba", None)  # import jieba -> ImportError
    with pytest.raises(ImportError, match=r'pip install "deeprnn\[zh\]"'):
        tokenize("循环神经网络", "word")
    assert tokenize("循环", "char") == ["循", "环"]  # char level never needs jieba
    assert tokenize("plain words", "word") == ["plain", " ", "words"]


def test_tokenizer_object_and_bad_levels():
    t = Tokenizer("word", segmenter="regex")
    assert t("a b") == ["a", " ", "b"] and t.detokenize(["a", " ", "b"]) == "a b"
    assert Tokenizer.from_dict(t.to_dict()).to_dict() == t.to_dict()
    with pytest.raises(DataError, match="level"):
        tokenize("x", "sentence")
    with pytest.raises(DataError, match="segmenter"):
        Tokenizer("word", segmenter="spacy")
    with pytest.raises(DataError, match="level"):
        Vocab.build("abc", "byte")
