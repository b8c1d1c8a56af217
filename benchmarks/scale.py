"""Benchmark issue 14: data-parallel training over MPI, corpora larger than memory, and the cost model.

    python benchmarks/scale.py train --text ../shared/data/tinyshakespeare.txt --iters 3000
    python benchmarks/scale.py loader --mb 200 1000 --loaders in-memory,mapped
    python benchmarks/scale.py model

``train``: the default language model (one-hot, a 2 x 128 GRU, batch 32 x 64, Adam 2e-3, clip 5)
trained for ``--iters`` steps three ways on this machine, each in fresh processes: one process
with 1 BLAS thread (k1), two processes under ``mpiexec -n 2`` with 1 BLAS thread each and the
same global batch (k2), and one process with 2 BLAS threads (k1t2).  Reports tokens/s and the
validation loss against training time (the trainer's history: seconds of training steps).

``loader``: a generated ASCII text of each size (``--mb``), loaded by the in-memory path that
``deeprnn train`` used before issue 14 (read_text, Vocab.from_text, encode_text, BPTTBatches)
and by the memory-mapped corpus (encode_corpus, MappedBPTTBatches), first run and cached run,
each in its own process: the peak RSS (``VmHWM``, the interpreter and NumPy included; the
``baseline`` row is a process that only imports) and the time until the first batch is ready.

``model``: the ring Allreduce's cost per step, ``2 (K-1)/K * bytes / bandwidth + 2 (K-1) * latency``,
for the project's parameter counts, against the step's compute time divided by K (see
docs/scaling.md).  Pure arithmetic: it measures nothing.

Each command prints a table and writes JSON to benchmarks/results/ (``--out``).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
MODEL: dict = {}  # train: the language model's defaults (a 2 x 128 GRU)


def _machine() -> dict:
    import numpy as np

    return {
        "python": platform.python_version(),
        "numpy": np.__version__,
        "cpu": platform.processor() or platform.machine(),
        "cores": os.cpu_count(),
        "load_average_1min": os.getloadavg()[0],
        "date": time.strftime("%Y-%m-%d %H:%M"),
    }


def _write(out: str, payload: dict) -> None:
    path = Path(out)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(payload, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {path}")


# ---- train: K = 1, K = 2, one process with 2 threads ------------------------------------------------
CONFIGS = {  # name -> (processes, BLAS threads per process)
    "k1": (1, 1),
    "k2": (2, 1),
    "k1t2": (1, 2),
}


def _train_worker(spec: dict) -> None:
    """One training run (one process, or one of K under mpiexec); rank 0 prints the JSON result."""
    from deeprnn.data import load_corpus, read_text
    from deeprnn.distributed import init_world
    from deeprnn.models import ModelConfig, TrainConfig, train

    comm = init_world()
    text = read_text(spec["text"]) if spec["text"] else load_corpus("shakespeare")
    config = TrainConfig(
        model=ModelConfig(**MODEL),
        seq_len=64,
        batch_size=32,
        lr=2e-3,
        grad_clip=5.0,
        iters=spec["iters"],
        eval_every=spec["eval_every"],
        eval_batches=None,
        val_fraction=0.1,
        sample_every=10**9,
        checkpoint_dir=None,
        seed=spec["seed"],
    )
    result = train(config, text, quiet=True, comm=comm)
    if comm.is_root:
        h = result.history
        print(
            json.dumps(
                {
                    "processes": comm.size,
                    "iterations": result.iteration,
                    "train_seconds": result.elapsed,
                    "tokens_per_sec": result.tokens_per_sec,
                    "val": [
                        {"iteration": i, "seconds": t, "loss": v} for i, t, v in zip(h.val_iter, h.val_time, h.val_loss)
                    ],
                }
            ),
            flush=True,
        )


def cmd_train(args: argparse.Namespace) -> None:
    spec = {"text": args.text, "iters": args.iters, "eval_every": args.eval_every, "seed": args.seed}
    runs = {}
    for name in args.configs.split(","):
        procs, threads = CONFIGS[name]
        env = {**os.environ, "OPENBLAS_NUM_THREADS": str(threads), "OMP_NUM_THREADS": str(threads)}
        env["MKL_NUM_THREADS"] = str(threads)
        cmd = [sys.executable, __file__, "_train", json.dumps(spec)]
        if procs > 1:
            mpiexec = Path(sys.executable).parent / "mpiexec"
            cmd = [str(mpiexec if mpiexec.exists() else "mpiexec"), "-n", str(procs), *cmd]
        print(f"{name}: {' '.join(cmd[:4])} ...", flush=True)
        out = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True).stdout
        runs[name] = json.loads(out.strip().splitlines()[-1])
    print()
    print("| run | processes x BLAS threads | iterations | train s | tokens/s | val loss: first | last |")
    print("|---|---|---|---|---|---|---|")
    for name, r in runs.items():
        procs, threads = CONFIGS[name]
        v = r["val"]
        print(
            f"| {name} | {procs} x {threads} | {r['iterations']} | {r['train_seconds']:.1f} | "
            f"{r['tokens_per_sec']:,.0f} | {v[0]['loss']:.4f} | {v[-1]['loss']:.4f} |"
        )
    print("\nvalidation loss against training time:")
    for name, r in runs.items():
        print(f"  {name}: " + ", ".join(f"{p['seconds']:.0f}s {p['loss']:.3f}" for p in r["val"]))
    _write(args.out, {"machine": _machine(), "spec": spec, "configs": CONFIGS, "runs": runs})


# ---- loader: peak memory and start-up time ---------------------------------------------------------------
def _generate(path: Path, mb: float) -> None:
    """An ASCII text of ``mb`` MiB: pseudo-random lines over 64 characters, reproducible."""
    import numpy as np

    if path.exists() and path.stat().st_size == int(mb * (1 << 20)):
        return
    rng = np.random.default_rng(0)
    alphabet = np.frombuffer(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ .,;:!?'-\n\n\n\n", np.uint8)
    left = int(mb * (1 << 20))
    with open(path, "wb") as fh:
        while left:
            n = min(left, 1 << 24)
            fh.write(alphabet[rng.integers(0, alphabet.size, n)].tobytes())
            left -= n


def _load_worker(kind: str, path: str, cache: str) -> None:
    """Load ``path`` the ``kind`` way up to the first batch; print seconds, peak RSS and tokens."""
    t0 = time.perf_counter()
    from deeprnn.data import BPTTBatches, MappedBPTTBatches, Vocab, encode_corpus, read_text, train_val_split

    t_import = time.perf_counter() - t0
    t0 = time.perf_counter()
    n = 0
    if kind == "in-memory":  # what deeprnn train did before issue 14
        text = read_text(path)
        vocab = Vocab.from_text(text, "char")
        ids = vocab.encode_text(text)
        train_ids, _ = train_val_split(ids, 0.05)
        BPTTBatches(train_ids, 32, 64).batch(0)
        n = len(ids)
    elif kind in ("mapped", "mapped-cached"):
        tm = encode_corpus(path, cache_dir=cache)
        train_ids, _ = train_val_split(tm.ids, 0.05)
        MappedBPTTBatches(train_ids, 32, 64).batch(0)
        n = len(tm)
    seconds = time.perf_counter() - t0
    status = _status_mib()
    print(
        json.dumps(
            {
                "seconds": seconds,
                "import_seconds": t_import,
                "peak_rss_mib": status.get("VmHWM", resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
                "rss_anon_mib": status.get("RssAnon"),  # at the first batch: the process's own memory
                "rss_file_mib": status.get("RssFile"),  # at the first batch: file pages mapped (the ids map)
                "tokens": n,
            }
        )
    )


def _status_mib() -> dict[str, float]:
    """VmHWM (the peak resident set; ru_maxrss would keep the parent's from before exec), RssAnon
    and RssFile of this process, in MiB, from /proc/self/status (empty where there is none)."""
    out = {}
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            key, _, value = line.partition(":")
            if key in ("VmHWM", "RssAnon", "RssFile"):
                out[key] = int(value.split()[0]) / 1024
    except OSError:
        pass
    return out


def cmd_loader(args: argparse.Namespace) -> None:
    work = Path(args.workdir or tempfile.mkdtemp(prefix="deeprnn-scale-"))
    work.mkdir(parents=True, exist_ok=True)
    rows = []
    for mb in args.mb:
        text = work / f"text-{mb:g}MiB.txt"
        _generate(text, mb)
        cache = work / f"cache-{mb:g}"
        kinds = ["baseline"] + [k for k in args.loaders.split(",") if k]
        if "mapped" in kinds:
            kinds.insert(kinds.index("mapped") + 1, "mapped-cached")
            subprocess.run(["rm", "-rf", str(cache)], check=True)
        for kind in kinds:
            out = subprocess.run(
                [sys.executable, __file__, "_load", kind, str(text), str(cache)], capture_output=True, text=True
            )
            if out.returncode != 0:
                rows.append({"mib": mb, "loader": kind, "error": out.stderr.strip().splitlines()[-1:]})
                print(f"{mb:g} MiB {kind}: failed: {rows[-1]['error']}", flush=True)
                continue
            rows.append({"mib": mb, "loader": kind, **json.loads(out.stdout)})
            print(f"{mb:g} MiB {kind}: {rows[-1]}", flush=True)
    print()
    print("| text | loader | start-up s | peak RSS MiB | peak RSS / text | at the first batch: anon MiB | file MiB |")
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        if "error" in r:
            print(f"| {r['mib']:g} MiB | {r['loader']} | failed | | | | |")
            continue
        print(
            f"| {r['mib']:g} MiB | {r['loader']} | {r['seconds']:.2f} | {r['peak_rss_mib']:,.0f} | "
            f"{r['peak_rss_mib'] / r['mib']:.2f} | {r['rss_anon_mib'] or 0:,.0f} | {r['rss_file_mib'] or 0:,.0f} |"
        )
    _write(args.out, {"machine": _machine(), "rows": rows})


# ---- model: the Allreduce on paper ----------------------------------------------------------------------------
# (name, vocabulary V, hidden H, layers L, embedding E or None for one-hot input)
NETWORKS = [
    ("former default char model, 2 x 256 tanh RNN", 65, 256, 2, None),
    ("char-rnn large, 3 x 512", 65, 512, 3, None),
    ("2 x 1024", 65, 1024, 2, None),
    ("word level, V=30k, E=256, 2 x 512", 30000, 512, 2, 256),
]
# (link, bits/s, latency s): one machine's shared memory (assumed 5 GB/s per process pair), Ethernet, InfiniBand
LINKS = [("shared memory", 40e9, 1e-6), ("10 GbE", 10e9, 30e-6), ("100 Gb InfiniBand", 100e9, 2e-6)]


def allreduce_seconds(nbytes: float, k: int, bits_per_s: float, latency: float) -> float:
    """Ring Allreduce: 2(K-1)/K of the buffer crosses each link, in 2(K-1) latency-bound steps."""
    if k == 1:
        return 0.0
    return 2 * (k - 1) / k * nbytes * 8 / bits_per_s + 2 * (k - 1) * latency


def cmd_model(args: argparse.Namespace) -> None:
    from deeprnn.models import ModelConfig, RNNLanguageModel

    rows = []
    print(f"step compute time at K = 1: {args.step_ms:g} ms for the first model (scaled by FLOPs for the others)")
    base = None
    for name, V, H, L, E in NETWORKS:
        # Elman RNNs, as docs/scaling.md tabulates them (an LSTM or a GRU sends 4 or 3 times the recurrent weights)
        cfg = ModelConfig(vocab_size=V, hidden_size=H, num_layers=L, embedding_dim=E, kind="rnn")
        numel = RNNLanguageModel.parameter_numel(cfg)
        nbytes = 4 * (numel + RNNLanguageModel.parameter_count(cfg) + 2)  # float32 + flags + 2 scalars
        # FLOPs per token scale with the parameters that take part in products: all but the rows
        # that are looked up (one-hot layer-0 input weights, or the embedding table)
        flops = numel - (V * H if E is None else V * E)
        base = base or flops
        step = args.step_ms / 1e3 * flops / base
        for link, bw, lat in LINKS:
            for k in (1, 2, 4, 8, 16, 32):
                comm = allreduce_seconds(nbytes, k, bw, lat)
                t = step / k + comm
                rows.append(
                    dict(
                        network=name,
                        params=numel,
                        mib=nbytes / 2**20,
                        link=link,
                        k=k,
                        step_s=step / k,
                        allreduce_s=comm,
                        speedup=step / t,
                    )  # fmt: skip
                )
    print("| network | parameters | MiB per Allreduce | link | K=2 | K=4 | K=8 | K=16 | K=32 |")
    print("|---|---|---|---|---|---|---|---|---|")
    key = lambda r: (r["network"], r["link"])  # noqa: E731
    for (name, link), group in _groups(rows, key):
        g = {r["k"]: r for r in group}
        cells = " | ".join(f"{g[k]['speedup']:.1f}x ({g[k]['allreduce_s'] * 1e3:.2f} ms)" for k in (2, 4, 8, 16, 32))
        print(f"| {name} | {g[1]['params']:,} | {g[1]['mib']:.2f} | {link} | {cells} |")
    _write(args.out, {"step_ms_default": args.step_ms, "links": LINKS, "rows": rows})


def _groups(rows: list, key) -> list:
    out: dict = {}
    for r in rows:
        out.setdefault(key(r), []).append(r)
    return list(out.items())


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "_train":
        return _train_worker(json.loads(sys.argv[2]))
    if len(sys.argv) > 1 and sys.argv[1] == "_load":
        return _load_worker(*sys.argv[2:5])
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="command", required=True)
    t = sub.add_parser("train", help="throughput and val loss vs time: K=1, K=2, one process with 2 threads")
    t.add_argument("--text", default=None, help="text file (default: the embedded shakespeare corpus)")
    t.add_argument("--iters", type=int, default=3000)
    t.add_argument("--eval-every", type=int, default=250, help="iterations between validations")
    t.add_argument("--seed", type=int, default=1)
    t.add_argument("--configs", default="k1,k2,k1t2")
    t.add_argument("--out", default=str(RESULTS / "scale_train.json"))
    t.set_defaults(run=cmd_train)
    ld = sub.add_parser("loader", help="peak memory and start-up time of the loaders")
    ld.add_argument("--mb", type=float, nargs="+", default=[200.0], help="text sizes in MiB")
    ld.add_argument("--loaders", default="in-memory,mapped")
    ld.add_argument("--workdir", default=None, help="where the texts and caches go (default: a temporary dir)")
    ld.add_argument("--out", default=str(RESULTS / "scale_loader.json"))
    ld.set_defaults(run=cmd_loader)
    m = sub.add_parser("model", help="the Allreduce cost model on paper")
    m.add_argument("--step-ms", type=float, default=26.0, help="one step of the default model at K=1 (README)")
    m.add_argument("--out", default=str(RESULTS / "scale_model.json"))
    m.set_defaults(run=cmd_model)
    args = p.parse_args()
    args.run(args)


if __name__ == "__main__":
    main()
