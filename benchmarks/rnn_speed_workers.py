"""Per-library timing workers for benchmarks/rnn_speed.py (one process per library per round).

Run as:  python benchmarks/rnn_speed_workers.py LIB SPEC_JSON
where LIB is one of deeprnn (its NumPy path), deeprnn-fast (the compiled loops where the backend's
rule takes them), deeprnn-numba (the compiled loops everywhere), first-call, torch, jax, ort,
onnx-export, peak, and SPEC_JSON is a
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
GATES = {"rnn": 1, "lstm": 4, "gru": 3}
MODULE = {"rnn": "RNN", "lstm": "LSTM", "gru": "GRU"}


def make_problem(cfg):
    """x (T, N, I) and the L*D weight tuples (w_ih, w_hh, b_ih, b_hh), float32, seeded by the config.

    Shapes as torch's: (G*H, I_l), (G*H, H), (G*H,), (G*H,) with G = 1 (RNN), 4 (LSTM, gates i f g o)
    or 3 (GRU, gates r z n); drawn like their init, U(-1/sqrt(H), 1/sqrt(H)).
    """
    T, N, I, H, L, bi = cfg["T"], cfg["N"], cfg["I"], cfg["H"], cfg["L"], cfg["bi"]
    G = GATES[cfg["kind"]]
    D = 2 if bi else 1
    rng = np.random.default_rng(1234 + T * 7 + N * 13 + H * 17 + L + 1000 * G)
    k = 1.0 / np.sqrt(H)
    weights = []
    for layer in range(L):
        in_l = I if layer == 0 else D * H
        for _ in range(D):
            shapes = [(G * H, in_l), (G * H, H), (G * H,), (G * H,)]
            weights.append(tuple(rng.uniform(-k, k, s).astype(np.float32) for s in shapes))
    x = rng.standard_normal((T, N, I)).astype(np.float32)
    return x, weights


def module_kwargs(cfg):
    """The constructor arguments of nn.RNN / nn.LSTM / nn.GRU for this config (the same in deeprnn and torch)."""
    kw = {"num_layers": cfg["L"], "bidirectional": cfg["bi"]}
    if cfg["kind"] == "rnn":
        kw["nonlinearity"] = cfg["nonlinearity"]
    return kw


def state_dict_of(cfg, weights):
    """torch's parameter names for the kernels' weight tuples: weight_ih_l0, ..., bias_hh_l1_reverse."""
    D = 2 if cfg["bi"] else 1
    state = {}
    for i, (w_ih, w_hh, b_ih, b_hh) in enumerate(weights):
        sfx = f"l{i // D}" + ("_reverse" if i % D else "")
        state.update(
            {"weight_ih_" + sfx: w_ih, "weight_hh_" + sfx: w_hh, "bias_ih_" + sfx: b_ih, "bias_hh_" + sfx: b_hh}
        )
    return state


def first_output(result):
    """output of (output, h_n) or (output, (h_n, c_n))."""
    return result[0]


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

    train_step: deeprnn.nn.RNN (LSTM, GRU) forward + sum(output).backward(), gradients of the input and
    every parameter (the module records one graph node; its backward is the BPTT kernel).
    inference:  the same forward under deeprnn.no_grad() (the kernels' lean path).
    """
    import deeprnn

    rnn = getattr(deeprnn.nn, MODULE[cfg["kind"]])(cfg["I"], cfg["H"], **module_kwargs(cfg))
    rnn.load_state_dict(state_dict_of(cfg, weights))
    xt = deeprnn.from_numpy(x).requires_grad_(True)
    params = list(rnn.parameters())

    def train_step():
        for p in params:
            p.grad = None
        xt.grad = None
        first_output(rnn(xt)).sum().backward()

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
    import deeprnn

    res = {}
    for cfg in spec["configs"]:
        if not hasattr(deeprnn.nn, MODULE[cfg["kind"]]):
            continue  # a kind deeprnn does not have yet
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

    rnn = getattr(torch.nn, MODULE[cfg["kind"]])(cfg["I"], cfg["H"], **module_kwargs(cfg))
    rnn.load_state_dict({k: torch.from_numpy(v) for k, v in state_dict_of(cfg, weights).items()})
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
            first_output(rnn(xt)).sum().backward()

        def infer():
            with torch.no_grad():
                return rnn(xt)

        res[cfg["key"]] = {
            "train_s": time_calls(train, spec["reps"], spec["warmup"], spec["budget_s"]),
            "infer_s": time_calls(infer, spec["reps"], spec["warmup"], spec["budget_s"]),
        }
    return res


