"""Speed benchmark of deeprnn's RNN, LSTM and GRU against torch, JAX and onnxruntime on CPU (float32).

    python benchmarks/rnn_speed.py                  # full grid for every kind, interleaved rounds (long)
    python benchmarks/rnn_speed.py --kinds lstm,gru # the LSTM and GRU grids only
    python benchmarks/rnn_speed.py --quick          # smoke run: few configs, one round
    python benchmarks/rnn_speed.py --paths numpy    # deeprnn's NumPy path only (no numba needed)

deeprnn runs on each of its paths (--paths): "numpy" (DEEPRNN_KERNELS=numpy, the path without the
fast extra) and "fast" (DEEPRNN_KERNELS=auto with numba installed: the compiled loops where
kernels/backend.py's rule takes them, NumPy elsewhere); "numba" forces the compiled loops everywhere.
The fast path's first-call cost is measured apart: a fresh process runs one train step per kind
with an empty numba cache (compile) and a second one with that cache filled (load), each against
the same process's second call.

Method: each library runs in its own subprocess, one per library per round, and the
rounds interleave the libraries (the order rotates every round) so that a noisy
neighbour or thermal drift hits every library alike.  Every process is held to the
same thread count (default 2): OMP/OPENBLAS/MKL_NUM_THREADS and XLA_FLAGS in the
environment, torch.set_num_threads, onnxruntime's intra_op_num_threads.  Times are
medians over all rounds' samples.  A ratio is peer_time / deeprnn_time, deeprnn's time being its
last path in --paths (the fast path by default): above 1 means deeprnn is faster.

Measured per config (kind, T, N, I, H, layers, bidirectional, and the RNN's nonlinearity); every kind
runs the same (T, N, I, H, layers, directions) grid:
  train  - forward + backward of sum(output), with the gradients of every parameter
           and of the input (torch: nn.RNN + .backward(); JAX: jit(grad) of a
           lax.scan RNN; deeprnn: see deeprnn_runner in rnn_speed_workers.py)
  infer  - forward only (torch under no_grad, JAX jit, onnxruntime on the model that
           torch.onnx exports, deeprnn on its lean need_cache=False path)
  GFLOP/s of deeprnn's train step (matrix-product FLOPs) against NumPy's large-sgemm peak,
  and its peak extra memory (tracemalloc of NumPy allocations) against the size of
  the saved activations T*N*H*4 bytes per layer-direction.

NumPy's OpenBLAS picks its kernels by CPU when it loads, unless OPENBLAS_CORETYPE names them; torch
(MKL, oneDNN), JAX (XLA) and onnxruntime (MLAS) choose their own and ignore that variable.  An environment
that sets OPENBLAS_CORETYPE=Haswell on an AVX-512 processor therefore holds deeprnn alone to AVX2 kernels
(on the Zen 5 of 2026-12-02: sgemm 204 GFLOP/s on 2 threads instead of 370).  --openblas-coretype
inherit (the default) keeps the caller's environment, auto removes the variable so that OpenBLAS detects
the CPU, NAME sets it; the kernels OpenBLAS ran are printed with every round's peak and kept in the JSON.

Nothing here is asserted: this script reports; tests never call it.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
WORKER = os.path.join(HERE, "rnn_speed_workers.py")
DEFAULT_OUT = os.path.join(HERE, "results", "rnn_speed.json")

# (T, N, I, H, layers, bidirectional); the RNN runs each with tanh and with relu, LSTM and GRU once.
GRID = [
    (25, 1, 65, 200, 1, False),
    (100, 1, 65, 100, 1, False),
    (50, 32, 65, 128, 2, False),
    (50, 32, 65, 512, 2, False),
    (200, 64, 128, 1024, 1, False),
    (50, 32, 65, 256, 2, True),
    (100, 16, 32, 64, 3, False),
]
QUICK_GRID = [(25, 1, 65, 200, 1, False), (50, 32, 65, 128, 2, False), (50, 32, 65, 256, 2, True)]


KINDS = ("rnn", "lstm", "gru")
# deeprnn's paths: the worker's library name and the DEEPRNN_KERNELS it runs under.
PATHS = {"numpy": "deeprnn", "fast": "deeprnn-fast", "numba": "deeprnn-numba"}
GATES = {"rnn": 1, "lstm": 4, "gru": 3}


def config_list(grid, nonlinearities, kinds=KINDS):
    """One dict per (kind, nonlinearity, grid row); RNN keys keep their old form (T25_..._uni_tanh)."""
    out = []
    for kind in kinds:
        for nl in nonlinearities if kind == "rnn" else [None]:
            for T, N, I, H, L, bi in grid:
                key = f"T{T}_N{N}_I{I}_H{H}_L{L}_{'bi' if bi else 'uni'}_{nl if kind == 'rnn' else kind}"
                cfg = {"key": key, "kind": kind, "T": T, "N": N, "I": I, "H": H, "L": L, "bi": bi, "nonlinearity": nl}
                out.append(cfg)
    return out


def matrix_flops(cfg, train=True):
    """Matrix-product FLOPs of one train step (train=True) or one inference (False).

    Per layer-direction, G gates (1, 4 or 3), I_l the layer's input features:
      forward   X W_ih^T (2 TN I_l GH) and h_prev W_hh^T (2 TN H GH)
      backward  dX and dW_ih (2 x 2 TN I_l GH), the carried dh and dW_hh (2 x 2 TN H GH)
    so a train step is G (6 TN I_l H + 6 TN H H) and an inference a third of that.
    (Until 2026-12-02 the recurrent part of a train step was counted as 8 TN H GH, a third too many:
    the GFLOP/s and % of peak reported before then were too high; --render recomputes them.)
    """
    T, N, I, H, L = cfg["T"], cfg["N"], cfg["I"], cfg["H"], cfg["L"]
    G = GATES[cfg["kind"]]
    D = 2 if cfg["bi"] else 1
    per_product = 6 if train else 2
    total = 0
    for layer in range(L):
        in_l = I if layer == 0 else D * H
        total += D * G * per_product * T * N * H * (in_l + H)
    return total


def saved_activation_bytes(cfg):
    """The layers' outputs h_t, T*N*H float32 per layer-direction (what an RNN must keep; gates come on top)."""
    return cfg["L"] * (2 if cfg["bi"] else 1) * cfg["T"] * cfg["N"] * cfg["H"] * 4


