"""The recurrent product of the compiled time loops, in one of three ways, chosen per call.

    product_rows(acc, acc_first, x, x_first, N, K, b, bp, mode)    # rows of acc += rows of x times b

    HAND     the hand-written loop over b (K, M) (_math.add_product_rows)
    BLAS     one GEMM of NumPy's OpenBLAS on b (_blas.py): the step twins at large batches
    PACKED   the register-blocked kernel on bp, b's column panels (_gemm.py)
    DOT      one row's dot products with the rows of W = b^T itself (_dot.py): bp is W (M, K) flat, and
             b is W's buffer seen as (K, M), which gives only the shape (`dot_operands`)
    STRIDED  b itself, bp = b flat: one pass over its rows with acc's row in registers (_stream.py) where it
             fits them, else the packed kernel's blocks on b (_gemm.strided_product_rows): nothing packed

The loops take b in every mode (its shape gives K and M, and BLAS and HAND read it) and bp, empty
unless the mode is PACKED, DOT or STRIDED.  In PACKED and DOT the forward loops read b's shape only, so
b is then W_hh's own buffer seen as (K, M) (`forward_operands`' view): no W_hh^T is made for them.
`loop_mode(loops, N, dot, forward)` is the mode a twin's loop runs in: a twin made for batch 1
(dot=True) runs its forward loop in DOT and its backward loop in STRIDED, so that no weight is packed,
and none is kept and checked.  `run_loop` runs a loop whole, with its rows split over the pool's threads
(`split_parts`), or, a batch-1 forward loop in DOT with a W_hh of at least MIN_SPLIT_BYTES, with its hidden
units in two parts on two threads (`split_units`, _sync.py).
"""

from __future__ import annotations

import numpy as np

from ..transposed import forms, transposed
from . import _gemm
from ._blas import gemm_rows, loop_blas
from ._dot import dot_product_rows
from ._gemm import packed_product_rows, strided_product_rows
from ._jit import jit
from ._math import add_product_rows
from ._stream import stream_product_rows, stream_width
from ._sync import new_sync

__all__ = [
    "HAND", "BLAS", "PACKED", "DOT", "STRIDED", "product_rows", "loop_mode", "split_parts", "run_loop", "NO_PANELS",
    "pair_directions", "run_pair", "forward_operands", "backward_operands", "dot_operands", "plain_transpose",
    "loop_bias",
]  # fmt: skip

HAND, BLAS, PACKED, DOT, STRIDED = 0, 1, 2, 3, 4
NO_PANELS = {np.dtype(d): np.empty(0, d) for d in (np.float32, np.float64)}  # bp when the mode is not PACKED
for _empty in NO_PANELS.values():
    _empty.flags.writeable = False  # typed as the panels are, read-only


def split_parts(N: int, mode: int | None) -> int:
    """Into how many parts a compiled loop of N rows in this mode splits its batch (_pool.py): 1 unless
    the mode is PACKED.  BLAS never splits, since an OpenBLAS call inside the pool's threads would wait
    for them.  HAND (processors without AVX-512) splits correctly, as the tests show, but how fast it
    runs split was not measured where it runs: on an AVX-512 machine, forced, the LSTM at N = 4, H = 256 trained
    in 6.9-7.7 ms split against 5.8-6.0 whole (2026-12-07).  So it keeps one core until it is measured."""
    if mode != PACKED:
        return 1
    from . import _pool  # imports here: it compiles its callback (about 1 s) in the first process that splits

    return _pool.parts(N)


# The W_hh from which a batch-1 forward loop runs its hidden units in two parts (_sync.py): below it the
# barrier and the lines the parts share cost more than half a product saves.  Module inference at T = 25, N = 1,
# I = 65, float32, whole -> split (Intel Xeon, 2 cores, interleaved, 2026-12-07), by W_hh's size:
#   LSTM H = 128 (256 KB) 165 -> 166 us,  H = 160 (400 KB) 209 -> 204,  H = 200 (640 KB) 294 -> 250
#   GRU  H = 160 (300 KB) 180 -> 165,  H = 200 (480 KB) 233 -> 200
#   RNN  H = 200 (160 KB) 96 -> 115,  H = 320 (400 KB) 145 -> 137,  H = 512 (1 MB) 315 -> 234
MIN_SPLIT_BYTES = 300_000


