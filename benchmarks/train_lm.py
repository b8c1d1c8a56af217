"""Benchmark: train a char-level language model with deeprnn and with PyTorch.

Both libraries train the same model (one-hot -> 2-layer 256-unit tanh RNN, or with
--model lstm|gru an LSTM or a GRU (torch's nn.LSTM / nn.GRU) -> linear head),
from the same initial weights, on the same data and split, with the same contiguous
truncated-BPTT batches (32 streams x 64 steps, hidden state carried), Adam lr 2e-3 and
gradient norm clipping at 5, for the same wall-clock budget each, one after the other,
each in its own process held to the same number of threads (the first evaluation, at
t = 0, also warms both up).  The two processes take turns, one --eval-every slice of
training at a time, so that a machine whose speed drifts (shared cores) treats both alike.  Validation loss (nats/char,
the whole held-out tail, state carried, no dropout) is measured every --eval-every
seconds of *training* time; evaluation time is not counted in the budget.

    python benchmarks/train_lm.py --seconds 300 --text ../shared/data/tinyshakespeare.txt --seed 1 \
        --out benchmarks/results/train_lm_seed1.json
    python benchmarks/train_lm.py --model lstm --seconds 300 --text ../shared/data/tinyshakespeare.txt \
        --seed 1 --out benchmarks/results/train_lm_lstm_seed1.json

prints a table and writes the JSON (default benchmarks/results/train_lm.json).  --seed picks
the initial weights; train_lm_summary.py averages several runs.  Issue 3's targets (reported,
not asserted): deeprnn processes more chars/s than PyTorch, its val loss at equal time is
no higher, and it reaches <= 1.60 nats/char within 5 minutes on 2 cores; issue 11's, the
same for the LSTM and the GRU against torch's nn.LSTM and nn.GRU models.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGET = 1.60


def _parse() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--seconds", type=float, default=300.0, help="training budget per library")
    p.add_argument("--text", default=None, help="text file (default: the embedded shakespeare corpus)")
    p.add_argument("--libs", default="deeprnn,torch", help="comma-separated: deeprnn, torch")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--model", choices=("rnn", "lstm", "gru"), default="rnn", help="the recurrent cell (default: rnn)")
    p.add_argument("--hidden-size", type=int, default=256)
    p.add_argument("--num-layers", type=int, default=2)
    p.add_argument("--seq-len", type=int, default=64)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--lr", type=float, default=2e-3)
    p.add_argument(
        "--lr-decay-to",
        type=float,
        default=1.0,
        help="decay the lr exponentially in *training seconds* to this fraction of --lr at the end of "
        "the budget, the same schedule in time for both libraries (default 1.0: constant, as issue 3 specifies)",
    )
    p.add_argument("--grad-clip", type=float, default=5.0)
    p.add_argument("--val-fraction", type=float, default=0.1)
    p.add_argument("--eval-every", type=float, default=20.0, help="seconds of training between evaluations")
    p.add_argument("--seed", type=int, default=1337)
    p.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "train_lm.json"))
    p.add_argument("--worker", help=argparse.SUPPRESS)
    p.add_argument("--spec", help=argparse.SUPPRESS)
    return p.parse_args()


# ---- the worker: one library, one process ---------------------------------------------------
def _data(spec: dict):
    sys.path.insert(0, str(ROOT / "src"))
    from deeprnn.data import Vocab, load_corpus, read_text, train_val_split

    text = read_text(spec["text"]) if spec["text"] else load_corpus("shakespeare")
    vocab = Vocab.from_text(text, "char")
    ids = vocab.encode_text(text)
    train_ids, val_ids = train_val_split(ids, spec["val_fraction"])
    return vocab, train_ids, val_ids


def _worker(lib: str, spec: dict) -> dict:
    import numpy as np

    sys.path.insert(0, str(ROOT / "src"))
    from deeprnn.data import BPTTBatches

    vocab, train_ids, val_ids = _data(spec)
    V, T, N = len(vocab), spec["seq_len"], spec["batch_size"]
    init = dict(np.load(spec["init"]))
    batches = BPTTBatches(train_ids, N, T)
    val = BPTTBatches(val_ids, N, T)
    if lib == "deeprnn":
        step, evaluate = _deeprnn_fns(spec, V, init)
    else:
        step, evaluate = _torch_fns(spec, V, init)
    budget, every = spec["seconds"], spec["eval_every"]
    trained, iters, tokens, next_eval = 0.0, 0, 0, 0.0
    curve: list[dict] = []
    losses: list[float] = []
    # One slice per "go" line from the driver: train up to the next evaluation point (the
    # first slice only evaluates, which also warms up), evaluate, reply, wait.  The driver
    # alternates the libraries slice by slice, so a machine that slows down for a while
    # slows both alike.
    for command in sys.stdin:
        if command.strip() != "go":
            break
        while trained < next_eval:
            b = batches.next_batch()
            t0 = time.perf_counter()
            lr = spec["lr"] * spec.get("lr_decay_to", 1.0) ** min(trained / budget, 1.0)
            loss = step(b.x, b.y, b.reset, lr)
            trained += time.perf_counter() - t0
            iters += 1
            tokens += b.x.size
            losses.append(loss)
        t0 = time.perf_counter()
        vl = evaluate(val)
        curve.append(
            {
                "seconds": round(trained, 3),
                "iteration": iters,
                "val_loss": vl,
                "eval_seconds": round(time.perf_counter() - t0, 3),
                "load_average_1min": os.getloadavg()[0],
            }
        )
        print(
            f"[{lib}] {trained:7.1f}s  iter {iters:6d}  val {vl:.4f}  {tokens / max(trained, 1e-9):,.0f} chars/s",
            file=sys.stderr,
            flush=True,
        )
        finished = trained >= budget
        next_eval = min(next_eval + every, budget)
        print(json.dumps({"finished": finished}), flush=True)
        if finished:
            break
    reached = next((c for c in curve if c["val_loss"] <= TARGET), None)
    return {
        "library": lib,
        "iterations": iters,
        "train_seconds": trained,
        "chars": tokens,
        "chars_per_sec": tokens / trained,
        "val_curve": curve,
        "final_val_loss": curve[-1]["val_loss"],
        "best_val_loss": min(c["val_loss"] for c in curve),
        "seconds_to_target": None if reached is None else reached["seconds"],
        "train_loss_every_50": losses[::50],
    }


def _deeprnn_fns(spec: dict, V: int, init: dict):
    import numpy as np

    import deeprnn
    from deeprnn.models import RNNLanguageModel

    model = RNNLanguageModel(
        V, spec["hidden_size"], spec["num_layers"], generator=deeprnn.Generator(0), kind=spec["model"]
    )
    model.load_state_dict({k: v.astype(np.float32) for k, v in init.items()})
    return _train_fns(deeprnn, model, spec, V)


def _torch_fns(spec: dict, V: int, init: dict):
    import torch

    torch.set_num_threads(spec["threads"])
    torch.set_num_interop_threads(1)

    cell = {"rnn": torch.nn.RNN, "lstm": torch.nn.LSTM, "gru": torch.nn.GRU}[spec["model"]]

    class LM(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.rnn = cell(V, spec["hidden_size"], spec["num_layers"])
            self.head = torch.nn.Linear(spec["hidden_size"], V)

        def forward(self, ids, h=None):
            out, h_n = self.rnn(torch.nn.functional.one_hot(ids, V).float(), h)
            return self.head(out), h_n

    model = LM()

    model.load_state_dict({k: torch.from_numpy(v).float() for k, v in init.items()})
    return _train_fns(torch, model, spec, V)


def _train_fns(lib, model, spec: dict, V: int):
    """(step, evaluate) for a model of either library: deeprnn's API is torch's, so one code serves both."""
    F = lib.nn.functional
    params = list(model.parameters())
    opt = lib.optim.Adam(params, lr=spec["lr"])
    state = {"h": None}

    def step(x, y, reset, lr):
        h = None if reset else state["h"]
        opt.param_groups[0]["lr"] = lr
        logits, h_n = model(lib.from_numpy(x), h)  # (T, N, V)
        loss = F.cross_entropy(logits.reshape(-1, V), lib.from_numpy(y.reshape(-1)))
        opt.zero_grad()
        loss.backward()
        lib.nn.utils.clip_grad_norm_(params, spec["grad_clip"])
        opt.step()
        state["h"] = tuple(s.detach() for s in h_n) if isinstance(h_n, tuple) else h_n.detach()  # LSTM: (h, c)
        return float(loss.item())

    def evaluate(val):
        model.eval()
        total, n, h = 0.0, 0, None
        with lib.no_grad():
            for k in range(len(val)):
                x, y = val.batch(k)
                logits, h = model(lib.from_numpy(x), h)
                total += float(F.cross_entropy(logits.reshape(-1, V), lib.from_numpy(y.reshape(-1))).item()) * y.size
                n += y.size
        model.train()
        return total / n

    return step, evaluate


# ---- the driver ------------------------------------------------------------------------------
def _thread_env(n: int) -> dict:
    env = dict(os.environ)
    for k in (
        "OMP_NUM_THREADS",
        "OPENBLAS_NUM_THREADS",
        "MKL_NUM_THREADS",
        "NUMEXPR_NUM_THREADS",
        "VECLIB_MAXIMUM_THREADS",
    ):
        env[k] = str(n)
    env["PYTHONPATH"] = str(ROOT / "src") + os.pathsep + env.get("PYTHONPATH", "")
    return env


def main() -> None:
    args = _parse()
    if args.worker:
        spec = json.loads(Path(args.spec).read_text())
        out = _worker(args.worker, spec)
        Path(spec["result"]).write_text(json.dumps(out))
        return

    import numpy as np

    sys.path.insert(0, str(ROOT / "src"))
    import deeprnn
    from deeprnn.models import RNNLanguageModel

    text = str(Path(args.text).resolve()) if args.text else None
    spec = {
        k: getattr(args, k)
        for k in (
            "seconds",
            "threads",
            "model",
            "hidden_size",
            "num_layers",
            "seq_len",
            "batch_size",
            "lr",
            "lr_decay_to",
            "grad_clip",
            "val_fraction",
            "eval_every",
            "seed",
        )
    }
    spec["text"] = text
    vocab, train_ids, val_ids = _data(spec)
    init_model = RNNLanguageModel(
        len(vocab), args.hidden_size, args.num_layers, generator=deeprnn.Generator(args.seed), kind=args.model
    )
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        spec["init"] = str(Path(tmp) / "init.npz")
        np.savez(spec["init"], **{k: v.data for k, v in init_model.state_dict().items()})
        libs = args.libs.split(",")
        procs = {}
        for lib in libs:
            lib_spec = {**spec, "result": str(Path(tmp) / f"{lib}.json")}
            spec_path = Path(tmp) / f"spec_{lib}.json"
            spec_path.write_text(json.dumps(lib_spec))
            procs[lib] = subprocess.Popen(
                [sys.executable, __file__, "--worker", lib, "--spec", str(spec_path)],
                env=_thread_env(args.threads),
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
            )
        print(
            f"== {', '.join(libs)}: {args.seconds:.0f} s of training each on {args.threads} threads, "
            f"interleaved in slices of {args.eval_every:.0f} s",
            file=sys.stderr,
        )
        try:
            running = list(libs)
            for round_no in itertools.count():
                if not running:
                    break
                for lib in list(running) if round_no % 2 == 0 else running[::-1]:  # alternate who goes first
                    proc = procs[lib]
                    proc.stdin.write("go\n")
                    proc.stdin.flush()
                    reply = proc.stdout.readline()
                    if not reply:
                        raise RuntimeError(f"the {lib} worker died (exit code {proc.wait()})")
                    if json.loads(reply)["finished"]:
                        running.remove(lib)
                    time.sleep(0.5)  # let the idle worker's BLAS/OpenMP threads stop spinning
            for lib in libs:
                procs[lib].stdin.close()
                if procs[lib].wait() != 0:
                    raise RuntimeError(f"the {lib} worker failed with exit code {procs[lib].returncode}")
                results[lib] = json.loads(Path(tmp, f"{lib}.json").read_text())
        finally:
            for proc in procs.values():
                if proc.poll() is None:
                    proc.kill()

    import torch

    name = {"rnn": "tanh RNN", "lstm": "LSTM", "gru": "GRU"}[args.model]
    report = {
        "benchmark": "train_lm",
        "issue": 3 if args.model == "rnn" else 11,
        "config": {
            **{k: v for k, v in spec.items() if k not in ("init", "result")},
            "kind": args.model,
            "model": f"one-hot -> {args.num_layers}x{args.hidden_size} {name} -> linear, Adam",
            "vocab_size": len(vocab),
            "train_chars": int(len(train_ids)),
            "val_chars": int(len(val_ids)),
            "text": text or "embedded shakespeare corpus",
        },
        "machine": {
            "python": platform.python_version(),
            "numpy": np.__version__,
            "torch": torch.__version__,
            "cpu": platform.processor() or platform.machine(),
            "cpus": os.cpu_count(),
            "load_average_at_end": os.getloadavg(),
        },
        "results": results,
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(report, indent=1))

    libs = list(results)
    print(
        f"\nval loss (nats/char) vs training time, {args.threads} threads, "
        f"{args.num_layers}x{args.hidden_size} {name}, batch {args.batch_size}x{args.seq_len}"
    )
    # Every library evaluates at the same nominal points (k * --eval-every, and the budget):
    # row k is each library's k-th evaluation, a few milliseconds (one step) past that point.
    print("  seconds  " + "  ".join(f"{lib:>9}" for lib in libs))
    for k in range(max(len(r["val_curve"]) for r in results.values())):
        row = [r["val_curve"][k]["val_loss"] if k < len(r["val_curve"]) else None for r in results.values()]
        nominal = min(k * args.eval_every, args.seconds)
        print(f"  {nominal:7.0f}  " + "  ".join(f"{v:9.4f}" if v is not None else f"{'-':>9}" for v in row))
    print("\n  library     chars/s   iterations  final val  best val  time to <= 1.60")
    for lib in libs:
        r = results[lib]
        reach = "never" if r["seconds_to_target"] is None else f"{r['seconds_to_target']:.0f} s"
        print(
            f"  {lib:8} {r['chars_per_sec']:10,.0f} {r['iterations']:12d} {r['final_val_loss']:10.4f} "
            f"{r['best_val_loss']:9.4f}  {reach}"
        )
    if "deeprnn" in results and "torch" in results:
        a, b = results["deeprnn"], results["torch"]
        print(f"\n  deeprnn / torch throughput: {a['chars_per_sec'] / b['chars_per_sec']:.2f}x")
    print(f"\nwrote {args.out}")


if __name__ == "__main__":
    main()
