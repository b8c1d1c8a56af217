"""The embedded Shakespeare corpus."""

import hashlib
import re
from importlib import resources
from pathlib import Path

import pytest

from deeprnn.data import DataError, Vocab, available_corpora, load_corpus


@pytest.fixture(scope="module")
def text():
    return load_corpus("shakespeare")


def test_listed_and_default():
    assert "shakespeare" in available_corpora()
    assert load_corpus() is load_corpus("shakespeare")  # cached
    with pytest.raises(DataError, match=r"unknown corpus 'nope'.*shakespeare"):
        load_corpus("nope")


def test_size_and_charset(text):
    assert len(text.encode("utf-8")) > 1_000_000
    assert 1_000_000 < len(text) < 1_400_000
    assert 60 <= len(set(text)) <= 80
    assert len(Vocab.from_text(text, "char")) == len(set(text))


def test_no_markdown_left(text):
    for s in ("#", "**", "*", "_", "](", "<", ">", "&amp;", "\\", "\r"):
        assert s not in text, s


def test_reads_like_tinyshakespeare(text):
    assert text.startswith("Coriolanus\n\nACT I\n\nSCENE I. Rome. A street.\n")
    assert "\nFIRST CITIZEN:\nBefore we proceed any further, hear me speak.\n" in text
    assert "\nROMEO:\n" in text and "\nPROSPERO:\n" in text
    speakers = re.findall(r"^([A-Z][A-Z .,'-]*):$", text, flags=re.M)
    assert len(speakers) > 5000
    for title in ("Richard II", "Romeo and Juliet", "Measure for Measure", "The Tempest"):
        assert f"\n{title}\n" in text


def test_gz_matches_recorded_sha256():
    gz = resources.files("deeprnn.data").joinpath("corpora").joinpath("shakespeare.txt.gz")
    digest = hashlib.sha256(gz.read_bytes()).hexdigest()
    readme = Path(str(resources.files("deeprnn.data"))) / "corpora" / "README.md"
    if readme.exists():  # the README is not package data; present in a source checkout
        assert digest in readme.read_text(encoding="utf-8")
