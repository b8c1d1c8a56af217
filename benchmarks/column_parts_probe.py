"""Probe of a design tried and not kept: the LSTM's compiled forward loop split over both cores by columns.

    python benchmarks/column_parts_probe.py            # prints a table, writes results/column_parts_probe.json

The design.  Each of P parts (threads) owns the hidden units u0 .. u1-1 and, for them, the columns of all
four gates: its own C-contiguous (H, 4u) slice of W_hh^T, so that at batch 1 each core's L2 holds only
its part of W_hh.  A step is, per part: z = A_t[its columns] + h_prev W_hh^T[:, its columns] (the
package's add_product), then the package's lstm_cell_row on its units (c_t, tanh c_t, h_t for those
units).  The only synchronisation is one barrier per step (each part publishes "step t done" with an
atomic release store; before its next product a part waits, with acquire loads, until every part has
published), since the next step's product reads all of h_t.  Each output element is summed in the same
order as in deeprnn's single-threaded loop (kernels/compiled/lstm.py `_forward`), so the probe checks that
both give the same bits, not only close values.  The second thread is persistent (started once, woken
by a threading.Event per call, about 17 us): starting a thread per call costs about 110 us.

What it measures, per (T, N, H), float32, forward of one layer from A (the input projection excluded):
  deeprnn        the package's compiled loop `_forward`, one thread
  1 part         the probe's loop in one thread (the same work laid out by parts)
  2 parts        the probe's loop on two threads
  after BLAS     1 part and 2 parts each right after a NumPy product of a layer's input-projection size
                 (1600 x 65 by 65 x 512), as in the stack, the product's own time subtracted: OpenBLAS's
                 second thread keeps spinning for a while after each call and takes the second core
                 from the second part.

Why it was not kept (2026-12-02, 2-core Zen 3): built into the package (the parts as a compiled twin
chosen by kernels/backend.py, the column blocks cached as transposed.py caches W^T), the whole nn.LSTM
train step and inference ran 0.65-0.99x as fast as one part at batch 1 and 0.48-0.92x at N = 16 (T=100,
N=16, H=64, 3 layers: 6.1 against 10.0 ms inference), and faster only at batch 2-8 with H >= 128 (N=4,
H=256: 1.71x inference, 1.25x train); at batch 32, where auto takes the BLAS-product twin, the parted
compiled loop was 1.24-1.28x slower than the twin even with OpenBLAS held to one thread. None of the
benchmark grid's configurations gained. The in-package version differed from this probe in writing every
step's gates, c and tanh c back into the stack's shared rows (both parts writing the same rows) and in
its per-call dispatch; why it lost where this probe wins was not established. A lesson for a next try: a
part compiled without nogil spins at the barrier holding the GIL, so the other part never starts and the
process hangs; the barrier needs a way out (a bound, or a check that both parts run).
Nothing here is used by deeprnn or asserted by the tests; it reports.
"""

from __future__ import annotations

import datetime
import json
import os
import platform
import sys
import threading
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "src"))

from numba import njit, types  # noqa: E402
from numba.core import cgutils  # noqa: E402
from numba.extending import intrinsic  # noqa: E402

from deeprnn.kernels.compiled._math import add_product  # noqa: E402
from deeprnn.kernels.compiled._product import HAND, NO_PANELS  # noqa: E402
from deeprnn.kernels.compiled._rows import flat_rows  # noqa: E402
from deeprnn.kernels.compiled.lstm import _forward, lstm_cell_row  # noqa: E402

CONFIGS = [(25, 1, 200), (100, 1, 100), (25, 1, 512), (50, 2, 256), (50, 4, 256), (100, 16, 64), (50, 16, 128)]
STRIDE = 16  # int64 slots between two parts' flags: one 128-byte line each


@intrinsic
def _load_acquire(typingctx, arr, idx):
    def codegen(context, builder, sig, args):
        ary = context.make_array(sig.args[0])(context, builder, args[0])
        ptr = cgutils.get_item_pointer(context, builder, sig.args[0], ary, [args[1]])
        return builder.load_atomic(ptr, "acquire", 8)

    return types.int64(arr, idx), codegen


@intrinsic
def _store_release(typingctx, arr, idx, val):
    def codegen(context, builder, sig, args):
        ary = context.make_array(sig.args[0])(context, builder, args[0])
        ptr = cgutils.get_item_pointer(context, builder, sig.args[0], ary, [args[1]])
        builder.store_atomic(args[2], ptr, "release", 8)
        return context.get_dummy_value()

    return types.void(arr, idx, val), codegen


@njit(nogil=True, fastmath={"contract"}, error_model="numpy")
def part_forward(p, P, wt_p, A, h, c, tc, u0, u1, flags, z):
    """Part p of P: units u0..u1-1.  wt_p (H, 4u) its columns of W_hh^T; A (T, N, 4H) A_t; h (T+1, N, H),
    h[0] = h0; c (N, H) c_prev in, c_T out; tc (N, u) scratch; z (N, 4u) scratch; flags (P*STRIDE,) int64."""
    T, N, G = A.shape
    H = G // 4
    u = u1 - u0
    for t in range(T):
        if t > 0:  # the barrier: every part has written its units of h_t
            for q in range(P):
                while _load_acquire(flags, q * STRIDE) < t:
                    pass
        for n in range(N):
            for g in range(4):
                for j in range(u):
                    z[n, g * u + j] = A[t, n, g * H + u0 + j]
        add_product(z, h[t], wt_p)
        for n in range(N):
            lstm_cell_row(z[n], c[n, u0:u1], c[n, u0:u1], tc[n], h[t + 1, n, u0:u1])
        _store_release(flags, p * STRIDE, t + 1)