def thread_env(threads):
    env = dict(os.environ)
    for var in (
        "OMP_NUM_THREADS",
        "OPENBLAS_NUM_THREADS",
        "MKL_NUM_THREADS",
        "NUMEXPR_NUM_THREADS",
        "VECLIB_MAXIMUM_THREADS",
    ):
        env[var] = str(threads)
    env["RNN_SPEED_THREADS"] = str(threads)
    env["XLA_FLAGS"] = (
        env.get("XLA_FLAGS", "") + f" --xla_cpu_multi_thread_eigen=true intra_op_parallelism_threads={threads}"
    ).strip()
    env["JAX_PLATFORMS"] = "cpu"
    env["TF_CPP_MIN_LOG_LEVEL"] = "3"
    env["PYTHONWARNINGS"] = "ignore"
    return env


def run_worker(lib, spec, workdir, env, timeout):
    path = os.path.join(workdir, f"spec_{lib}.json")
    with open(path, "w") as f:
        json.dump(spec, f)
    proc = subprocess.run([sys.executable, WORKER, lib, path], env=env, capture_output=True, text=True, timeout=timeout)
    if proc.returncode != 0:
        raise RuntimeError(f"{lib} worker failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def available(module):
    import importlib.util

    return importlib.util.find_spec(module) is not None


def versions():
    out = {"python": platform.python_version()}
    for mod in ("numpy", "torch", "jax", "jaxlib", "onnxruntime", "onnx"):
        try:
            from importlib.metadata import version

            out[mod] = version(mod)
        except Exception:
            out[mod] = None
    try:
        import numpy as np

        cfg = np.show_config(mode="dicts")
        out["numpy_blas"] = (
            cfg["Build Dependencies"]["blas"].get("name") + " " + str(cfg["Build Dependencies"]["blas"].get("version"))
        )
    except Exception:
        pass
    return out


def machine():
    cpu = None
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mem = None
    try:
        with open("/proc/meminfo") as f:
            mem_kb = int(f.readline().split()[1])
            mem = round(mem_kb / 1024 / 1024, 1)
    except (OSError, ValueError, IndexError):
        pass
    return {"nproc": os.cpu_count(), "cpu_model": cpu, "mem_gib": mem, "platform": platform.platform()}


def loadavg():
    """The 1/5/15-minute load averages: other processes competing for the cores skew every timing."""
    try:
        with open("/proc/loadavg") as f:
            return [float(v) for v in f.read().split()[:3]]
    except (OSError, ValueError):
        return None


def med_ms(samples):
    return statistics.median(samples) * 1e3 if samples else None


def min_ms(samples):
    """The fastest sample: less sensitive than the median to other processes on a shared machine."""
    return min(samples) * 1e3 if samples else None


def fmt(v, nd=2):
    return "–" if v is None else f"{v:.{nd}f}"


def derive(rows, libs, peak_gflops, kinds):
    """Fill in every row's derived numbers from its measured times, and return the summary.

    Per row: each library's ratio (peer time / the reference deeprnn path's time); deeprnn's train
    GFLOP/s and % of the sgemm peak; and for each peer and mode the ratio bound: the largest ratio
    that ANY implementation could reach against that peer on this machine if its matrix products ran
    at the sgemm peak and nothing else took time, peak_gflops / (matrix FLOPs / peer time).  A target
    ratio above the bound is out of reach of every design, not only of deeprnn's.
    """
    for row in rows:
        cfg = row["config"]
        ours = [lib for lib in libs if lib.startswith("deeprnn")]
        if not ours:
            continue
        ref = ours[-1]  # the ratios compare the peers with deeprnn's last path (the fast one by default)
        row["ratio_against"] = ref
        for lib in libs:
            for k in ("train", "infer"):
                peer, mine = row[lib][f"{k}_ms"], row[ref][f"{k}_ms"]
                if lib != ref:
                    row[lib][f"{k}_ratio"] = peer / mine if (peer and mine) else None
                if not lib.startswith("deeprnn"):
                    flops = matrix_flops(cfg, train=k == "train")
                    row[lib][f"{k}_ratio_bound"] = peak_gflops * peer / 1e3 / (flops / 1e9) if peer else None
        for lib in ours:
            d = row[lib]
            flops = matrix_flops(cfg)
            d["train_gflops"] = flops / (d["train_ms"] / 1e3) / 1e9 if d["train_ms"] else None
            d["train_pct_of_peak"] = 100 * d["train_gflops"] / peak_gflops if d["train_gflops"] else None
            d["train_gflop"] = flops / 1e9
    summary = {}
    for kind in kinds:
        kind_rows = [r for r in rows if r["config"]["kind"] == kind]
        for lib in libs:
            if kind_rows and lib == kind_rows[0].get("ratio_against"):
                continue
            for k in ("train", "infer"):
                ratios = [r[lib].get(f"{k}_ratio") for r in kind_rows if r[lib].get(f"{k}_ratio")]
                if ratios:
                    summary[f"{kind}_{lib}_{k}_ratio_median"] = statistics.median(ratios)
                    summary[f"{kind}_{lib}_{k}_ratio_min"] = min(ratios)
                    summary[f"{kind}_{lib}_{k}_configs_not_slower"] = sum(x >= 1 for x in ratios)
                    summary[f"{kind}_{lib}_{k}_configs"] = len(ratios)
                bounds = [r[lib].get(f"{k}_ratio_bound") for r in kind_rows if r[lib].get(f"{k}_ratio_bound")]
                if bounds:
                    summary[f"{kind}_{lib}_{k}_ratio_median_bound"] = statistics.median(bounds)
    return summary


def render(path, out=None):
    """Print the tables and the summary of a stored result file, its derived numbers recomputed from
    its measured times with this script's formulas; with out, write the file so updated there."""
    with open(path) as f:
        doc = json.load(f)
    rows, libs, peak = doc["results"], doc["libraries"], doc["matmul_peak_gflops"]
    kinds = [k for k in KINDS if any(r["config"]["kind"] == k for r in rows)]
    doc["summary"] = derive(rows, libs, peak, kinds)
    for kind in kinds:
        print_table([r for r in rows if r["config"]["kind"] == kind], libs, peak, doc["threads"], kind)
    print()
    print_summary(doc["summary"])
    if out:
        doc["derived_by"] = f"rnn_speed.py --render, {datetime.date.today().isoformat()}"
        with open(out, "w") as f:
            json.dump(doc, f, indent=1)
        print(f"\n# wrote {out}")


def print_summary(summary):
    for k, v in summary.items():
        print(f"- {k}: {v:.3g}" if isinstance(v, float) else f"- {k}: {v}")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="smoke run: 3 configs x tanh, 1 round")
    ap.add_argument("--rounds", type=int, default=None, help="interleaved rounds (default 5, quick 1)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--libs", default="deeprnn,torch,jax,ort", help="comma list among deeprnn,torch,jax,ort")
    ap.add_argument(
        "--paths", default=None, help="deeprnn's paths, comma list among numpy,fast,numba (default numpy,fast)"
    )
    ap.add_argument("--out", default=DEFAULT_OUT, help="JSON output path ('' to skip)")
    ap.add_argument("--kinds", default="rnn,lstm,gru", help="comma list among rnn,lstm,gru")
    ap.add_argument("--only", default="", help="keep the configs whose key contains this text, e.g. N1_ or relu")
    ap.add_argument(
        "--openblas-coretype",
        default="inherit",
        help="NumPy's OpenBLAS kernels in every worker: inherit (the environment's), auto (detected), or a name",
    )
    ap.add_argument(
        "--render", default="", metavar="JSON", help="measure nothing: print a stored result file (and --out it)"
    )
    args = ap.parse_args(argv)
    if args.render:
        render(args.render, args.out if args.out != DEFAULT_OUT else None)
        return

    rounds = args.rounds or (1 if args.quick else 5)
    kinds = [k.strip() for k in args.kinds.split(",") if k.strip()]
    if not kinds or any(k not in KINDS for k in kinds):
        ap.error(f"--kinds takes a comma list among {', '.join(KINDS)}, got {args.kinds!r}")
    configs = config_list(QUICK_GRID, ["tanh"], kinds) if args.quick else config_list(GRID, ["tanh", "relu"], kinds)
    configs = [c for c in configs if args.only in c["key"]]
    if not configs:
        ap.error(f"--only {args.only!r} matches no configuration")
    wanted = [s.strip() for s in args.libs.split(",") if s.strip()]
    paths = [p.strip() for p in (args.paths or "numpy,fast").split(",") if p.strip()]
    if not paths or any(p not in PATHS for p in paths):
        ap.error(f"--paths takes a comma list among {', '.join(PATHS)}, got {args.paths!r}")
    if any(p != "numpy" for p in paths) and not available("numba"):
        if args.paths:
            ap.error("--paths fast/numba needs numba: pip install -e '.[fast]'")
        print("# numba not installed: deeprnn runs its NumPy path only", file=sys.stderr)
        paths = ["numpy"]
    libs = []
    for lib in wanted:
        if lib == "deeprnn":
            libs += [PATHS[p] for p in paths]
            continue
        need = {"torch": "torch", "jax": "jax", "ort": "onnxruntime"}[lib]
        if lib == "ort" and not (available("onnxruntime") and available("onnx") and available("torch")):
            print("# onnxruntime/onnx/torch not installed: skipping onnxruntime", file=sys.stderr)
            continue
        if not available(need):
            print(f"# {need} not installed: skipping {lib}", file=sys.stderr)
            continue
        libs.append(lib)

    env = thread_env(args.threads)
    if args.openblas_coretype == "auto":
        env.pop("OPENBLAS_CORETYPE", None)
    elif args.openblas_coretype != "inherit":
        env["OPENBLAS_CORETYPE"] = args.openblas_coretype
    coretype_env = env.get("OPENBLAS_CORETYPE")
    load_start = loadavg()
    workdir = tempfile.mkdtemp(prefix="rnn_speed_")
    base = {
        "configs": configs,
        "src_path": os.path.join(ROOT, "src"),
        "reps": 5 if args.quick else 15,
        "warmup": 2,
        "budget_s": 0.5 if args.quick else 1.5,
        "onnx_dir": workdir,
        "jax_cache_dir": os.path.join(workdir, "jax_cache"),
    }
    timeout = 1800
    samples = {lib: {c["key"]: {"train_s": [], "infer_s": []} for c in configs} for lib in libs}
    mem = {}
    onnx_exporter = None
    compile_times = None
    try:
        # The matmul peak is measured at the start of every round and the best is kept, so
        # that one round disturbed by other processes does not deflate it.
        peak_spec = {"peak_n": 2048 if args.quick else 4096}
        peaks = []
        round_loads = []
        blas = None
        if "ort" in libs:
            exported = run_worker("onnx-export", base, workdir, env, timeout)
            onnx_exporter = sorted({v["exporter"] for v in exported.values()})
        if any(lib != "deeprnn" and lib.startswith("deeprnn") for lib in libs):
            compile_times = first_call_times(kinds, base, workdir, env, timeout)
        for r in range(rounds):
            peak = run_worker("peak", peak_spec, workdir, env, timeout)
            peaks.append(max(peak["gflops"]))
            round_loads.append(loadavg())
            blas = peak.get("blas")
            print(
                f"# round {r + 1}: float32 matmul ({peak['n']}^3 sgemm, {args.threads} threads): "
                f"{peaks[-1]:.1f} GFLOP/s; NumPy's BLAS: {blas} (OPENBLAS_CORETYPE={coretype_env or 'unset'})",
                flush=True,
            )
            order = libs[r % len(libs) :] + libs[: r % len(libs)]
            for lib in order:
                spec = dict(base, memory=(lib.startswith("deeprnn") and r == 0))
                res = run_worker(lib, spec, workdir, env, timeout)
                for key, entry in res.items():
                    for k in ("train_s", "infer_s"):
                        samples[lib][key][k].extend(entry.get(k, []))
                    if "train_peak_extra_bytes" in entry:
                        mem.setdefault(lib, {})[key] = entry
                print(f"# round {r + 1}/{rounds}: {lib} done", flush=True)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)

    peak_gflops = max(peaks)
    rows = []
    for cfg in configs:
        key = cfg["key"]
        row = {"config": {k: cfg[k] for k in ("kind", "T", "N", "I", "H", "L", "bi", "nonlinearity")}, "key": key}
        for lib in libs:
            row[lib] = {
                "train_ms": med_ms(samples[lib][key]["train_s"]),
                "infer_ms": med_ms(samples[lib][key]["infer_s"]),
                "train_min_ms": min_ms(samples[lib][key]["train_s"]),
                "infer_min_ms": min_ms(samples[lib][key]["infer_s"]),
                "n_train": len(samples[lib][key]["train_s"]),
                "n_infer": len(samples[lib][key]["infer_s"]),
            }
        for lib in libs:
            if key in mem.get(lib, {}):
                row[lib]["train_peak_extra_bytes"] = mem[lib][key]["train_peak_extra_bytes"]
                row[lib]["infer_peak_extra_bytes"] = mem[lib][key]["infer_peak_extra_bytes"]
                row[lib]["saved_activation_bytes"] = saved_activation_bytes(cfg)
        rows.append(row)

    summary = derive(rows, libs, peak_gflops, kinds)

    for kind in kinds:
        print_table([r for r in rows if r["config"]["kind"] == kind], libs, peak_gflops, args.threads, kind)
    if compile_times:
        print_compile_times(compile_times)
    print(f"load average at start {load_start}, at end {loadavg()} (on {os.cpu_count()} cores)")
    print()
    print_summary(summary)

    if args.out:
        os.makedirs(os.path.dirname(args.out), exist_ok=True)
        doc = {
            "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
            "command": " ".join([os.path.basename(sys.argv[0])] + (argv if argv is not None else sys.argv[1:])),
            "machine": machine(),
            "versions": versions(),
            "threads": args.threads,
            "rounds": rounds,
            "dtype": "float32",
            "matmul_peak_gflops": peak_gflops,
            "numpy_blas_kernels": blas,
            "openblas_coretype_env": coretype_env,
            "matmul_peak_gflops_per_round": peaks,
            "loadavg_per_round": round_loads,
            "loadavg_start_end": [load_start, loadavg()],
            "onnx_exporter": onnx_exporter,
            "libraries": libs,
            "ratio_definition": "peer_ms / deeprnn_ms of the row's ratio_against path (above 1: deeprnn faster)",
            "deeprnn_paths": {PATHS[p]: p for p in paths},
            "first_call": compile_times,
            "results": rows,
            "summary": summary,
        }
        with open(args.out, "w") as f:
            json.dump(doc, f, indent=1)
        print(f"\n# wrote {args.out}")


