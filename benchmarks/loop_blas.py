"""Paired measurement: the step twin's time loop in Python against the same loop compiled with BLAS.

At batches too large for the hand-written compiled loops, "auto" runs each step's product in NumPy's
BLAS (kernels/backend.py).  This compares, in one process and in alternating rounds, the two ways
of driving those steps: from a Python loop (one np.matmul and one compiled step call per step) and
from one compiled loop that calls the same OpenBLAS GEMM itself (kernels/compiled/_blas.py).  Each
kind's nn module, forward + sum(output).backward() (train) and forward under no_grad (infer).

    python benchmarks/loop_blas.py [--rounds 15] [--out benchmarks/results/loop_blas.json]

Prints a table (ms, median over rounds; x = Python-loop time / compiled-loop time) and writes JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time

CONFIGS = [  # kind, T, N, I, H, layers, bidirectional
    ("rnn", 50, 32, 65, 128, 2, False),
    ("rnn", 50, 32, 65, 512, 2, False),
    ("lstm", 50, 32, 65, 128, 2, False),
    ("lstm", 50, 32, 65, 512, 2, False),
    ("lstm", 50, 32, 65, 256, 2, True),
    ("gru", 50, 32, 65, 128, 2, False),
    ("gru", 50, 32, 65, 512, 2, False),
    ("gru", 50, 32, 65, 256, 2, True),
    ("lstm", 100, 24, 32, 64, 3, False),
]


def _module(nn, kind, I, H, L, bi):
    cls = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}[kind]
    return cls(I, H, num_layers=L, bidirectional=bi)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--out", default="benchmarks/results/loop_blas.json")
    args = parser.parse_args(argv)

    import numpy as np

    import deeprnn
    from deeprnn.fileio import atomic_write_text
    from deeprnn.kernels.blas_library import library_path
    from deeprnn.kernels.compiled import _blas

    if not _blas.available():
        print("NumPy's OpenBLAS was not found: nothing to compare", file=sys.stderr)
        return 1
    deeprnn.manual_seed(0)
    rows = []
    for kind, T, N, I, H, L, bi in CONFIGS:
        m = _module(deeprnn.nn, kind, I, H, L, bi)
        x = deeprnn.randn(T, N, I)
        xg = deeprnn.randn(T, N, I, requires_grad=True)
        times = {(way, mode): [] for way in ("python", "compiled") for mode in ("train", "infer")}
        for r in range(args.rounds + 1):  # round 0 warms up (compiles, sizes buffers)
            for way in ("python", "compiled") if r % 2 else ("compiled", "python"):
                _blas._FOUND = way == "compiled"
                t0 = time.perf_counter()
                out, _ = m(xg)
                out.sum().backward()
                t1 = time.perf_counter()
                with deeprnn.no_grad():
                    m(x)
                t2 = time.perf_counter()
                if r:
                    times[way, "train"].append(t1 - t0)
                    times[way, "infer"].append(t2 - t1)
        _blas._FOUND = True
        med = {k: statistics.median(v) * 1e3 for k, v in times.items()}
        row = {
            "config": f"{kind} T{T} N{N} I{I} H{H} L{L} {'bi' if bi else 'uni'}",
            **{f"{way}_{mode}_ms": med[way, mode] for way, mode in med},
        }
        for mode in ("train", "infer"):
            row[f"{mode}_ratio"] = med["python", mode] / med["compiled", mode]
        rows.append(row)
        print(
            f"| {row['config']} | {med['python', 'train']:.2f} | {med['compiled', 'train']:.2f} | "
            f"{row['train_ratio']:.2f} | {med['python', 'infer']:.2f} | {med['compiled', 'infer']:.2f} | "
            f"{row['infer_ratio']:.2f} |",
            flush=True,
        )
    meta = {
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "cpu": platform.processor() or platform.machine(),
        "load_average": os.getloadavg(),
        "rounds": args.rounds,
        "numpy": np.__version__,
        "blas": library_path(),
    }
    if args.out:
        atomic_write_text(args.out, json.dumps({"meta": meta, "rows": rows}, indent=1))
        print(f"# wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
