"""How far NumPy's OpenBLAS alone is from torch's oneDNN LSTM at batch 32.  Prints a table and writes JSON.

The LSTM grid's inference at T = 50, N = 32, I = 65, H = 512, two layers, float32, 2 threads, in one
process, in alternating rounds: deeprnn's whole call, torch's whole call, and the two kinds of product
that any NumPy implementation of the layer must run, each alone in OpenBLAS on the same shapes:

  step product   one step's recurrent product, (N x H) by (H x 4H), times the T * L = 100 steps
  projections    the two layers' input projections, (T N x I) by (I x 4H) and (T N x H) by (H x 4H)

If these products alone take longer than torch's whole call, no arrangement of OpenBLAS calls can
reach torch there: the products themselves must get faster (a packed W_hh on both cores).

    python benchmarks/large_batch_split.py --out benchmarks/results/large_batch_split.json
"""

from __future__ import annotations

import argparse
import os
import statistics

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):  # before NumPy and torch load
    os.environ.setdefault(_var, os.environ.get("RNN_SPEED_THREADS", "2"))

import numpy as np  # noqa: E402
from batch1_anatomy import cpu_model, run_fields, write_json  # noqa: E402
from rnn_speed_workers import THREADS, _torch_rnn, deeprnn_runner, make_problem, time_calls  # noqa: E402

CFG = {"kind": "lstm", "T": 50, "N": 32, "I": 65, "H": 512, "L": 2, "bi": False}


def med_ms(fn, reps: int) -> float:
    """Median ms of `reps` calls of fn after 3 warm-up calls."""
    return statistics.median(time_calls(fn, reps, 3, 1e9)) * 1e3


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--out", default="", help="JSON output path ('' to skip)")
    args = ap.parse_args()
    import torch

    torch.set_num_threads(THREADS)
    T, N, I, H, L = (CFG[k] for k in "TNIHL")
    x, weights = make_problem(CFG)
    _, infer = deeprnn_runner(CFG, x, weights)
    rnn, xt = _torch_rnn(CFG, weights), torch.from_numpy(x)

    def torch_infer():
        with torch.no_grad():
            return rnn(xt)

    rng = np.random.default_rng(0)
    h = rng.standard_normal((N, H)).astype(np.float32)
    whh_t = np.ascontiguousarray(weights[0][1].T)  # (H, 4H), the layout of the stack's kept transposes
    step_out = np.empty((N, 4 * H), np.float32)
    gates = np.empty((T * N, 4 * H), np.float32)
    x0, x1 = x.reshape(T * N, I), rng.standard_normal((T * N, H)).astype(np.float32)
    w0, w1 = weights[0][0], weights[1][0]  # (4H, I) and (4H, H)
    big = rng.standard_normal((2000, 2000)).astype(np.float32)
    flops = 2 * T * N * 4 * H * ((I + H) + 2 * H)  # both layers' projections and recurrent products
    load0 = os.getloadavg()
    print(f"LSTM T={T} N={N} I={I} H={H} L={L} float32, {THREADS} threads, {cpu_model()}; median ms")
    print(
        "| round | deeprnn | torch (GFLOP/s) | step product x 100 (GFLOP/s) | projections | products alone "
        "| sgemm 2000^3 |"
    )
    print("|---|---|---|---|---|---|---|")
    rows = []
    for r in range(args.rounds):
        ours, theirs = med_ms(infer, 15), med_ms(torch_infer, 15)
        step = med_ms(lambda: np.matmul(h, whh_t, out=step_out), 300)
        proj = med_ms(lambda: (np.matmul(x0, w0.T, out=gates), np.matmul(x1, w1.T, out=gates)), 10)
        sgemm = 2 * 2000**3 / med_ms(lambda: big @ big, 5) / 1e6
        row = {
            "deeprnn_ms": ours,
            "torch_ms": theirs,
            "torch_gflops": flops / theirs / 1e6,
            "step_product_ms": step,
            "step_product_gflops": 2 * N * H * 4 * H / step / 1e6,
            "projections_ms": proj,
            "products_alone_ms": T * L * step + proj,
            "sgemm_gflops": sgemm,
        }
        rows.append(row)
        print(
            f"| {r} | {ours:.1f} | {theirs:.1f} ({row['torch_gflops']:.0f}) | {T * L * step:.1f} "
            f"({row['step_product_gflops']:.0f}) | {proj:.1f} | {row['products_alone_ms']:.1f} | {sgemm:.0f} |"
        )
    result = {
        **run_fields(load0),
        "threads": THREADS,
        "config": CFG,
        "gflop_per_call": flops / 1e9,
        "rows": rows,
    }
    if args.out:
        write_json(args.out, result)


if __name__ == "__main__":
    main()