LABEL = {"deeprnn": "numpy", "deeprnn-fast": "fast", "deeprnn-numba": "numba"}


def config_name(c, kind):
    """A table's first cell: T,N,I,H,L,dir (and the RNN's nonlinearity)."""
    name = f"{c['T']},{c['N']},{c['I']},{c['H']},{c['L']},{'bi' if c['bi'] else 'uni'}"
    return name + f",{c['nonlinearity']}" if kind == "rnn" else name


def print_table(rows, libs, peak_gflops, threads, kind="rnn"):
    title = {"rnn": "Elman RNN", "lstm": "LSTM", "gru": "GRU"}[kind]
    ours = [lib for lib in libs if lib.startswith("deeprnn")]
    ref = LABEL[ours[-1]] if ours else "deeprnn"
    print(f"\n### {title}, float32, {threads} threads; times in ms (median); x = peer / deeprnn {ref}\n")
    head = ["config (T,N,I,H,L,dir,act)" if kind == "rnn" else "config (T,N,I,H,L,dir)"]
    for mode, peers in (("train", ("torch", "jax")), ("infer", ("torch", "jax", "ort"))):
        head += [f"{LABEL[lib]} {mode}" for lib in ours]
        for lib in libs:
            if lib in ours and lib != ours[-1]:
                head += [f"x {LABEL[lib]}"]  # this path's time / the reference path's
            elif lib in peers:
                head += [f"{lib} {mode}", "x"]
    head += ["GFLOP/s (% peak)", "peak extra MB / saved MB"]
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    for r in rows:
        cells = [config_name(r["config"], kind)]
        for mode, peers in (("train", ("torch", "jax")), ("infer", ("torch", "jax", "ort"))):
            cells += [fmt(r[lib].get(f"{mode}_ms")) for lib in ours]
            for lib in libs:
                if lib in ours and lib != ours[-1]:
                    cells += [fmt(r[lib].get(f"{mode}_ratio"))]
                elif lib in peers:
                    cells += [fmt(r[lib][f"{mode}_ms"]), fmt(r[lib].get(f"{mode}_ratio"))]
        d = r.get(ours[-1], {}) if ours else {}
        g = d.get("train_gflops")
        cells += [f"{g:.1f} ({d['train_pct_of_peak']:.0f}%)" if g else "–"]
        if "train_peak_extra_bytes" in d:
            cells += [f"{d['train_peak_extra_bytes'] / 2**20:.2f} / {d['saved_activation_bytes'] / 2**20:.2f}"]
        else:
            cells += ["–"]
        print("| " + " | ".join(cells) + " |")
    print(f"\nfloat32 sgemm peak: {peak_gflops:.1f} GFLOP/s")
    print_bounds(rows, libs, kind)


