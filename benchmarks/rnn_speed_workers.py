"""Per-library timing workers for benchmarks/rnn_speed.py (one process per library per round).

Run as:  python benchmarks/rnn_speed_workers.py LIB SPEC_JSON
where LIB is one of deeprnn, torch, jax, ort, onnx-export, peak, and SPEC_JSON is a
file written by rnn_speed.py.  The worker prints one JSON object on its last stdout line.

Every library gets the same float32 problem (same x, same weights drawn like
nn.RNN's init) and the same 2 threads: the parent sets OMP/OPENBLAS/MKL_NUM_THREADS
and XLA_FLAGS in the environment; torch.set_num_threads and onnxruntime's
intra_op_num_threads are set here.
"""

from __future__ import annotations

import json
import os
import sys
import time

import numpy as np

THREADS = int(os.environ.get("RNN_SPEED_THREADS", "2"))


# ----------------------------------------------------------------------------- problem
def make_problem(cfg):
    """x (T, N, I) and the L*D weight tuples (w_ih, w_hh, b_ih, b_hh), float32, seeded by the config."""
    T, N, I, H, L, bi = cfg["T"], cfg["N"], cfg["I"], cfg["H"], cfg["L"], cfg["bi"]
    D = 2 if bi else 1
    rng = np.random.default_rng(1234 + T * 7 + N * 13 + H * 17 + L)
    k = 1.0 / np.sqrt(H)
    weights = []
    for layer in range(L):
        in_l = I if layer == 0 else D * H
        for _ in range(D):
            weights.append(tuple(rng.uniform(-k, k, s).astype(np.float32) for s in [(H, in_l), (H, H), (H,), (H,)]))
    x = rng.standard_normal((T, N, I)).astype(np.float32)
    return x, weights


def time_calls(fn, reps, warmup, budget_s):
    """Call fn warmup times, then up to `reps` timed calls (stopping early past budget_s); seconds."""
    for _ in range(warmup):
        fn()
    times = []
    start = time.perf_counter()
    for _ in range(reps):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
        if len(times) >= 3 and time.perf_counter() - start > budget_s:
            break
    return times


# ----------------------------------------------------------------------------- deeprnn
def deeprnn_runner(cfg, x, weights):
    """(train_step, inference) for deeprnn, through the public API, exactly as the torch runner.

    train_step: deeprnn.nn.RNN forward + sum(output).backward(), gradients of the input and
    every parameter (the module records one graph node; its backward is the BPTT kernel).
    inference:  the same forward under deeprnn.no_grad() (the kernels' lean path).
    """
    import deeprnn

    D = 2 if cfg["bi"] else 1
    rnn = deeprnn.nn.RNN(
        cfg["I"], cfg["H"], num_layers=cfg["L"], nonlinearity=cfg["nonlinearity"], bidirectional=cfg["bi"]
    )
    state = {}
    for i, (w_ih, w_hh, b_ih, b_hh) in enumerate(weights):
        sfx = f"l{i // D}" + ("_reverse" if i % D else "")
        state.update(
            {"weight_ih_" + sfx: w_ih, "weight_hh_" + sfx: w_hh, "bias_ih_" + sfx: b_ih, "bias_hh_" + sfx: b_hh}
        )
    rnn.load_state_dict(state)
    xt = deeprnn.from_numpy(x).requires_grad_(True)
    params = list(rnn.parameters())

    def train_step():
        for p in params:
            p.grad = None
        xt.grad = None
        out, _ = rnn(xt)
        out.sum().backward()

    def inference():
        with deeprnn.no_grad():
            return rnn(xt)

    return train_step, inference


def peak_extra_memory(fn):
    """Peak bytes newly allocated (NumPy reports its buffers to tracemalloc) during one call of fn."""
    import gc
    import tracemalloc

    gc.collect()
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        result = fn()
        peak = tracemalloc.get_traced_memory()[1]
        del result
    finally:
        tracemalloc.stop()
    return peak - base


def run_deeprnn(spec):
    res = {}
    for cfg in spec["configs"]:
        x, weights = make_problem(cfg)
        train, infer = deeprnn_runner(cfg, x, weights)
        entry = {
            "train_s": time_calls(train, spec["reps"], spec["warmup"], spec["budget_s"]),
            "infer_s": time_calls(infer, spec["reps"], spec["warmup"], spec["budget_s"]),
        }
        if spec.get("memory"):
            entry["train_peak_extra_bytes"] = peak_extra_memory(train)
            entry["infer_peak_extra_bytes"] = peak_extra_memory(infer)
        res[cfg["key"]] = entry
    return res


# ----------------------------------------------------------------------------- torch
def _torch_rnn(cfg, weights):
    import torch

    rnn = torch.nn.RNN(
        cfg["I"], cfg["H"], num_layers=cfg["L"], nonlinearity=cfg["nonlinearity"], bidirectional=cfg["bi"]
    )
    D = 2 if cfg["bi"] else 1
    with torch.no_grad():
        for i, (w_ih, w_hh, b_ih, b_hh) in enumerate(weights):
            sfx = f"l{i // D}" + ("_reverse" if i % D else "")
            getattr(rnn, "weight_ih_" + sfx).copy_(torch.from_numpy(w_ih))
            getattr(rnn, "weight_hh_" + sfx).copy_(torch.from_numpy(w_hh))
            getattr(rnn, "bias_ih_" + sfx).copy_(torch.from_numpy(b_ih))
            getattr(rnn, "bias_hh_" + sfx).copy_(torch.from_numpy(b_hh))
    return rnn


