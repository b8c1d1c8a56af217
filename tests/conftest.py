"""Test-session settings shared by every test folder.

torch, the oracle, runs its operators on as many threads as the machine has cores.  Under
``pytest -n 2`` on 2 cores that makes 2 workers x 2 threads that spin-wait for each other:
measured 700 ms instead of 18 ms for one small nn.LSTM forward and backward on a busy
machine.  One thread per worker keeps the oracle's numbers the same and its time sane.

Encoded texts (``data.encode_corpus``) go to a temporary cache, never to the user's ~/.cache.
"""

from __future__ import annotations

import os

import pytest

try:
    import torch
except ImportError:  # the suite skips its torch tests without it
    torch = None

if torch is not None:
    torch.set_num_threads(1)


@pytest.fixture(scope="session", autouse=True)
def corpus_cache(tmp_path_factory):
    """The corpus cache of the session: a temporary directory (subprocesses inherit it)."""
    path = tmp_path_factory.mktemp("corpus-cache")
    old = os.environ.get("DEEPRNN_CACHE_DIR")
    os.environ["DEEPRNN_CACHE_DIR"] = str(path)
    yield path
    if old is None:
        del os.environ["DEEPRNN_CACHE_DIR"]
    else:
        os.environ["DEEPRNN_CACHE_DIR"] = old