def print_bounds(rows, libs, kind):
    """The ratio bounds of derive(): the most any implementation could reach against each peer."""
    peers = [lib for lib in libs if not lib.startswith("deeprnn")]
    if not peers:
        return
    print(f"\nRatio bounds ({kind}): peer time over the time of the matrix products alone at the sgemm peak\n")
    modes = [(lib, k) for lib in peers for k in ("train", "infer") if not (lib == "ort" and k == "train")]
    head = ["config"] + [f"{lib} {k}" for lib, k in modes]
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    for r in rows:
        cells = [config_name(r["config"], kind)] + [fmt(r[lib].get(f"{k}_ratio_bound")) for lib, k in modes]
        print("| " + " | ".join(cells) + " |")


def first_call_times(kinds, base, workdir, env, timeout):
    """The fast path's first train step per kind, in fresh processes: numba cache empty, then filled.

    Returns {"cold": {kind: entry}, "cached": {kind: entry}}, entry = the worker's first_ms,
    second_ms and numba_import_ms (None for a kind deeprnn does not have yet).
    """
    cache = os.path.join(workdir, "numba_cache")
    env = dict(env, NUMBA_CACHE_DIR=cache, DEEPRNN_KERNELS="numba")
    spec = dict(base, kinds=list(kinds))
    return {state: run_worker("first-call", spec, workdir, env, timeout) for state in ("cold", "cached")}


def print_compile_times(times):
    print("\n### deeprnn fast path: the first train step of a process (T=25, N=1, I=65, H=64, 1 layer)\n")
    print("| kind | numba cache | first call ms | second call ms | of which numba import ms |")
    print("|---|---|---|---|---|")
    for state in ("cold", "cached"):
        for kind, e in times[state].items():
            if e is None:
                print(f"| {kind} | {state} | – | – | – |")
                continue
            print(f"| {kind} | {state} | {e['first_ms']:.0f} | {e['second_ms']:.2f} | {e['numba_import_ms']:.0f} |")


if __name__ == "__main__":
    main()