class Worker:
    """One persistent thread that runs one job per call."""

    def __init__(self):
        self._go = threading.Event()
        self._done = threading.Event()
        self._job = None
        threading.Thread(target=self._loop, daemon=True).start()

    def _loop(self):
        while True:
            self._go.wait()
            self._go.clear()
            fn, args = self._job
            fn(*args)
            self._done.set()

    def run(self, fn, args):
        self._job = (fn, args)
        self._done.clear()
        self._go.set()

    def wait(self):
        self._done.wait()


def problem(T, N, H, seed=0):
    rng = np.random.default_rng(seed)
    W = (rng.standard_normal((4 * H, H)) / np.sqrt(H)).astype(np.float32)
    A = rng.standard_normal((T, N, 4 * H)).astype(np.float32)
    h0 = (rng.standard_normal((N, H)) * 0.5).astype(np.float32)
    c0 = (rng.standard_normal((N, H)) * 0.5).astype(np.float32)
    wt = np.ascontiguousarray(W.T)
    wt.flags.writeable = False
    return wt, A, h0, c0


def split(wt, H, P):
    bounds = [(q * H // P, (q + 1) * H // P) for q in range(P)]
    parts = [
        np.ascontiguousarray(np.concatenate([wt[:, g * H + a : g * H + b] for g in range(4)], axis=1))
        for a, b in bounds
    ]
    return bounds, parts


def run_parts(worker, P, bounds, parts, A, h0, c0, scratch):
    T, N, _ = A.shape
    H = h0.shape[1]
    h = np.empty((T + 1, N, H), np.float32)
    h[0] = h0
    c = c0.copy()
    flags = np.zeros(P * STRIDE, np.int64)
    args = [(q, P, parts[q], A, h, c, scratch[q][0], *bounds[q], flags, scratch[q][1]) for q in range(P)]
    if P > 1:
        worker.run(part_forward, args[1])
    part_forward(*args[0])
    if P > 1:
        worker.wait()
    return h[1:], c


def run_deeprnn(wt, A, h0, c0):
    T, N, G = A.shape
    H = G // 4
    a = A.copy()
    h = np.empty((T, N, H), np.float32)
    c = np.empty((T, N, H), np.float32)
    tc = np.empty((T, N, H), np.float32)
    rows = [flat_rows(x) for x in (a, h0, c0, h, c, tc)]
    _forward(wt, rows[0], T, N, rows[1], rows[2], False, *rows[3:], NO_PANELS[wt.dtype], HAND)
    return h, c[-1]


def median_us(fn, budget_s=1.0, reps=30):
    fn()
    ts = []
    start = time.perf_counter()
    while len(ts) < reps or time.perf_counter() - start < budget_s:
        t = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t)
        if len(ts) >= 2000:
            break
    ts.sort()
    return ts[len(ts) // 2] * 1e6


def main():
    worker = Worker()
    rows = []
    X = np.random.default_rng(1).standard_normal((1600, 65)).astype(np.float32)
    W_in = np.random.default_rng(2).standard_normal((65, 512)).astype(np.float32)
    P_out = np.empty((1600, 512), np.float32)
    blas_us = median_us(lambda: np.matmul(X, W_in, out=P_out))
    print(f"# the BLAS product before the 'after BLAS' runs: {blas_us:.0f} us, subtracted\n")
    head = (
        "| T, N, H | deeprnn loop us | 1 part us | 2 parts us | deeprnn / 2 parts "
        "| after BLAS: 1 part | 2 parts | same bits |"
    )
    print(head)
    print("|---|---|---|---|---|---|---|---|")
    for T, N, H in CONFIGS:
        wt, A, h0, c0 = problem(T, N, H)
        ref_h, ref_c = run_deeprnn(wt, A, h0, c0)
        entry = {"T": T, "N": N, "H": H, "deeprnn_us": median_us(lambda: run_deeprnn(wt, A, h0, c0))}
        same = True
        for P in (1, 2):
            bounds, parts = split(wt, H, P)
            scratch = [(np.empty((N, b - a), np.float32), np.empty((N, 4 * (b - a)), np.float32)) for a, b in bounds]
            h, c = run_parts(worker, P, bounds, parts, A, h0, c0, scratch)
            same = same and np.array_equal(h, ref_h) and np.array_equal(c, ref_c)
            entry[f"parts{P}_us"] = median_us(lambda: run_parts(worker, P, bounds, parts, A, h0, c0, scratch))

            def after_blas():
                np.matmul(X, W_in, out=P_out)
                run_parts(worker, P, bounds, parts, A, h0, c0, scratch)

            entry[f"parts{P}_after_blas_us"] = median_us(after_blas) - blas_us
        entry["same_bits"] = bool(same)
        rows.append(entry)
        print(
            f"| {T}, {N}, {H} | {entry['deeprnn_us']:.0f} | {entry['parts1_us']:.0f} | {entry['parts2_us']:.0f} | "
            f"{entry['deeprnn_us'] / entry['parts2_us']:.2f} | {entry['parts1_after_blas_us']:.0f} | "
            f"{entry['parts2_after_blas_us']:.0f} | {same} |",
            flush=True,
        )
    doc = {
        "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
        "machine": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "loadavg": os.getloadavg(),
        "dtype": "float32",
        "blas_product_us": blas_us,
        "results": rows,
    }
    out = os.path.join(HERE, "results", "column_parts_probe.json")
    with open(out + ".tmp", "w") as f:
        json.dump(doc, f, indent=1)
    os.replace(out + ".tmp", out)
    print(f"\n# wrote {out}")


if __name__ == "__main__":
    main()