def split_units(N: int, mode: int | None, w_hh_bytes: int) -> bool:
    """Whether a batch-1 forward loop in DOT mode runs its hidden units in two parts on two threads of the
    pool (_sync.py): where W_hh has at least MIN_SPLIT_BYTES and the pool is installed with two threads."""
    if N != 1 or mode != DOT or w_hh_bytes < MIN_SPLIT_BYTES:
        return False
    return _two_threads()


def _two_threads() -> bool:
    """Whether the shared pool is installed with two threads for a loop of its own (installing it if it can)."""
    from . import _pool

    return _pool.parts(2 * _pool.MIN_ROWS_PER_PART) >= 2


def pair_directions(modes) -> bool:
    """Whether a bidirectional layer's two forward loops, in these modes, run at once, one a thread of the pool
    (each kind's _forward_pair): where both are PACKED or DOT and the pool is installed with two threads.

    Each loop then has one core for all its rows, instead of both cores for each direction in turn (the rows
    in two parts, or at batch 1 the units split), with the same bits.  LSTM inference, T = 50, in the same
    process, one direction after the other -> both at once (AMD Zen 4, 2026-12-07): N = 4, H = 128 1317 ->
    1129 us; N = 8, H = 256 4677 -> 4283; N = 32, H = 128, 2 layers 13189 -> 12542; N = 32, H = 256, 2 layers
    45121 -> 43905; N = 32, H = 512 45419 -> 44750; N = 64, H = 256 27541 -> 26543.  At N = 1, against the
    units split, in separate processes: T = 100, H = 100 622 -> 437 us, T = 25, H = 200 402 -> 382.  Without
    the installed pool the loops' threads fight OpenBLAS's own spinning workers (_pool.py): a call at N = 2
    took 8 ms instead of 0.6, in whole scheduler ticks."""
    if any(m not in (PACKED, DOT) for m in modes):
        return False
    return _two_threads()


def run_pair(pair, args) -> bool:
    """Run a kind's _forward_pair on the two directions' _forward arguments (each a tuple ending in its mode, or
    None where that direction cannot run the compiled loop) where pair_directions allows: True when run."""
    if args[0] is None or args[1] is None or not pair_directions((args[0][-1], args[1][-1])):
        return False
    pair(*args[0], *args[1])
    return True


def run_loop(whole, split, N: int, mode: int, *args, units=None) -> None:
    """Run a time loop over N rows: split(*args, parts) with the rows in split_parts(N, mode) parts, or
    units(*args, sync) with a batch-1 DOT loop's hidden units in two parts (_sync.py) where `split_units`
    says so, or whole(*args) on one core."""
    if units is not None and split_units(N, mode, args[0].nbytes):
        units(*args, new_sync())
        return
    parts = split_parts(N, mode)
    if parts > 1:
        split(*args, parts)
    else:
        whole(*args)


def loop_mode(loops: bool, N: int, dot: bool = False, forward: bool = True) -> int | None:
    """The product of a twin's compiled loop: PACKED (where _gemm.enabled()) or HAND for the compiled
    loops (loops=True); BLAS for the step twin (loops=False) where its loop runs compiled, else None
    (the twin's loop is Python's).  dot (a batch-1 twin, whose operands are W_hh itself): DOT for the
    forward loop, STRIDED for the backward one."""
    if dot:
        return DOT if forward else STRIDED
    if loops:
        return PACKED if _gemm.enabled() else HAND
    return BLAS if loop_blas(N) else None


@jit
def product_rows(acc, acc_first, x, x_first, N, K, b, bp, mode):
    """Rows acc_first .. acc_first + N - 1 of acc += rows x_first .. x_first + N - 1 of x, times b.

    acc and x are flat_rows pairs (_rows.py) of rows of width M and K; b (K, M) C-contiguous; bp
    b's panels (panels.py) when mode is PACKED; with DOT, W = b^T flat, and b only gives the shape; with
    STRIDED, b flat.
    """
    if mode == PACKED:
        packed_product_rows(acc, acc_first, x, x_first, N, K, bp, b.shape[1])
    elif mode == DOT:
        dot_product_rows(acc, acc_first, x, x_first, N, K, bp, b.shape[1])
    elif mode == STRIDED:  # one pass over b's rows while acc's row fits the registers (_stream.py)
        if b.shape[1] <= stream_width(b.itemsize):
            stream_product_rows(acc, acc_first, x, x_first, N, K, bp, b.shape[1])
        else:
            strided_product_rows(acc, acc_first, x, x_first, N, K, bp, b.shape[1])
    elif mode == BLAS:
        gemm_rows(acc, acc_first, x, x_first, N, K, b)
    else:
        add_product_rows(acc, acc_first, x, x_first, N, K, b)


