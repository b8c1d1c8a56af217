"""One memory-mapped corpus for all the processes of a job.

Rank 0 encodes the text (or finds it in the cache) while the others wait; then every process
opens the same cache entry.  A process on another machine, which does not see rank 0's cache,
encodes the text there with rank 0's vocabulary, and the CRC-32 of the ids proves that both
machines train on the same tokens.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from ..data import DataError, TokenMap, Vocab, encode_corpus
from .communicator import Communicator
from .failures import fail_together, root_first
from .messages import bcast_json

__all__ = ["shared_corpus"]


def _open_entry(meta_path: str, crc32: int, n_tokens: int) -> TokenMap | None:
    try:
        meta = json.loads(Path(meta_path).read_text(encoding="utf-8"))
        if meta.get("crc32") != crc32 or meta.get("n_tokens") != n_tokens:
            return None
        return TokenMap(Path(meta_path), meta)
    except (OSError, ValueError, KeyError, TypeError, DataError):
        return None


def shared_corpus(
    comm: Communicator,
    path: str | os.PathLike[str],
    *,
    vocab: Vocab | None = None,
    progress: bool = False,
    **options: Any,
) -> TokenMap:
    """`encode_corpus(path, vocab=vocab, **options)` for every process of ``comm`` (collective).

    ``options``: ``encoding``, ``level``, ``segmenter``, ``cache_dir``, ``chunk_bytes``.
    ``progress``: rank 0's progress bar.  Raises on every process what rank 0's encoding
    raises (there; `PeerFailedError` elsewhere), and DataError on a process whose copy of the
    text gives other ids than rank 0's.
    """
    where = f"the encoding of {str(path)!r}"
    tm = root_first(comm, lambda: encode_corpus(path, vocab=vocab, progress=progress, **options), where)
    if comm.size == 1:
        assert tm is not None
        return tm
    mine = (
        None
        if tm is None
        else {"meta": str(tm.meta_path), "crc32": tm.crc32, "n": len(tm), "vocab": tm.vocab.to_dict()}
    )
    info = bcast_json(comm, mine, "the broadcast of the token map")
    with fail_together(comm, f"opening the token map of {str(path)!r}"):
        if tm is None:
            tm = _open_entry(info["meta"], info["crc32"], info["n"])
            if tm is None:  # another machine: encode here, with rank 0's vocabulary
                tm = encode_corpus(path, vocab=Vocab.from_dict(info["vocab"]), **options)
            if (tm.crc32, len(tm)) != (info["crc32"], info["n"]):
                raise DataError(
                    f"{comm.describe()}: the text {str(path)!r} here gives {len(tm)} tokens with CRC-32 "
                    f"{tm.crc32:08x}, process 0's gives {info['n']} with {info['crc32']:08x}; every machine "
                    "needs the same text"
                )
    return tm
