"""Probe: can deeprnn's own threads share 2 cores with NumPy's OpenBLAS?  Prints a table and writes JSON.

The question behind the LSTM's large-batch gap (README, "Against the targets"): two independent time
loops, the two directions of a bidirectional LSTM layer, each on one thread (numba prange(2)), after
the layer's input projection in NumPy's OpenBLAS.  Measured five ways, each in its own process:

  own      OpenBLAS as NumPy ships it: its worker thread spins (sched_yield) for a while after every
           threaded call, on the core that our second thread needs.
  one      OpenBLAS held to 1 thread for the whole process (its worker sleeps): no spinner, but
           every OpenBLAS product runs on one core.
  toggle   OpenBLAS on 2 threads for its products, set to 1 thread (openblas_set_num_threads) just
           before the two loops and back to 2 after them: whether that stops the spinning worker.
  callback OpenBLAS's caller-managed threading (openblas_set_threads_callback_function, OpenBLAS
           >= 0.3.27): its jobs run on numba's OpenMP pool, the same threads as the loops.  Here the
           callback is a ctypes function that starts a numba prange over the jobs, a prototype: it is
           process-wide, and it would deadlock if the jobs ran one after another (OpenBLAS's GEMM jobs
           wait for each other), as in a nested parallel region.
  cfunc    the same callback as a numba C function (cfunc) that calls the same prange: no GIL and no
           Python in any OpenBLAS call, the form a library would install.
  After installing either callback the worker sleeps 0.5 s, so that OpenBLAS's own worker, still
  spinning from its last threaded call, has gone to sleep (its thread timeout) before anything is
  timed: in the first 0.1 s after installing, a 2000^3 product ran at half speed in 2 of 5 processes.

Per configuration, ms (median of 20 calls, best of 3 rounds): "seq" the projection and the two loops
one after the other on one thread; "par" the projection and the two loops on two threads; "+wake" the
same after a 256^3 product in OpenBLAS, as a model's Linear head would run between calls.  Nothing in
the library uses this; the results say whether the design would pay.

    python benchmarks/thread_pool_probe.py --out benchmarks/results/thread_pool_probe.json
"""

from __future__ import annotations

import argparse
import ctypes
import json
import os
import platform
import subprocess
import sys
import time

import numpy as np

MODES = ("own", "one", "toggle", "callback", "cfunc")
CONFIGS = ((50, 32, 65, 128), (50, 32, 65, 256), (50, 32, 65, 512))  # T, N, I, H


