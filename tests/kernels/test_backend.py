"""The choice between the NumPy and the compiled time loops: set_backend, DEEPRNN_KERNELS and the rule."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest
from _kernels_helpers import make_weights, rng_for

from deeprnn.kernels import GRU, LSTM, RNN_RELU, RNN_TANH, backend, get_backend, rnn_forward, set_backend
from deeprnn.kernels.blas_library import SMALL_GEMM_CORES


@pytest.fixture
def restore(monkeypatch):
    """Leave the module's state as found: the choice, and whether numba counts as installed."""
    monkeypatch.delenv(backend.ENV_VAR, raising=False)
    saved = backend._chosen, backend._numba
    backend._chosen = None
    monkeypatch.setattr(backend, "split_parts", lambda kind, batch: 1)  # the tables without the shared pool
    yield monkeypatch
    backend._chosen, backend._numba = saved


def _loops_used(N, H=6, dtype=np.float32):
    """The kind whose time loops ran an nn.RNN-like forward: RNN_TANH itself (NumPy) or its compiled twin."""
    rng = rng_for("backend", N, H)
    weights = make_weights(rng, 3, H, 1, 1, True, dtype)
    x = rng.standard_normal((4, N, 3)).astype(dtype)
    return rnn_forward(x, None, weights, "tanh", 1, False)[2]["kind"]


def test_default_is_auto(restore):
    assert get_backend() == "auto"


def test_set_backend_rejects_unknown_names(restore):
    with pytest.raises(ValueError, match=r"the kernel backend must be one of 'auto', 'numpy', 'numba', got 'cuda'"):
        set_backend("cuda")
    assert get_backend() == "auto"  # nothing changed


def test_environment_variable_chooses(restore):
    restore.setenv("DEEPRNN_KERNELS", "numpy")
    assert get_backend() == "numpy"
    set_backend("auto")  # a call wins over the environment
    assert get_backend() == "auto"


def test_environment_variable_is_read_at_every_call(restore):
    restore.setenv("DEEPRNN_KERNELS", "numpy")
    assert get_backend() == "numpy"
    restore.setenv("DEEPRNN_KERNELS", "")
    assert get_backend() == "auto"
    restore.setenv("DEEPRNN_KERNELS", "numpy")
    assert get_backend() == "numpy"
    restore.delenv("DEEPRNN_KERNELS")
    assert get_backend() == "auto"


def test_environment_read_from_a_replaced_os_environ(restore):
    """A program (or test) that replaces os.environ itself still chooses the backend through it."""
    import os

    restore.setattr(os, "environ", {"DEEPRNN_KERNELS": "numpy"})
    assert get_backend() == "numpy"


def test_environment_variable_rejects_unknown_names(restore):
    restore.setenv("DEEPRNN_KERNELS", "fast")
    with pytest.raises(ValueError, match=r"DEEPRNN_KERNELS must be one of 'auto', 'numpy', 'numba', got 'fast'"):
        get_backend()


def test_numba_forced_without_numba_says_how_to_install(restore):
    backend._numba = False
    with pytest.raises(ModuleNotFoundError, match=r"needs numba, which is not installed: pip install deeprnn\[fast\]"):
        set_backend("numba")
    restore.setenv("DEEPRNN_KERNELS", "numba")
    with pytest.raises(ModuleNotFoundError, match=r"DEEPRNN_KERNELS = 'numba' needs numba"):
        get_backend()


def test_without_numba_auto_is_numpy_everywhere(restore):
    backend._numba = False
    assert not any(backend.use_compiled(k, 1, 100, np.float32) for k in backend.MAX_H1)
    assert not any(backend.use_compiled_sampler(k, 100, np.float32) for k in backend.MAX_H1)
    assert _loops_used(1) is RNN_TANH


def test_numpy_forces_the_numpy_loops(restore):
    set_backend("numpy")
    assert not backend.use_compiled("rnn", 1, 100, np.float32)
    assert _loops_used(1) is RNN_TANH