def run_torch(spec):
    import torch

    torch.set_num_threads(THREADS)
    res = {}
    for cfg in spec["configs"]:
        x, weights = make_problem(cfg)
        rnn = _torch_rnn(cfg, weights)
        xt = torch.from_numpy(x).requires_grad_(True)
        params = list(rnn.parameters())

        def train():
            for p in params:
                p.grad = None
            xt.grad = None
            out, _ = rnn(xt)
            out.sum().backward()

        def infer():
            with torch.no_grad():
                return rnn(xt)

        res[cfg["key"]] = {
            "train_s": time_calls(train, spec["reps"], spec["warmup"], spec["budget_s"]),
            "infer_s": time_calls(infer, spec["reps"], spec["warmup"], spec["budget_s"]),
        }
    return res


def export_onnx(spec):
    """Export each config's torch nn.RNN to ONNX (legacy exporter: a native ONNX RNN op)."""
    import warnings

    import torch

    torch.set_num_threads(THREADS)
    res = {}
    for cfg in spec["configs"]:
        x, weights = make_problem(cfg)
        rnn = _torch_rnn(cfg, weights)
        path = os.path.join(spec["onnx_dir"], cfg["key"] + ".onnx")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                torch.onnx.export(
                    rnn,
                    (torch.from_numpy(x),),
                    path,
                    input_names=["x"],
                    output_names=["out", "h_n"],
                    dynamo=False,
                    opset_version=17,
                )
                exporter = "torchscript (dynamo=False)"
            except Exception:  # pragma: no cover - depends on the torch build
                torch.onnx.export(
                    rnn, (torch.from_numpy(x),), path, input_names=["x"], output_names=["out", "h_n"], dynamo=True
                )
                exporter = "dynamo"
        res[cfg["key"]] = {"path": path, "exporter": exporter}
    return res


def run_ort(spec):
    import onnxruntime as ort

    so = ort.SessionOptions()
    so.intra_op_num_threads = THREADS
    so.inter_op_num_threads = 1
    so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    res = {}
    for cfg in spec["configs"]:
        path = os.path.join(spec["onnx_dir"], cfg["key"] + ".onnx")
        if not os.path.exists(path):
            continue
        x, _ = make_problem(cfg)
        sess = ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])
        name = sess.get_inputs()[0].name

        def infer():
            return sess.run(None, {name: x})

        res[cfg["key"]] = {"infer_s": time_calls(infer, spec["reps"], spec["warmup"], spec["budget_s"])}
    return res


# ----------------------------------------------------------------------------- jax
def run_jax(spec):
    import jax

    if spec.get("jax_cache_dir"):
        jax.config.update("jax_compilation_cache_dir", spec["jax_cache_dir"])
        jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
    import jax.numpy as jnp
    from jax import lax

    def forward(params, x, cfg):
        L, D = cfg["L"], 2 if cfg["bi"] else 1
        act = jnp.tanh if cfg["nonlinearity"] == "tanh" else jax.nn.relu
        layer_in = x
        for layer in range(L):
            outs = []
            for d in range(D):
                w_ih, w_hh, b_ih, b_hh = params[layer * D + d]
                proj = layer_in @ w_ih.T + (b_ih + b_hh)  # (T, N, H) all steps at once

                def step(h, a, w_hh=w_hh):
                    h = act(a + h @ w_hh.T)
                    return h, h

                h0 = jnp.zeros((x.shape[1], w_hh.shape[0]), x.dtype)
                _, ys = lax.scan(step, h0, proj, reverse=(d == 1))
                outs.append(ys)
            layer_in = outs[0] if D == 1 else jnp.concatenate(outs, axis=-1)
        return layer_in

    res = {}
    for cfg in spec["configs"]:
        x_np, weights = make_problem(cfg)
        params = [tuple(jnp.asarray(a) for a in w) for w in weights]
        x = jnp.asarray(x_np)

        def loss(params, x, cfg=cfg):
            return jnp.sum(forward(params, x, cfg))

        grad_fn = jax.jit(jax.grad(loss, argnums=(0, 1)))
        fwd_fn = jax.jit(lambda p, x, cfg=cfg: forward(p, x, cfg))

        def train():
            return jax.block_until_ready(grad_fn(params, x))

        def infer():
            return jax.block_until_ready(fwd_fn(params, x))

        res[cfg["key"]] = {
            "train_s": time_calls(train, spec["reps"], spec["warmup"], spec["budget_s"]),
            "infer_s": time_calls(infer, spec["reps"], spec["warmup"], spec["budget_s"]),
        }
    return res


# ----------------------------------------------------------------------------- matmul peak
def run_peak(spec):
    """Large float32 GEMM throughput with NumPy at the benchmark's thread count (GFLOP/s)."""
    n = spec.get("peak_n", 4096)
    rng = np.random.default_rng(0)
    a = rng.standard_normal((n, n)).astype(np.float32)
    b = rng.standard_normal((n, n)).astype(np.float32)
    c = np.empty((n, n), np.float32)
    times = time_calls(lambda: np.matmul(a, b, out=c), spec.get("peak_reps", 7), 2, 30.0)
    return {"n": n, "gflops": [2 * n**3 / t / 1e9 for t in times]}


RUNNERS = {
    "deeprnn": run_deeprnn,
    "torch": run_torch,
    "jax": run_jax,
    "ort": run_ort,
    "onnx-export": export_onnx,
    "peak": run_peak,
}


def main():
    lib, spec_path = sys.argv[1], sys.argv[2]
    with open(spec_path) as f:
        spec = json.load(f)
    if spec.get("src_path"):
        sys.path.insert(0, spec["src_path"])
    result = RUNNERS[lib](spec)
    sys.stdout.write("\n" + json.dumps(result) + "\n")


if __name__ == "__main__":
    main()