def med_ms(fn, n=20):
    for _ in range(3):
        fn()
    ts = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t)
    ts.sort()
    return ts[len(ts) // 2] * 1e3


def worker(mode):
    from numba import cfunc, njit, prange, types

    from deeprnn.kernels.blas_library import library
    from deeprnn.kernels.compiled._product import PACKED
    from deeprnn.kernels.compiled._rows import flat_rows
    from deeprnn.kernels.compiled.lstm import _forward as lstm_forward
    from deeprnn.kernels.panels import panels

    lib = library()

    loop = lstm_forward.compiled(np.dtype(np.float32))  # the library's own compiled LSTM time loop

    @njit(fastmath={"contract"}, error_model="numpy", parallel=True)
    def both(w0, w1, a0, a1, T, N, h0, c0, h_0, h_1, c_0, c_1, tc0, tc1, bp0, bp1):
        for d in prange(2):  # forward on one thread, reverse on the other
            if d == 0:
                loop(w0, a0, T, N, h0, c0, False, h_0, c_0, tc0, bp0, PACKED)
            else:
                loop(w1, a1, T, N, h0, c0, True, h_1, c_1, tc1, bp1, PACKED)

    from deeprnn.kernels.compiled._job import call_job  # OpenBLAS's job function, called by address

    @njit(parallel=True)
    def run_jobs(fn, numjobs, elsize, data, arg):
        for i in prange(numjobs):
            call_job(fn, i, data + i * elsize, arg)

    proto = ctypes.CFUNCTYPE(
        None, ctypes.c_int, ctypes.c_void_p, ctypes.c_int, ctypes.c_size_t, ctypes.c_void_p, ctypes.c_int
    )
    keep = proto(lambda sync, dojob, numjobs, elsize, jobdata, arg: run_jobs(dojob, numjobs, elsize, jobdata, arg))
    run_jobs(0, 0, 0, 0, 0)  # compiled before OpenBLAS may call it

    # OpenBLAS's callback type: (int sync, dojob fn, int numjobs, size_t elsize, void *jobdata, int arg);
    # the pointers and size_t are taken as intp, which has their width and registers on 64-bit platforms.
    @cfunc(types.void(types.intc, types.intp, types.intc, types.intp, types.intp, types.intc), nopython=True)
    def native(sync, dojob, numjobs, elsize, jobdata, arg):
        run_jobs(dojob, numjobs, elsize, jobdata, arg)

    setter = getattr(lib, "scipy_openblas_set_threads_callback_function64_", None) or getattr(
        lib, "openblas_set_threads_callback_function", None
    )
    set_threads = getattr(lib, "scipy_openblas_set_num_threads64_", None) or getattr(lib, "openblas_set_num_threads")
    if mode in ("callback", "cfunc"):
        if setter is None:
            return {"error": "this OpenBLAS has no openblas_set_threads_callback_function"}
        setter(keep if mode == "callback" else ctypes.cast(native.address, proto))
        time.sleep(0.5)  # OpenBLAS's own worker, spinning since NumPy's last threaded call, goes to sleep
    elif mode == "one":
        set_threads(1)
        time.sleep(0.5)  # its worker's spin ends and it sleeps

    rng = np.random.default_rng(0)
    a = rng.standard_normal((700, 500)).astype(np.float32)
    b = rng.standard_normal((500, 900)).astype(np.float32)
    ref = a.astype(np.float64) @ b.astype(np.float64)
    result = {"mode": mode, "product_rel_err": float(np.abs(a @ b - ref).max() / np.abs(ref).max())}
    big = rng.standard_normal((2000, 2000)).astype(np.float32)
    result["sgemm_gflops"] = 2 * 2000**3 / med_ms(lambda: big @ big, 10) / 1e6
    sq = rng.standard_normal((256, 256)).astype(np.float32)
    result["sgemm_256_us"] = med_ms(lambda: sq @ sq, 500) * 1e3
    rows = []
    for T, N, I, H in CONFIGS:
        wt, bp, wih, A, hs, cs, tcs = [], [], [], [], [], [], []
        for _ in range(2):
            w = np.ascontiguousarray((rng.standard_normal((4 * H, H)) / np.sqrt(H)).astype(np.float32).T)
            w.flags.writeable = False
            p = panels(w, 64)
            p.flags.writeable = False
            wt.append(w)
            bp.append(p)
            wih.append((rng.standard_normal((4 * H, I)) / np.sqrt(I)).astype(np.float32))
            A.append(np.empty((T * N, 4 * H), np.float32))
            for lst in (hs, cs, tcs):
                lst.append(np.empty((T * N, H), np.float32))
        x = rng.standard_normal((T * N, I)).astype(np.float32)
        z = np.zeros((N, H), np.float32)
        R = flat_rows

        def proj():
            for d in range(2):
                np.matmul(x, wih[d].T, out=A[d])

        def seq():
            proj()
            for d in range(2):
                loop(wt[d], R(A[d]), T, N, R(z), R(z), d == 1, R(hs[d]), R(cs[d]), R(tcs[d]), bp[d], PACKED)

        def par():
            proj()
            if mode == "toggle":
                set_threads(1)
            both(
                wt[0],
                wt[1],
                R(A[0]),
                R(A[1]),
                T,
                N,
                R(z),
                R(z),
                R(hs[0]),
                R(hs[1]),
                R(cs[0]),
                R(cs[1]),
                R(tcs[0]),
                R(tcs[1]),
                bp[0],
                bp[1],
            )
            if mode == "toggle":
                set_threads(2)

        seq()
        first = [v.copy() for v in hs]
        par()
        same = all(np.array_equal(u, v) for u, v in zip(first, hs))
        best = {}
        for _ in range(3):
            for name, fn in (("seq", seq), ("par", par)):
                for wake in (False, True):
                    key = name + ("+wake" if wake else "")
                    f = (lambda fn=fn: (sq @ sq, fn())) if wake else fn
                    best[key] = min(best.get(key, float("inf")), med_ms(f))
        rows.append({"T": T, "N": N, "I": I, "H": H, "same_bits": same, **best})
    result["rows"] = rows
    if mode in ("callback", "cfunc") and hasattr(os, "fork"):
        result["fork_child_same_bits"] = forked_product_same(a, b, setter)
    return result


def forked_product_same(a, b, setter) -> bool:
    """Whether a forked child, which uninstalls the callback first (OpenBLAS's own threads again), gets the
    parent's bits for a @ b.  The child reports through its exit status: 0 same, 1 different."""
    parent = a @ b
    pid = os.fork()
    if pid == 0:
        setter(None)  # numba's OpenMP pool is not usable in a forked child; OpenBLAS's own threads are
        os._exit(0 if np.array_equal(a @ b, parent) else 1)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status) == 0


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=None, help="write the results as JSON here")
    ap.add_argument("--worker", choices=MODES, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.worker:
        print(json.dumps(worker(args.worker)))
        return 0
    env = dict(os.environ, OMP_NUM_THREADS="2", OPENBLAS_NUM_THREADS="2", NUMBA_NUM_THREADS="2")
    results = []
    for mode in MODES:
        run = subprocess.run(
            [sys.executable, __file__, "--worker", mode], env=env, capture_output=True, text=True, check=True
        )
        results.append(json.loads(run.stdout.strip().splitlines()[-1]))
    print(
        "| mode | sgemm GF/s | 256^3 us | config (T,N,I,H) | seq ms | par ms | seq/par "
        "| seq+wake | par+wake | seq/par after wake |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in results:
        if "error" in r:
            print(f"| {r.get('mode')} | {r['error']} |")
            continue
        for row in r["rows"]:
            cfg = f"{row['T']},{row['N']},{row['I']},{row['H']}"
            print(
                f"| {r['mode']} | {r['sgemm_gflops']:.0f} | {r['sgemm_256_us']:.0f} | {cfg} "
                f"| {row['seq']:.2f} | {row['par']:.2f} "
                f"| {row['seq'] / row['par']:.2f} | {row['seq+wake']:.2f} | {row['par+wake']:.2f} "
                f"| {row['seq+wake'] / row['par+wake']:.2f} |"
            )
    if args.out:
        info = {
            "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
            "machine": platform.processor() or platform.machine(),
            "loadavg": os.getloadavg(),
            "results": results,
        }
        tmp = args.out + ".tmp"
        with open(tmp, "w") as f:
            json.dump(info, f, indent=1)
        os.replace(tmp, args.out)  # atomic: a reader never sees half a file
    return 0


if __name__ == "__main__":
    sys.exit(main())
