"""Sampling speed of the language model at batch 1: characters per second, deeprnn's paths against torch.

    python benchmarks/sample_speed.py                 # 2 x 256 tanh, one-hot input, V = 65, 5 rounds
    python benchmarks/sample_speed.py --quick         # smoke run: 1 round, short texts

Each library samples `--length` characters after a 4-character prime, at temperature 0.8, from the
same weights: deeprnn's RNNLanguageModel.sample on its NumPy path (DEEPRNN_KERNELS=numpy) and on its
fast path (DEEPRNN_KERNELS=auto with numba: kernels/compiled/sample.py), and torch 2.13 with the
char-rnn loop (one-hot -> nn.RNN -> nn.Linear per character, softmax and torch.multinomial under
no_grad).  As in rnn_speed.py, each library runs in its own process per round, the rounds interleave
the libraries, and every process is held to the same thread count.  Reported: the median chars/s
over all samples.  Nothing is asserted.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
from rnn_speed import available, loadavg, thread_env, versions  # noqa: E402

LIBS = {"deeprnn-numpy": "numpy", "deeprnn-fast": "auto", "torch": None}


def _model(cfg):
    import numpy as np

    import deeprnn
    from deeprnn.data import Vocab
    from deeprnn.models import RNNLanguageModel

    vocab = Vocab.from_text("".join(chr(32 + i) for i in range(cfg["V"])), "char")
    model = RNNLanguageModel(
        len(vocab), cfg["H"], cfg["L"], vocab=vocab, dtype=np.float32, generator=deeprnn.Generator(0)
    )
    return model, vocab


def worker(lib, cfg):
    """Time `reps` samples of cfg['length'] chars; returns a list of chars/s."""
    if lib.startswith("deeprnn"):
        os.environ["DEEPRNN_KERNELS"] = LIBS[lib]
        sys.path.insert(0, os.path.join(ROOT, "src"))
    model, vocab = _model(cfg)
    prime = vocab.decode_text(list(range(4)))
    if lib.startswith("deeprnn"):

        def run():
            model.sample(prime, cfg["length"], temperature=0.8, seed=1)

    else:
        import numpy as np
        import torch

        torch.set_num_threads(int(os.environ.get("RNN_SPEED_THREADS", "2")))
        rnn = torch.nn.RNN(cfg["V"], cfg["H"], cfg["L"])
        head = torch.nn.Linear(cfg["H"], cfg["V"])
        state = {k: torch.from_numpy(np.array(v.detach().numpy())) for k, v in model.state_dict().items()}
        rnn.load_state_dict({k[4:]: v for k, v in state.items() if k.startswith("rnn.")})
        head.load_state_dict({k[5:]: v for k, v in state.items() if k.startswith("head.")})
        gen = torch.Generator().manual_seed(1)
        ids = torch.tensor(vocab.encode(prime))

        def run():
            with torch.no_grad():
                x = torch.nn.functional.one_hot(ids, cfg["V"]).float()[:, None]  # (P, 1, V)
                out, h = rnn(x)
                logits = head(out[-1, 0])
                for _ in range(cfg["length"]):
                    p = torch.softmax(logits / 0.8, dim=-1)
                    tok = torch.multinomial(p, 1, generator=gen)
                    x = torch.nn.functional.one_hot(tok, cfg["V"]).float()[None]  # (1, 1, V)
                    out, h = rnn(x, h)
                    logits = head(out[0, 0])

    run()  # warm-up (and, on the fast path, the compiled loop's first call)
    rates = []
    for _ in range(cfg["reps"]):
        t = time.perf_counter()
        run()
        rates.append(cfg["length"] / (time.perf_counter() - t))
    return rates


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--rounds", type=int, default=None)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--length", type=int, default=None, help="characters per sample (default 2000, quick 300)")
    ap.add_argument("--hidden-size", type=int, default=256)
    ap.add_argument("--num-layers", type=int, default=2)
    ap.add_argument("--out", default=os.path.join(HERE, "results", "sample_speed.json"), help="'' to skip")
    ap.add_argument("--worker", nargs=2, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.worker:
        lib, cfg = args.worker[0], json.loads(args.worker[1])
        sys.stdout.write("\n" + json.dumps(worker(lib, cfg)) + "\n")
        return
    rounds = args.rounds or (1 if args.quick else 5)
    cfg = {"V": 65, "H": args.hidden_size, "L": args.num_layers, "reps": 3 if args.quick else 5}
    cfg["length"] = args.length or (300 if args.quick else 2000)
    libs = [lib for lib in LIBS if lib != "deeprnn-fast" or available("numba")]
    if "torch" in libs and not available("torch"):
        libs.remove("torch")
    env = thread_env(args.threads)
    rates = {lib: [] for lib in libs}
    load_start = loadavg()
    for r in range(rounds):
        for lib in libs[r % len(libs) :] + libs[: r % len(libs)]:
            cmd = [sys.executable, os.path.abspath(__file__), "--worker", lib, json.dumps(cfg)]
            proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=1800)
            if proc.returncode != 0:
                raise RuntimeError(f"{lib} worker failed:\n{proc.stderr[-3000:]}")
            rates[lib] += json.loads(proc.stdout.strip().splitlines()[-1])
        print(f"# round {r + 1}/{rounds} done", flush=True)
    med = {lib: statistics.median(v) for lib, v in rates.items()}
    print(f"\n### Sampling at batch 1: {cfg['L']} x {cfg['H']} tanh, one-hot, V = {cfg['V']}, float32, "
          f"{args.threads} threads, {cfg['length']} chars per sample\n")  # fmt: skip
    print("| library | chars/s (median) | min | max | x torch |")
    print("|---|---|---|---|---|")
    for lib, v in rates.items():
        x = f"{med[lib] / med['torch']:.2f}" if "torch" in med else "–"
        print(f"| {lib} | {med[lib]:,.0f} | {min(v):,.0f} | {max(v):,.0f} | {x} |")
    load_end = loadavg()
    print(f"\nload average at start {load_start}, at end {load_end} (on {os.cpu_count()} cores)")
    if args.out:
        os.makedirs(os.path.dirname(args.out), exist_ok=True)
        doc = {"config": cfg, "threads": args.threads, "rounds": rounds, "versions": versions(),
               "loadavg_start_end": [load_start, load_end], "chars_per_s": rates, "median": med}  # fmt: skip
        with open(args.out, "w") as f:
            json.dump(doc, f, indent=1)
        print(f"# wrote {args.out}")


if __name__ == "__main__":
    main()
