"""Suite-wide fixtures."""

from __future__ import annotations

import os

import pytest


@pytest.fixture(scope="session", autouse=True)
def corpus_cache(tmp_path_factory):
    """Encoded texts go to a temporary cache, never to the user's ~/.cache (subprocesses inherit it)."""
    path = tmp_path_factory.mktemp("corpus-cache")
    old = os.environ.get("DEEPRNN_CACHE_DIR")
    os.environ["DEEPRNN_CACHE_DIR"] = str(path)
    yield path
    if old is None:
        del os.environ["DEEPRNN_CACHE_DIR"]
    else:
        os.environ["DEEPRNN_CACHE_DIR"] = old
