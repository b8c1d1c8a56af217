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

Corpora larger than memory: ``encode_corpus(path, level=...)`` streams a text file to a
memory-mapped file of token ids with its vocabulary beside it (cached), and
``MappedBPTTBatches`` reads the same batches from it::

    tm = encode_corpus("big.txt", progress=True)           # tm.ids: (n,) uint8 memmap
    train, val = train_val_split(tm.ids, 0.05)
    for x, y in MappedBPTTBatches(train, batch_size=32, seq_len=100):
        ...
"""

from .bptt import BPTTBatches, BPTTStep, fingerprint_ids
from .corpora import available_corpora, load_corpus
from .encode import ids_dtype
from .errors import DataError
from .mapped_bptt import MappedBPTTBatches
from .split import StreamLayout, stream_split, train_val_split
from .text import check_text_file, read_text
from .text_stream import iter_text
from .token_map import TokenMap, default_cache_dir, encode_corpus, open_cached
from .tokens import LEVELS, SEGMENTERS, Tokenizer, contains_cjk, detokenize, tokenize
from .vocab import UNK, Vocab
from .windows import SlidingWindows, WindowLoader, as_generator, sliding_windows

__all__ = [
    "BPTTBatches",
    "BPTTStep",
    "DataError",
    "LEVELS",
    "MappedBPTTBatches",
    "SEGMENTERS",
    "SlidingWindows",
    "StreamLayout",
    "TokenMap",
    "Tokenizer",
    "UNK",
    "Vocab",
    "WindowLoader",
    "as_generator",
    "available_corpora",
    "check_text_file",
    "contains_cjk",
    "default_cache_dir",
    "detokenize",
    "encode_corpus",
    "fingerprint_ids",
    "ids_dtype",
    "iter_text",
    "load_corpus",
    "open_cached",
    "read_text",
    "sliding_windows",
    "stream_split",
    "tokenize",
    "train_val_split",
]
