"""Probe: where a batch-1 forward's time goes, and the floor that one core sets on it.  Prints a table, writes JSON.

The question behind the batch-1 gap to onnxruntime (README, "Against the targets"): at N = 1 each time
step multiplies one row by W_hh^T, (1, H) by (H, G H), so every step streams all of W_hh from the core's
L2 cache for 1 multiply-add per 4 bytes.  Per kind (RNN G = 1, GRU 3, LSTM 4), T = 25, I = 65, H = 200,
float32, median us:

  module      nn.RNN / GRU / LSTM inference under no_grad through the public API
  loop        the compiled time loop alone, timed inside those same calls
  projection  the layer's input projection X W_ih^T, timed inside those same calls (the packed kernel's,
              compiled/_projection.py, where it runs, else NumPy's)
  rest        module - loop - projection: the Python around them, the weight's bit check, the buffers
  product     one step's product alone, the compiled loops' own at batch 1 (product_rows: DOT on W_hh's
              rows where the processor has AVX-512, else HAND), 1000 times in one compiled call: us per
              step, and the GB/s of W_hh
  ort 1, 2    onnxruntime's whole call on 1 and on 2 threads (the same model exported from torch, as
              benchmarks/rnn_speed.py does), when torch and onnxruntime are installed

T x product is the least that the loop can take on one core; onnxruntime's whole call on one thread is
the comparison.  Nothing in the library uses this, and no test asserts it.

    python benchmarks/batch1_anatomy.py --out benchmarks/results/batch1_anatomy_zen4.json
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import sys
import tempfile
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "src"))

import deeprnn  # noqa: E402
from deeprnn.kernels import stack  # noqa: E402
from deeprnn.kernels.compiled import _gemm  # noqa: E402
from deeprnn.kernels.compiled import gru as compiled_gru  # noqa: E402
from deeprnn.kernels.compiled import lstm as compiled_lstm  # noqa: E402
from deeprnn.kernels.compiled import rnn as compiled_rnn  # noqa: E402
from deeprnn.kernels.compiled._jit import jit  # noqa: E402
from deeprnn.kernels.compiled._product import DOT, HAND, NO_PANELS, dot_operands, product_rows  # noqa: E402

KINDS = {"rnn": ("RNN", 1, compiled_rnn), "gru": ("GRU", 3, compiled_gru), "lstm": ("LSTM", 4, compiled_lstm)}
T, I, H = 25, 65, 200
CALLS, WARMUP = 600, 100


@jit
def _repeat_product(acc, x, b, bp, mode, reps):
    """reps times acc (1, M) += x (1, K) b: one step's product, as the time loops run it."""
    K, M = b.shape
    for _ in range(reps):
        product_rows((acc.reshape(-1), M), 0, (x.reshape(-1), K), 0, 1, K, b, bp, mode)


def product_us(G: int) -> tuple[float, str]:
    """us per step of the product that the compiled loops run at batch 1 (best of 3 medians), and its mode:
    DOT on W_hh's own rows where the processor has AVX-512 (compiled/_dot.py), else HAND on W_hh^T."""
    rng = np.random.default_rng(0)
    w = rng.standard_normal((G * H, H)).astype(np.float32)
    if _gemm.enabled():
        mode, (b, bp) = DOT, dot_operands(w)
    else:
        mode, b, bp = HAND, np.ascontiguousarray(w.T), NO_PANELS[w.dtype]
        b.flags.writeable = False
    acc = np.zeros((1, G * H), np.float32)
    x = rng.standard_normal((1, H)).astype(np.float32)
    reps = 1000
    _repeat_product(acc, x, b, bp, mode, 1)
    best = float("inf")
    for _ in range(3):
        ts = []
        for _ in range(7):
            t = time.perf_counter()
            _repeat_product(acc, x, b, bp, mode, reps)
            ts.append(time.perf_counter() - t)
        best = min(best, float(np.median(ts)))
    return best / reps * 1e6, "dot" if mode == DOT else "hand"


class _Timed:
    """Wraps a callable and keeps the duration of each call (seconds)."""

    def __init__(self, fn):
        self.fn, self.times = fn, []

    def __call__(self, *args, **kwargs):
        t = time.perf_counter()
        out = self.fn(*args, **kwargs)
        self.times.append(time.perf_counter() - t)
        return out


class _TimedNumPy:
    """The stack's `np` with its matmul timed: at batch 1 with features, its one matmul is the projection
    where the compiled twin's own (stack._project_compiled, timed too) does not take it."""

    def __init__(self):
        self.matmul = _Timed(np.matmul)

    def __getattr__(self, name):
        return getattr(np, name)