def forward_operands(w_hh: np.ndarray, loops: bool, dot: bool = False) -> tuple:
    """(b, bp, view): the forward product's operands.  Where the loops' mode is PACKED, b is W_hh's buffer
    seen as (K, M), read-only (its shape is all the loops read), bp W_hh^T's panels, kept while W_hh is
    unchanged (kernels/transposed.py, one check of its bits), and view True; dot (a batch-1 twin, whose
    forward loop runs in DOT): (*dot_operands(w_hh), True); else (W_hh^T C-contiguous read-only and kept,
    an empty array, False).  The paths that read b as W_hh^T take `plain_transpose(b, view)`.

    No W_hh^T for PACKED: a weight larger than transposed.MAX_ARRAY_BYTES is not kept, and its W_hh^T,
    made at every call, cost 41 ms of a 486 ms LSTM inference at N = 64, H = 1024 (float32, Intel Xeon)."""
    if dot:
        return (*dot_operands(w_hh), True)
    if loops and _gemm.enabled():
        (bp,) = forms(w_hh, ("panels_t", _gemm.panel_width(w_hh.itemsize)))
        return dot_operands(w_hh)[0], bp, True
    return transposed(w_hh), NO_PANELS[w_hh.dtype], False


def backward_operands(w_hh: np.ndarray, mode: int) -> tuple:
    """(W_hh C-contiguous, its panels when mode is PACKED, W_hh flat and read-only when it is STRIDED, else an
    empty array): the backward product's b and bp."""
    w = np.ascontiguousarray(w_hh)
    if mode == STRIDED:
        flat = w.reshape(-1)
        flat.flags.writeable = False  # a view: W_hh itself stays writable
        return w, flat
    if mode != PACKED:
        return w, NO_PANELS[w.dtype]
    return w, forms(w, ("panels", _gemm.panel_width(w.itemsize)))[0]


def dot_operands(w_hh: np.ndarray) -> tuple:
    """The forward product's b and bp in DOT mode, read-only views of W_hh (M, K) itself, with no copy
    to keep and so no check of its bits: b its buffer seen as (K, M) (the shape the loops read K and M
    from; its values are not W_hh^T's), bp the same buffer flat.  A W_hh that is not C-contiguous is copied.
    PACKED's forward b is the same view (forward_operands)."""
    w = np.ascontiguousarray(w_hh)
    M, K = w.shape
    b, bp = w.reshape(K, M), w.reshape(-1)
    b.flags.writeable = bp.flags.writeable = False  # views: W_hh itself stays writable
    return b, bp


def plain_transpose(b: np.ndarray, view: bool) -> np.ndarray:
    """W_hh^T (K, M) for the paths that do not run the compiled loops (NumPy's loop, BLAS from Python):
    b itself, unless (view) b is W_hh's buffer seen as (K, M) (forward_operands), whose W_hh^T is made here."""
    if not view:
        return b
    K, M = b.shape
    return np.ascontiguousarray(b.reshape(M, K).T)  # rare (a layout flat_rows cannot describe): not kept


def loop_bias(kind, weights) -> np.ndarray | None:
    """The kind's input bias for the compiled loops to add in each step (kind.input_bias of b_ih, b_hh): a
    read-only C-contiguous copy in W_hh's dtype, as the loops' types want it, or None without biases."""
    b_ih, b_hh = weights[2], weights[3]
    bias = kind.input_bias(b_ih, b_hh)
    if bias is None:
        return None
    fresh = bias.base is None and bias is not b_ih and bias is not b_hh  # b_ih + b_hh: made here, nobody's else
    if not (fresh and bias.dtype == weights[1].dtype and bias.flags.c_contiguous):
        bias = np.array(bias, dtype=weights[1].dtype, order="C")  # a bias itself: a copy to make read-only
    bias.flags.writeable = False
    return bias