@pytest.mark.parametrize("kind", sorted(backend.MAX_H1))
def test_auto_rule_by_batch_and_hidden_size(restore, kind):
    """The rule where OpenBLAS runs kernels without a small-matrix GEMM (Haswell's, as on every AVX2
    processor); the next test has the SkylakeX kernels' exception."""
    backend._numba = True
    restore.setattr(backend.blas_library, "core_name", lambda: "Haswell")
    restore.setattr(backend, "packed_product", lambda: False)  # AVX2: the hand-written product
    use = backend.use_compiled
    assert backend.HAND_MAX_ROWS == 16 and backend.MAX_SMALL_H == 1024
    assert backend.MAX_H1[kind] == {"rnn": 640, "lstm": 352, "gru": 384}[kind]
    assert backend.MAX_CELLS[kind] == (2048 if kind == "rnn" else 1024)
    # one row: H <= MAX_H1
    h1 = backend.MAX_H1[kind]
    assert use(kind, 1, h1, np.float32) and not use(kind, 1, h1 + 1, np.float64)
    # 2-4 rows: H <= 1024
    for n in (2, 3, 4):
        assert use(kind, n, 1024, np.float32) and not use(kind, n, 1025, np.float32)
    # 5-16 rows: N * H <= MAX_CELLS
    cells = backend.MAX_CELLS[kind]
    for n in (5, 8, 16):
        assert use(kind, n, cells // n, np.float32) and not use(kind, n, cells // n + 1, np.float64)
    assert use(kind, 16, 64, np.float32) and not use(kind, 17, 16, np.float32)  # at most 16 rows
    assert not use(kind, 1, 100, np.float16)  # compiled for float32 and float64 only


@pytest.mark.parametrize("kind", sorted(backend.MAX_H1))
@pytest.mark.parametrize("core", sorted(SMALL_GEMM_CORES))
def test_with_openblas_small_matrix_gemm_the_twin_takes_small_products(restore, kind, core):
    """With OpenBLAS's SkylakeX kernels, 2-16 rows whose step product N x (GATES H) x H is at most
    100^3 multiply-adds (the kernels' small-matrix path) take the step twin, whose compiled loops call
    that GEMM (float32, as measured); batch 1, larger products and float64 keep the rule above."""
    backend._numba = True
    restore.setattr(backend.blas_library, "core_name", lambda: core)
    restore.setattr(backend, "packed_product", lambda: False)  # the rule before the packed product
    use, g = backend.use_compiled, backend.GATES[kind]
    assert backend.SMALL_GEMM_WORK == 100**3 and g == {"rnn": 1, "lstm": 4, "gru": 3}[kind]
    for n in (2, 3, 4, 8, 16):
        h = int((100**3 / (n * g)) ** 0.5)  # the largest H within the bound
        while n * g * (h + 1) ** 2 <= 100**3:
            h += 1
        assert backend.small_gemm(kind, n, h) and not backend.small_gemm(kind, n, h + 1)
        assert not use(kind, n, h, np.float32)  # the twin
        if n <= 4 or n * (h + 1) <= backend.MAX_CELLS[kind]:
            assert use(kind, n, h + 1, np.float32)  # beyond the small path: the hand-written loops again
    assert use(kind, 1, 64, np.float32)  # batch 1: the compiled loops (the twin would be a Python loop)
    assert use(kind, 4, 64, np.float64)  # float64 was not measured: the rule above
    restore.setattr(backend.blas_library, "core_name", lambda: None)  # no OpenBLAS of NumPy's wheels
    assert use(kind, 4, 64, np.float32)


@pytest.mark.parametrize("kind", sorted(backend.MAX_H1))
@pytest.mark.parametrize("core", ["SkylakeX", "Haswell", None])
def test_with_the_packed_product_the_loops_take_steps_up_to_a_work_bound(restore, kind, core):
    """With the packed product (AVX-512, compiled/_gemm.py): 2-16 rows take the compiled loops while a
    step's N x GATES H x H multiply-adds are at most 2^23, 17-32 rows while at most 2^22, whatever
    OpenBLAS's kernels; batch 1 keeps MAX_H1, and beyond 32 rows the twin."""
    backend._numba = True
    restore.setattr(backend.blas_library, "core_name", lambda: core)
    restore.setattr(backend, "packed_product", lambda: True)
    use, g = backend.use_compiled, backend.GATES[kind]
    assert backend.PACKED_WORK == ((16, 2**23), (32, 2**22)) and backend.MAX_ROWS == 32
    for n, bound in [(2, 2**23), (7, 2**23), (16, 2**23), (17, 2**22), (24, 2**22), (32, 2**22)]:
        h = int((bound / (n * g)) ** 0.5)
        while n * g * (h + 1) ** 2 <= bound:
            h += 1
        while n * g * h * h > bound:
            h -= 1
        assert use(kind, n, h, np.float32) and use(kind, n, h, np.float64)
        assert not use(kind, n, h + 1, np.float32)
    assert not use(kind, 33, 8, np.float32)  # beyond 32 rows: the twin
    h1 = backend.MAX_H1[kind]
    assert use(kind, 1, h1, np.float32) and not use(kind, 1, h1 + 1, np.float32)


@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
def test_with_the_shared_pool_the_split_kinds_take_the_loops_up_to_64_rows(restore, kind):
    """Where the loops split a batch over the pool (compiled/_pool.py), "auto" takes them for 4-64 rows at
    any hidden size, as long as each part has at most MAX_ROWS rows; without the split, the bounds of old."""
    backend._numba = True
    restore.setattr(backend, "packed_product", lambda: True)
    restore.setattr(backend, "split_parts", lambda kind, batch: 2 if kind in backend.SPLIT_KINDS else 1)
    assert backend.SPLIT_KINDS == {"rnn", "lstm", "gru"} and backend.MAX_SPLIT_ROWS == 64
    split = kind in backend.SPLIT_KINDS
    assert backend.use_compiled(kind, 32, 512, np.float32) is split
    assert backend.use_compiled(kind, 64, 1024, np.float32) is split
    assert not backend.use_compiled(kind, 65, 64, np.float32)
    restore.setattr(backend, "split_parts", lambda kind, batch: 1)
    assert not backend.use_compiled(kind, 32, 512, np.float32)


@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
def test_without_a_split_max_rows_still_bounds_every_kind(restore, kind):
    """Without a split, no kind gets the compiled loops beyond MAX_ROWS rows, even below MAX_SPLIT_ROWS
    (the parity suite sets MAX_ROWS = 0 to test the step twins so)."""
    backend._numba = True
    restore.setattr(backend, "packed_product", lambda: True)
    restore.setattr(backend, "MAX_ROWS", 0)
    assert not any(backend.use_compiled(kind, n, 8, np.float32) for n in (2, 8, 32))
    restore.setattr(backend, "split_parts", lambda kind, batch: 2)
    assert not backend.use_compiled(kind, 8, 8, np.float32)  # a part of 4 rows > MAX_ROWS = 0


def test_split_parts_only_for_the_split_kinds_and_4_to_64_rows(monkeypatch):
    """backend.split_parts asks the pool only for a split kind and 4-64 rows, and never once forbidden."""
    asked = []
    fake = type("Pool", (), {"parts": staticmethod(lambda n: asked.append(n) or 2)})
    monkeypatch.setattr(backend, "compiled_module", lambda name: fake)
    assert [backend.split_parts("lstm", n) for n in (3, 4, 64, 65)] == [1, 2, 2, 1]
    assert backend.split_parts("gru", 32) == 2 and backend.split_parts("rnn", 8) == 2
    monkeypatch.setattr(backend, "SPLIT_KINDS", frozenset({"lstm"}))
    assert backend.split_parts("gru", 32) == 1
    monkeypatch.setattr(backend, "_pool_wanted", False)
    assert backend.split_parts("lstm", 32) == 1
    assert asked == [4, 64, 32, 8]


@pytest.mark.parametrize("kind", sorted(backend.MAX_H1))
def test_the_sampler_has_its_own_bound(restore, kind):
    """The batch-1 sampler runs compiled while H * H <= SAMPLER_MAX_WORK (its measurement against NumPy's
    sampler), which is not the layers' bound at one row; "numba" forces it, "numpy" never."""
    backend._numba = True
    bound = backend.SAMPLER_MAX_WORK[kind]
    assert bound == (2**17 if kind == "rnn" else 2**18)
    h = int(bound**0.5)
    sampler = backend.use_compiled_sampler
    assert sampler(kind, h, np.float32) and not sampler(kind, h + 1, np.float32)
    assert not sampler(kind, 64, np.float16)
    set_backend("numba")
    assert sampler(kind, 4096, np.float64)
    set_backend("numpy")
    assert not sampler(kind, 8, np.float32)


def test_auto_takes_the_compiled_loops_at_small_batch(restore):
    pytest.importorskip("numba")
    compiled = backend.kind_for(RNN_TANH, 1, 6, np.float32)
    assert type(compiled).__name__ == "CompiledElman" and compiled.mode == "RNN_TANH"
    assert _loops_used(1) is compiled
    large = _loops_used(backend.MAX_ROWS + 1)  # the step twin: products in BLAS, the rest compiled
    assert type(large) is type(compiled) and large.loops is False and compiled.loops is True
    set_backend("numpy")
    assert _loops_used(1) is RNN_TANH
    set_backend("numba")
    many = _loops_used(64)  # the compiled loops at every batch: batch 1 alone runs its forward product in DOT
    assert type(many) is type(compiled) and many.loops is True and many.dot is False
    assert compiled.dot is backend.packed_product() and _loops_used(1) is compiled


@pytest.mark.parametrize("kind", [RNN_TANH, RNN_RELU, LSTM, GRU], ids=lambda k: k.mode)
def test_every_kind_has_a_compiled_twin(restore, kind):
    pytest.importorskip("numba")
    twin = backend.kind_for(kind, 1, 8, np.float64)
    assert twin is not kind and isinstance(twin, type(kind)) and twin.mode == kind.mode
    assert backend.kind_for(kind, 1, 8, np.float64) is twin  # made once
    large = backend.kind_for(kind, 64, 64, np.float64)  # N * H * H above the bound: the step twin
    assert large is not twin and isinstance(large, type(twin)) and large.loops is False and twin.loops is True
    assert large.mode == kind.mode
    set_backend("numpy")
    assert backend.kind_for(kind, 1, 8, np.float64) is kind


def test_numba_is_not_imported_until_a_compiled_loop_runs():
    """Importing deeprnn and building a module leave numba unimported (0.3 s saved), and so does running
    the NumPy loops; the first compiled step imports it."""
    code = (
        "import sys, numpy as np, deeprnn, deeprnn.nn as nn\n"
        "rnn = nn.RNN(3, 64)\n"
        "print('numba' in sys.modules)\n"
        "deeprnn.kernels.set_backend(sys.argv[1])\n"
        "rnn(deeprnn.from_numpy(np.zeros((4, 64, 3), np.float32)))\n"
        "print('numba' in sys.modules)\n"
    )
    env = {k: v for k, v in os.environ.items() if k != backend.ENV_VAR}
    for name, imported in (("numpy", "False"), ("auto", "True" if backend.numba_available() else "False")):
        out = subprocess.run([sys.executable, "-c", code, name], capture_output=True, text=True, env=env, check=True)
        assert out.stdout.split() == ["False", imported], name
