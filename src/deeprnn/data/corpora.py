"""Text corpora shipped inside the package (no download at run time)."""

from __future__ import annotations

import gzip
from functools import cache
from importlib import resources

from .errors import DataError

__all__ = ["available_corpora", "load_corpus"]

# name -> (file under deeprnn/data/corpora/, one-line description)
_CORPORA: dict[str, tuple[str, str]] = {
    "shakespeare": (
        "shakespeare.txt.gz",
        "nine Shakespeare plays as plain text, tinyshakespeare style (~1.2 MB, public domain)",
    ),
}


def available_corpora() -> list[str]:
    """Sorted names of the embedded corpora, e.g. ``["shakespeare"]``."""
    return sorted(_CORPORA)


def load_corpus(name: str = "shakespeare") -> str:
    """Return an embedded corpus as one ``str`` (``\\n`` line endings).

    ``"shakespeare"``: 9 plays (Coriolanus, Richard II, Richard III, Henry VI Part 3,
    Romeo and Juliet, A Winter's Tale, The Taming of the Shrew, Measure for Measure,
    The Tempest), 1,238,337 characters, 69 distinct; see ``corpora/README.md``.
    """
    if name not in _CORPORA:
        raise DataError(f"unknown corpus {name!r}; available: {sorted(_CORPORA)}")
    return _read_gz(_CORPORA[name][0])


@cache
def _read_gz(fname: str) -> str:
    res = resources.files("deeprnn.data").joinpath("corpora").joinpath(fname)
    with res.open("rb") as fh:
        return gzip.decompress(fh.read()).decode("utf-8")