def module_parts(name: str, loops) -> dict:
    """Median us of the whole no_grad call, of the compiled loop and of the projection inside it."""
    loop = _Timed(loops.run_loop)  # the whole loop, or the batch-1 units split (_sync.py) where it is taken
    numpy = _TimedNumPy()
    compiled = _Timed(stack._project_compiled)  # the packed projection (compiled/_projection.py), or False
    loops.run_loop, stack.np, stack._project_compiled = loop, numpy, compiled
    try:
        m = getattr(deeprnn.nn, name)(I, H)
        x = deeprnn.randn(T, 1, I)
        whole = []
        for _ in range(CALLS):
            t = time.perf_counter()
            with deeprnn.no_grad():
                m(x)
            whole.append(time.perf_counter() - t)
    finally:
        loops.run_loop, stack.np, stack._project_compiled = loop.fn, np, compiled.fn
    assert len(loop.times) == len(compiled.times) == CALLS, "one loop and one projection per call"
    assert len(numpy.matmul.times) in (0, CALLS), "the projection in NumPy at every call or at none"
    med = {k: float(np.median(v[WARMUP:]) * 1e6) for k, v in (("module", whole), ("loop", loop.times))}
    projection = np.array(compiled.times) + (np.array(numpy.matmul.times) if numpy.matmul.times else 0.0)
    med["projection"] = float(np.median(projection[WARMUP:]) * 1e6)
    med["rest"] = med["module"] - med["loop"] - med["projection"]
    return med


def ort_us(kind: str) -> dict:
    """onnxruntime's whole call on 1 and 2 threads (median us), or {} when torch or onnxruntime is missing."""
    try:
        import onnxruntime as ort
        import torch  # noqa: F401  the export below needs it
    except ImportError:
        return {}
    sys.path.insert(0, HERE)
    import rnn_speed_workers as workers

    cfg = {"kind": kind, "T": T, "N": 1, "I": I, "H": H, "L": 1, "bi": False, "nonlinearity": "tanh", "key": kind}
    x, _ = workers.make_problem(cfg)
    out = {}
    with tempfile.TemporaryDirectory() as tmp:
        path = workers.export_onnx({"configs": [cfg], "onnx_dir": tmp})[kind]["path"]  # the grid's own export
        for threads in (1, 2):
            so = ort.SessionOptions()
            so.intra_op_num_threads, so.inter_op_num_threads = threads, 1
            so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
            sess = ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])
            ts = []
            for _ in range(CALLS):
                t = time.perf_counter()
                sess.run(None, {"x": x})
                ts.append(time.perf_counter() - t)
            out[f"ort_{threads}_us"] = float(np.median(ts[WARMUP:]) * 1e6)
    return out


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def run_fields(load0) -> dict:
    """When and where a run ran: the date (UTC), the processor, its cores, the load averages at its start and end."""
    return {
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "machine": cpu_model(),
        "cpu_count": os.cpu_count(),
        "loadavg_start_end": [load0, os.getloadavg()],
    }


def write_json(path: str, result: dict) -> None:
    """Write result to path as JSON, atomically (a temporary file, then a rename)."""
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(result, f, indent=1)
    os.replace(tmp, path)
    print(f"# wrote {path}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default="", help="JSON output path ('' to skip)")
    args = ap.parse_args()
    load0 = os.getloadavg()
    print(f"T={T} N=1 I={I} H={H} float32, {cpu_model()}, backend {deeprnn.kernels.get_backend()}; median us")
    print(
        "| kind | module | loop | projection | rest | product/step (mode, GB/s) | T x product | ort 1 thread | ort 2 |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    rows = []
    for kind, (name, G, loops) in KINDS.items():
        step, mode = product_us(G)
        row = {"kind": kind, **module_parts(name, loops), "product_us_per_step": step, "product_mode": mode}
        row["product_gb_per_s"] = H * G * H * 4 / (step * 1e-6) / 1e9
        row.update(ort_us(kind))
        rows.append(row)
        ort1, ort2 = (f"{row[k]:.0f}" if k in row else "-" for k in ("ort_1_us", "ort_2_us"))
        print(
            f"| {kind} | {row['module']:.0f} | {row['loop']:.0f} | {row['projection']:.0f} | {row['rest']:.0f} "
            f"| {step:.2f} ({mode}, {row['product_gb_per_s']:.0f}) | {T * step:.0f} | {ort1} | {ort2} |"
        )
    result = {
        **run_fields(load0),
        "config": {"T": T, "N": 1, "I": I, "H": H, "dtype": "float32", "calls": CALLS, "warmup": WARMUP},
        "rows": rows,
    }
    if args.out:
        write_json(args.out, result)


if __name__ == "__main__":
    main()
