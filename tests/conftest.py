"""Test-session settings shared by every test folder.

torch, the oracle, runs its operators on as many threads as the machine has cores.  Under
``pytest -n 2`` on 2 cores that makes 2 workers x 2 threads that spin-wait for each other:
measured 700 ms instead of 18 ms for one small nn.LSTM forward and backward on a busy
machine.  One thread per worker keeps the oracle's numbers the same and its time sane.

The compiled loops split a batch's rows over numba's OpenMP threads (kernels/compiled/_pool.py),
whose idle threads spin before they sleep.  torch loads its own libgomp first, with its default
spin count of 300,000, which deeprnn's pool then shares: two workers on 2 cores then took 193-204 s
for the suite, against 140 s with GOMP_SPINCOUNT = 30,000 (what _pool.py gives libgomp when it
loads it itself; 2-core Intel Xeon, 2026-12-06).  So it is set here, before torch loads, unless
the user set the wait policy.

The recurrent parity tests run on every kernel backend that is installed, once per backend:
those of tests/kernels (but test_backend* and test_compiled*, which choose their own), the nn
parity and differential tests of the recurrent modules (test_rnn_parity.py,
test_rnn_differential.py, any test_lstm* / test_gru* parity file) and the language model's parity
and sampling tests.  The backends are "numpy", and "numba" (the compiled loops, forced for every
batch size) when numba is installed.  CI installs the test extra, which includes numba, so both
paths are held to the same tolerances there.  The other tests run on the default backend ("auto").

Encoded texts (``data.encode_corpus``) go to a temporary cache, never to the user's ~/.cache.

Every test starts from random generators seeded by its own name (torch's, deeprnn's default
generator and NumPy's global one), so what a test draws never depends on which tests ran before
it in the same worker: a torch module initialised from torch's global generator had different
weights from run to run, and a float32 case that was ill-conditioned only for some of them made
the suite flaky.
"""

from __future__ import annotations

import os
import re
import zlib
from pathlib import Path

import numpy as np
import pytest

if not {"OMP_WAIT_POLICY", "GOMP_SPINCOUNT"} & set(os.environ):
    os.environ["GOMP_SPINCOUNT"] = "30000"  # before torch loads libgomp (the module docstring)

from deeprnn.kernels import backend  # noqa: E402

try:
    import torch
except ImportError:  # the suite skips its torch tests without it
    torch = None

if torch is not None:
    torch.set_num_threads(1)


@pytest.fixture(autouse=True)
def seeded_generators(request: pytest.FixtureRequest):
    """torch's, deeprnn's and NumPy's global generators seeded from the test's id (module docstring)."""
    import deeprnn

    seed = zlib.crc32(request.node.nodeid.encode())
    if torch is not None:
        torch.manual_seed(seed)
    deeprnn.manual_seed(seed)
    np.random.seed(seed)
    yield


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


_HERE = Path(__file__).resolve().parent
_PARITY = re.compile(r"test_(rnn|lstm|gru)\w*(parity|differential)\w*\.py$")
BACKENDS = ["numpy", "numba"] if backend.numba_available() else ["numpy"]


def _on_every_backend(path: Path) -> bool:
    rel = path.resolve().relative_to(_HERE)
    if rel.parts[0] == "kernels":  # the backend's own tests and the loops' direct tests choose for themselves
        return not rel.name.startswith(("test_backend", "test_compiled"))
    if rel.parts[0] == "models":  # the language model's forward, gradients and sampling
        return rel.name in ("test_model_parity.py", "test_generate.py")
    return rel.parts[0] == "nn" and bool(_PARITY.search(rel.name))


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "kernel_backend" in metafunc.fixturenames and _on_every_backend(Path(str(metafunc.definition.path))):
        metafunc.parametrize("kernel_backend", BACKENDS, indirect=True)


@pytest.fixture(autouse=True)
def kernel_backend(request: pytest.FixtureRequest):
    """The kernel backend a test runs on (parametrised for the recurrent parity tests, else the default)."""
    name = getattr(request, "param", None)
    if name is None:
        yield backend.get_backend()
        return
    saved = backend._chosen
    backend.set_backend(name)
    try:
        yield name
    finally:
        backend._chosen = saved