def export_onnx(spec):
    """Export each config's torch nn.RNN / LSTM / GRU to ONNX (legacy exporter: a native ONNX RNN/LSTM/GRU op)."""
    import warnings

    import torch

    torch.set_num_threads(THREADS)
    res = {}
    for cfg in spec["configs"]:
        x, weights = make_problem(cfg)
        rnn = _torch_rnn(cfg, weights)
        path = os.path.join(spec["onnx_dir"], cfg["key"] + ".onnx")
        names = ["out", "h_n", "c_n"] if cfg["kind"] == "lstm" else ["out", "h_n"]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                torch.onnx.export(
                    rnn,
                    (torch.from_numpy(x),),
                    path,
                    input_names=["x"],
                    output_names=names,
                    dynamo=False,
                    opset_version=17,
                )
                exporter = "torchscript (dynamo=False)"
            except Exception:  # pragma: no cover - depends on the torch build
                torch.onnx.export(rnn, (torch.from_numpy(x),), path, input_names=["x"], output_names=names, dynamo=True)
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

    def rnn_step(act):
        def step(h, a, w_hh):
            h = act(a + h @ w_hh.T)
            return h, h

        return step

    def lstm_step(hc, a, w_hh):
        h, c = hc
        z = a + h @ w_hh.T  # (N, 4H): gates i, f, g, o as torch
        i, f, g, o = jnp.split(z, 4, axis=-1)
        c = jax.nn.sigmoid(f) * c + jax.nn.sigmoid(i) * jnp.tanh(g)
        h = jax.nn.sigmoid(o) * jnp.tanh(c)
        return (h, c), h

    def gru_step(w_b):
        def step(h, a, w_hh):
            a_r, a_z, a_n = jnp.split(a, 3, axis=-1)  # x W_ih^T + b_ih
            g_r, g_z, g_n = jnp.split(h @ w_hh.T + w_b, 3, axis=-1)  # h W_hh^T + b_hh
            r = jax.nn.sigmoid(a_r + g_r)
            z = jax.nn.sigmoid(a_z + g_z)
            n = jnp.tanh(a_n + r * g_n)
            h = (1 - z) * n + z * h
            return h, h

        return step

    def forward(params, x, cfg):
        L, D, kind = cfg["L"], 2 if cfg["bi"] else 1, cfg["kind"]
        act = jnp.tanh if cfg.get("nonlinearity") == "tanh" else jax.nn.relu
        layer_in = x
        for layer in range(L):
            outs = []
            for d in range(D):
                w_ih, w_hh, b_ih, b_hh = params[layer * D + d]
                H = w_hh.shape[1]
                N = x.shape[1]
                if kind == "gru":  # b_hh stays inside the step: r multiplies (W_hn h + b_hn)
                    proj = layer_in @ w_ih.T + b_ih
                    step, carry = gru_step(b_hh), jnp.zeros((N, H), x.dtype)
                else:  # both biases fold into the all-steps input projection
                    proj = layer_in @ w_ih.T + (b_ih + b_hh)
                    if kind == "lstm":
                        step, carry = lstm_step, (jnp.zeros((N, H), x.dtype), jnp.zeros((N, H), x.dtype))
                    else:
                        step, carry = rnn_step(act), jnp.zeros((N, H), x.dtype)
                _, ys = lax.scan(lambda c, a, step=step, w_hh=w_hh: step(c, a, w_hh), carry, proj, reverse=(d == 1))
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
    return {"n": n, "gflops": [2 * n**3 / t / 1e9 for t in times], "blas": blas_kernels()}


def blas_kernels():
    """NumPy's BLAS and the kernels it runs on this CPU, e.g. 'openblas 0.3.31 SkylakeX' (threadpoolctl)."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return None
    for info in threadpool_info():
        if info.get("user_api") == "blas":
            return f"{info.get('internal_api')} {info.get('version')} {info.get('architecture')}"
    return None


def run_first_call(spec):
    """The first and second train step of a small problem per kind, in this fresh process (ms).

    Run with DEEPRNN_KERNELS=numba and a NUMBA_CACHE_DIR that is empty (compile) or filled by an
    earlier run (load); numba_import_ms is the import of numba itself, part of the first call.
    """
    import deeprnn

    res = {}
    t = time.perf_counter()
    import numba  # noqa: F401  (timed: the first compiled call pays it)

    import_ms = (time.perf_counter() - t) * 1e3
    for kind in spec["kinds"]:
        if not hasattr(deeprnn.nn, MODULE[kind]):
            res[kind] = None
            continue
        cfg = {"kind": kind, "T": 25, "N": 1, "I": 65, "H": 64, "L": 1, "bi": False, "nonlinearity": "tanh"}
        train, _ = deeprnn_runner(cfg, *make_problem(cfg))
        t = time.perf_counter()
        train()
        first = time.perf_counter() - t
        t = time.perf_counter()
        train()
        second = time.perf_counter() - t
        res[kind] = {"first_ms": first * 1e3 + import_ms, "second_ms": second * 1e3, "numba_import_ms": import_ms}
        import_ms = 0.0  # paid once per process
    return res


# The DEEPRNN_KERNELS that each of deeprnn's paths runs under.
BACKEND = {"deeprnn": "numpy", "deeprnn-fast": "auto", "deeprnn-numba": "numba"}

RUNNERS = {
    "deeprnn": run_deeprnn,
    "deeprnn-fast": run_deeprnn,
    "deeprnn-numba": run_deeprnn,
    "first-call": run_first_call,
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
    if lib in BACKEND:
        os.environ["DEEPRNN_KERNELS"] = BACKEND[lib]  # read by deeprnn at its first recurrent call
    result = RUNNERS[lib](spec)
    sys.stdout.write("\n" + json.dumps(result) + "\n")


if __name__ == "__main__":
    main()
