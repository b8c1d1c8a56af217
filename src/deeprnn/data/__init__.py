"""Data layer: read text, tokenise, build vocabularies, and batch token ids.

Depends only on NumPy (jieba, optional extra ``deeprnn[zh]``, for Chinese word
segmentation). Everything returns NumPy arrays (token ids as int64).

Typical char-level pipeline::

    from deeprnn.data import load_corpus, Vocab, train_val_split, BPTTBatches
    text = load_corpus("shakespeare")
    vocab = Vocab.from_text(text, "char")
    ids = vocab.encode_text(text)                          # (n,) int64
    train, val = train_val_split(ids, 0.1, seq_len=100)
    for x, y in BPTTBatches(train, batch_size=32, seq_len=100):   # (100, 32) each
        ...
"""

from .bptt import BPTTBatches, BPTTStep
from .corpora import available_corpora, load_corpus
from .errors import DataError
from .split import train_val_split
from .text import check_text_file, read_text
from .tokens import LEVELS, SEGMENTERS, Tokenizer, contains_cjk, detokenize, tokenize
from .vocab import UNK, Vocab
from .windows import SlidingWindows, WindowLoader, as_generator, sliding_windows

__all__ = [
    "BPTTBatches",
    "BPTTStep",
    "DataError",
    "LEVELS",
    "SEGMENTERS",
    "SlidingWindows",
    "Tokenizer",
    "UNK",
    "Vocab",
    "WindowLoader",
    "as_generator",
    "available_corpora",
    "check_text_file",
    "contains_cjk",
    "detokenize",
    "load_corpus",
    "read_text",
    "sliding_windows",
    "tokenize",
    "train_val_split",
]
