"""Sampling speed of the language model at batch 1: characters per second, deeprnn's paths against torch.

    python benchmarks/sample_speed.py                     # rnn, lstm, gru: 2 x 128, one-hot, V = 65, 5 rounds
    python benchmarks/sample_speed.py --kinds gru         # the GRU only (the default model)
    python benchmarks/sample_speed.py --quick             # smoke run: 1 round, short texts

For each kind (--kinds, among rnn (tanh), lstm, gru), each library samples `--length` characters
after a 4-character prime, at temperature 0.8, from the same weights: deeprnn's
RNNLanguageModel.sample on its NumPy path (DEEPRNN_KERNELS=numpy) and on its fast path
(DEEPRNN_KERNELS=auto with numba: kernels/compiled/sample.py, where kernels/backend.py's rule takes
it at batch 1), and torch 2.13 with the char-rnn loop (one-hot -> nn.RNN|LSTM|GRU -> nn.Linear per
character, softmax and torch.multinomial under no_grad).  As in rnn_speed.py, each library runs in
its own process per round, the rounds interleave the libraries, and every process is held to the
same thread count.  Reported: the median chars/s over all samples, and the fast path's first call
of a process (a short sample: the prime's compiled loop and the sampler), with an empty numba cache
(compile) and with that cache filled (load), against the same process's second call.  Nothing is
asserted.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
from rnn_speed import available, loadavg, thread_env, versions  # noqa: E402

KINDS = ("rnn", "lstm", "gru")
LIBS = {"deeprnn-numpy": "numpy", "deeprnn-fast": "auto", "torch": None}
TORCH_MODULE = {"rnn": "RNN", "lstm": "LSTM", "gru": "GRU"}


def _model(cfg):
    import numpy as np

    import deeprnn
    from deeprnn.data import Vocab
    from deeprnn.models import RNNLanguageModel

    vocab = Vocab.from_text("".join(chr(32 + i) for i in range(cfg["V"])), "char")
    model = RNNLanguageModel(
        len(vocab), cfg["H"], cfg["L"], vocab=vocab, dtype=np.float32, generator=deeprnn.Generator(0), kind=cfg["kind"]
    )
    return model, vocab


def _torch_run(model, vocab, prime, cfg):
    """torch's char-rnn sampling loop over a copy of the model's weights."""
    import numpy as np
    import torch

    torch.set_num_threads(int(os.environ.get("RNN_SPEED_THREADS", "2")))
    rnn = getattr(torch.nn, TORCH_MODULE[cfg["kind"]])(cfg["V"], cfg["H"], cfg["L"])
    head = torch.nn.Linear(cfg["H"], cfg["V"])
    state = {k: torch.from_numpy(np.array(v.detach().numpy())) for k, v in model.state_dict().items()}
    rnn.load_state_dict({k[4:]: v for k, v in state.items() if k.startswith("rnn.")})
    head.load_state_dict({k[5:]: v for k, v in state.items() if k.startswith("head.")})
    gen = torch.Generator().manual_seed(1)
    ids = torch.tensor(vocab.encode(prime))

    def run():
        with torch.no_grad():
            x = torch.nn.functional.one_hot(ids, cfg["V"]).float()[:, None]  # (P, 1, V)
            out, h = rnn(x)  # h, or (h, c) for the LSTM
            logits = head(out[-1, 0])
            for _ in range(cfg["length"]):
                p = torch.softmax(logits / 0.8, dim=-1)
                tok = torch.multinomial(p, 1, generator=gen)
                x = torch.nn.functional.one_hot(tok, cfg["V"]).float()[None]  # (1, 1, V)
                out, h = rnn(x, h)
                logits = head(out[0, 0])

    return run


def worker(lib, cfg):
    """Time `reps` samples of cfg['length'] chars of cfg['kind']; returns {rates: chars/s, compiled}."""
    sys.path.insert(0, os.path.join(ROOT, "src"))  # torch's weights come from deeprnn's model
    if lib.startswith("deeprnn"):
        os.environ["DEEPRNN_KERNELS"] = LIBS[lib]
    model, vocab = _model(cfg)
    prime = vocab.decode_text(list(range(4)))
    compiled = None
    if lib.startswith("deeprnn"):
        from deeprnn.models.generate import _compiled

        compiled = _compiled(model)

        def run():
            model.sample(prime, cfg["length"], temperature=0.8, seed=1)

    else:
        run = _torch_run(model, vocab, prime, cfg)
    run()  # warm-up (and, on the fast path, the compiled loop's first call)
    rates = []
    for _ in range(cfg["reps"]):
        t = time.perf_counter()
        run()
        rates.append(cfg["length"] / (time.perf_counter() - t))
    return {"rates": rates, "compiled": compiled}


def first_call(cfg):
    """The fast path's first and second sample call (100 chars) per kind in this fresh process, in ms.

    Run with DEEPRNN_KERNELS=numba and a NUMBA_CACHE_DIR that is empty (compile) or filled (load);
    numba_import_ms, the import of numba itself, is part of the first kind's first call.
    """
    os.environ["DEEPRNN_KERNELS"] = "numba"
    sys.path.insert(0, os.path.join(ROOT, "src"))
    t = time.perf_counter()
    import numba  # noqa: F401  (timed: the first compiled call pays it)

    import_ms = (time.perf_counter() - t) * 1e3
    res = {}
    for kind in cfg["kinds"]:
        model, vocab = _model(dict(cfg, kind=kind))
        prime = vocab.decode_text(list(range(4)))
        times = []
        for _ in range(2):
            t = time.perf_counter()
            model.sample(prime, 100, temperature=0.8, seed=1)
            times.append((time.perf_counter() - t) * 1e3)
        res[kind] = {"first_ms": times[0] + import_ms, "second_ms": times[1], "numba_import_ms": import_ms}
        import_ms = 0.0  # paid once per process
    return res


def _run(mode, arg, env):
    cmd = [sys.executable, os.path.abspath(__file__), "--worker", mode, json.dumps(arg)]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=1800)
    if proc.returncode != 0:
        raise RuntimeError(f"{mode} worker failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _print_rates(kind, cfg, threads, rates, compiled):
    med = {lib: statistics.median(v) for lib, v in rates.items()}
    name = "tanh RNN" if kind == "rnn" else kind.upper()
    print(f"\n### Sampling at batch 1: {name} {cfg['L']} x {cfg['H']}, one-hot, V = {cfg['V']}, float32, "
          f"{threads} threads, {cfg['length']} chars per sample\n")  # fmt: skip
    print("| library | chars/s (median) | min | max | x torch |")
    print("|---|---|---|---|---|")
    for lib, v in rates.items():
        x = f"{med[lib] / med['torch']:.2f}" if "torch" in med else "–"
        note = " (NumPy: outside the backend's rule)" if lib == "deeprnn-fast" and not compiled.get(lib) else ""
        print(f"| {lib}{note} | {med[lib]:,.0f} | {min(v):,.0f} | {max(v):,.0f} | {x} |")
    return med


def _print_first_calls(times, cfg):
    print(f"\n### deeprnn fast path: the first sample call of a process (100 chars, {cfg['L']} x {cfg['H']})\n")
    print("| kind | numba cache | first call ms | second call ms | of which numba import ms |")
    print("|---|---|---|---|---|")
    for state in ("cold", "cached"):
        for kind, e in times[state].items():
            print(f"| {kind} | {state} | {e['first_ms']:.0f} | {e['second_ms']:.2f} | {e['numba_import_ms']:.0f} |")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--rounds", type=int, default=None)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--length", type=int, default=None, help="characters per sample (default 2000, quick 300)")
    ap.add_argument("--hidden-size", type=int, default=128)
    ap.add_argument("--num-layers", type=int, default=2)
    ap.add_argument("--kinds", default="rnn,lstm,gru", help="comma list among rnn,lstm,gru")
    ap.add_argument("--no-first-call", action="store_true", help="skip the first-call (compile) measurement")
    ap.add_argument("--out", default=os.path.join(HERE, "results", "sample_speed.json"), help="'' to skip")
    ap.add_argument("--worker", nargs=2, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.worker:
        mode, arg = args.worker[0], json.loads(args.worker[1])
        res = first_call(arg) if mode == "first-call" else worker(mode, arg)
        sys.stdout.write("\n" + json.dumps(res) + "\n")
        return
    kinds = [k.strip() for k in args.kinds.split(",") if k.strip()]
    if not kinds or any(k not in KINDS for k in kinds):
        ap.error(f"--kinds takes a comma list among {', '.join(KINDS)}, got {args.kinds!r}")
    rounds = args.rounds or (1 if args.quick else 5)
    base = {"V": 65, "H": args.hidden_size, "L": args.num_layers, "reps": 3 if args.quick else 5}
    base["length"] = args.length or (300 if args.quick else 2000)
    fast = available("numba")
    libs = [lib for lib in LIBS if lib != "deeprnn-fast" or fast]
    if "torch" in libs and not available("torch"):
        libs.remove("torch")
    env = thread_env(args.threads)
    rates = {kind: {lib: [] for lib in libs} for kind in kinds}
    compiled = {kind: {} for kind in kinds}
    load_start = loadavg()
    for r in range(rounds):
        for kind in kinds:
            for lib in libs[r % len(libs) :] + libs[: r % len(libs)]:
                res = _run(lib, dict(base, kind=kind), env)
                rates[kind][lib] += res["rates"]
                compiled[kind][lib] = res["compiled"]
        print(f"# round {r + 1}/{rounds} done", flush=True)
    med = {kind: _print_rates(kind, base, args.threads, rates[kind], compiled[kind]) for kind in kinds}
    first = None
    if fast and not args.no_first_call:
        with tempfile.TemporaryDirectory(prefix="sample_speed_") as cache:
            cold_env = dict(env, NUMBA_CACHE_DIR=cache)
            first = {state: _run("first-call", dict(base, kinds=kinds), cold_env) for state in ("cold", "cached")}
        _print_first_calls(first, base)
    load_end = loadavg()
    print(f"\nload average at start {load_start}, at end {load_end} (on {os.cpu_count()} cores)")
    if args.out:
        os.makedirs(os.path.dirname(args.out), exist_ok=True)
        doc = {"config": base, "kinds": kinds, "threads": args.threads, "rounds": rounds, "versions": versions(),
               "loadavg_start_end": [load_start, load_end], "chars_per_s": rates, "median": med,
               "fast_path_compiled": compiled, "first_call_ms": first}  # fmt: skip
        with open(args.out, "w") as f:
            json.dump(doc, f, indent=1)
        print(f"# wrote {args.out}")


if __name__ == "__main__":
    main()
