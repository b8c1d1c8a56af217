"""The measurement behind kernels/backend.py's rule: the compiled loops against the BLAS-product twin.

For each kind, batch N and hidden size H, a one-layer nn module (T = 50, I = 65, float32) runs its
train step (forward + sum(output).backward()) and its inference (forward under no_grad) with the
hand-written compiled loops (backend "numba") and with the step twin that "auto" takes above its
bounds (each step's product in NumPy's BLAS, called from the compiled loops where NumPy's OpenBLAS
is found), in alternating rounds in one process; min over rounds, wall time.

    python benchmarks/backend_rule.py [--rounds 7] [--out benchmarks/results/backend_rule.json]

Prints, as backend.py's docstring tabulates it, twin time / compiled-loop time, train/infer: above 1
the hand-written loops are faster.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

KINDS = ("rnn", "lstm", "gru")
BATCHES = (2, 4, 8, 16, 32)
HIDDEN = (64, 128, 256)


def _time(m, x, xg, deeprnn):
    t0 = time.perf_counter()
    out, _ = m(xg)
    out.sum().backward()
    t1 = time.perf_counter()
    with deeprnn.no_grad():
        m(x)
    return t1 - t0, time.perf_counter() - t1


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--batches", default=",".join(map(str, BATCHES)), help="comma list of N")
    parser.add_argument("--hidden", default=",".join(map(str, HIDDEN)), help="comma list of H")
    parser.add_argument("--kinds", default=",".join(KINDS))
    parser.add_argument("--out", default="benchmarks/results/backend_rule.json")
    args = parser.parse_args(argv)

    import numpy as np

    import deeprnn
    from deeprnn.fileio import atomic_write_text
    from deeprnn.kernels import backend
    from deeprnn.kernels.compiled import _blas

    batches = [int(n) for n in args.batches.split(",")]
    hidden = [int(h) for h in args.hidden.split(",")]
    deeprnn.manual_seed(0)
    classes = {"rnn": deeprnn.nn.RNN, "lstm": deeprnn.nn.LSTM, "gru": deeprnn.nn.GRU}
    rows = []
    max_rows = backend.MAX_ROWS
    for kind in args.kinds.split(","):
        print(f"{kind.upper():5s} N: " + "  ".join(f"{n:<10d}" for n in batches))
        for H in hidden:
            cells = []
            for N in batches:
                m = classes[kind](65, H)
                x, xg = deeprnn.randn(50, N, 65), deeprnn.randn(50, N, 65, requires_grad=True)
                best = {}
                for r in range(args.rounds + 1):  # round 0 warms up
                    for way in ("loops", "twin") if r % 2 else ("twin", "loops"):
                        if way == "loops":
                            backend.set_backend("numba")
                        else:
                            backend.set_backend("auto")
                            backend.MAX_ROWS = 0
                        times = _time(m, x, xg, deeprnn)
                        backend.MAX_ROWS = max_rows
                        if r:
                            old = best.get(way, (np.inf, np.inf))
                            best[way] = tuple(min(a, b) for a, b in zip(old, times))
                backend.set_backend("auto")
                train, infer = (best["twin"][i] / best["loops"][i] for i in (0, 1))
                rows.append(
                    {
                        "kind": kind,
                        "N": N,
                        "H": H,
                        "train_ratio": train,
                        "infer_ratio": infer,
                        "loops_ms": [1e3 * t for t in best["loops"]],
                        "twin_ms": [1e3 * t for t in best["twin"]],
                    }
                )
                cells.append(f"{train:.2f}/{infer:.2f}")
            print(f"H = {H:<4d}   " + "  ".join(cells), flush=True)
    meta = {
        "argv": sys.argv[1:],
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "load_average": os.getloadavg(),
        "rounds": args.rounds,
        "twin_loop": "compiled, NumPy's OpenBLAS" if _blas.available() else "Python",
    }
    if args.out:
        atomic_write_text(args.out, json.dumps({"meta": meta, "rows": rows}, indent=1))
        print(f"# wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
