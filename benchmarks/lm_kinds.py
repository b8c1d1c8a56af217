"""Benchmark: which kind and size of language model learns most within the README main command's budget.

`deeprnn train` (the README's main command) trains on the embedded Shakespeare corpus for
3,000 iterations of 32 streams x 64 characters (Adam, lr 2e-3, gradient clip 5, 5% held
out), in about 2 minutes on 2 cores with the install.  This script trains several
candidates -- a kind (rnn, lstm, gru) and a size (layers x hidden units) -- under those
settings, on the same batches, and reports for each:

- the validation loss (nats/char, the whole held-out tail, state carried, no dropout) every
  --slice iterations: the comparison at equal iterations (with --split streams the held-out
  text is char-rnn's instead: the tail of each of the batch's streams);
- the measured time of its steps (wall clock and CPU time, median over the run), so that
  the comparison at equal time can be read off: the budget is the first candidate's time
  for --iters iterations (the former default, a 2 x 256 tanh RNN), and each candidate's
  loss at that time is interpolated on its own curve of loss against training time
  ("-" where the candidate did not train that long).

With --seconds S instead, every candidate trains for S seconds of its own training time
(the comparison at equal time, measured directly: for a quiet machine).

Each candidate runs in its own process held to --threads threads; the processes take
turns, one slice at a time, so that a machine whose speed drifts (shared cores) slows all
of them alike.  Evaluation time is not counted.

    python benchmarks/lm_kinds.py                        # rnn:2x256, lstm:2x128, gru:2x128, ...
    python benchmarks/lm_kinds.py --candidates lstm:2x128,gru:2x128 --iters 600 --slice 200

prints a table and writes the JSON (default benchmarks/results/lm_kinds.json).
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
DEFAULT_CANDIDATES = "rnn:2x256,lstm:2x128,gru:2x128,rnn:2x128,lstm:2x192,gru:2x192"


def _parse() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument(
        "--candidates",
        default=DEFAULT_CANDIDATES,
        help="comma-separated KIND:LAYERSxHIDDEN; the first sets the budget (default: %(default)s)",
    )
    p.add_argument("--iters", type=int, default=3000, help="iterations per candidate (the main command's)")
    p.add_argument("--seconds", type=float, default=None, help="instead of --iters: training seconds each")
    p.add_argument("--slice", type=int, default=250, help="iterations per turn, and between evaluations")
    p.add_argument("--slice-seconds", type=float, default=20.0, help="with --seconds: seconds per turn")
    p.add_argument("--text", default=None, help="text file (default: the embedded shakespeare corpus)")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--seq-len", type=int, default=64)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--lr", type=float, default=2e-3)
    p.add_argument("--grad-clip", type=float, default=5.0)
    p.add_argument("--val-fraction", type=float, default=0.05)
    p.add_argument(
        "--split",
        choices=("tail", "streams"),
        default="tail",
        help="hold out the text's tail (deeprnn train's), or the tail of each of the batch's streams "
        "(char-rnn's CharSplitLMMinibatchLoader, where char-rnn's published losses come from)",
    )
    p.add_argument("--dropout", type=float, default=0.0, help="between the recurrent layers (training only)")
    p.add_argument("--lr-decay", type=float, default=1.0, help="multiply the lr by this every --lr-decay-every steps")
    p.add_argument("--lr-decay-every", type=int, default=1000)
    p.add_argument("--eval-batches", type=int, default=None, help="batches per evaluation (default: all)")
    p.add_argument("--seed", type=int, default=1337)
    p.add_argument("--note", default="", help="a remark stored in the JSON (e.g. 'machine shared')")
    p.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "lm_kinds.json"))
    p.add_argument("--worker", help=argparse.SUPPRESS)
    p.add_argument("--spec", help=argparse.SUPPRESS)
    return p.parse_args()


def parse_candidate(text: str) -> dict:
    """'lstm:2x128' -> {'kind': 'lstm', 'num_layers': 2, 'hidden_size': 128, 'name': 'lstm:2x128'}."""
    try:
        kind, size = text.strip().split(":")
        layers, hidden = (int(v) for v in size.lower().split("x"))
    except ValueError:
        raise SystemExit(f"lm_kinds.py: a candidate is KIND:LAYERSxHIDDEN, e.g. lstm:2x128; got {text!r}") from None
    if kind not in ("rnn", "lstm", "gru") or layers < 1 or hidden < 1:
        raise SystemExit(f"lm_kinds.py: unknown kind or size in {text!r} (kinds: rnn, lstm, gru)")
    return {"kind": kind, "num_layers": layers, "hidden_size": hidden, "name": f"{kind}:{layers}x{hidden}"}


# ---- the worker: one candidate, one process -------------------------------------------------
def _data(spec: dict):
    sys.path.insert(0, str(ROOT / "src"))
    from deeprnn.data import Vocab, load_corpus, read_text, stream_split, train_val_split

    text = read_text(spec["text"]) if spec["text"] else load_corpus("shakespeare")
    vocab = Vocab.from_text(text, "char")
    ids = vocab.encode_text(text)
    if spec.get("split", "tail") == "tail":
        train_ids, val_ids = train_val_split(ids, spec["val_fraction"])
        return vocab, (train_ids, None), (val_ids, None)
    train, val = stream_split(len(ids), spec["batch_size"], spec["seq_len"], spec["val_fraction"])
    return vocab, (ids, train), (ids, val)  # the whole text, and where its streams' parts lie


def _chars(part, streams: int) -> int:
    """The number of input characters in a part (ids, layout) of `_data`."""
    ids, layout = part
    return len(ids) if layout is None else layout.length * streams


def _worker(spec: dict) -> dict:
    import numpy as np

    sys.path.insert(0, str(ROOT / "src"))
    import deeprnn
    from deeprnn.data import MappedBPTTBatches
    from deeprnn.models import RNNLanguageModel
    from deeprnn.models.char_rnn import detach_state
    from deeprnn.models.loop import evaluate
    from deeprnn.nn.functional import cross_entropy
    from deeprnn.nn.utils import clip_grad_norm_

    cand = spec["candidate"]
    vocab, (train_ids, train_layout), (val_ids, val_layout) = _data(spec)
    V, T, N = len(vocab), spec["seq_len"], spec["batch_size"]
    model = RNNLanguageModel(
        V,
        cand["hidden_size"],
        cand["num_layers"],
        kind=cand["kind"],
        dropout=spec.get("dropout", 0.0),
        generator=deeprnn.Generator(spec["seed"]),
    )
    params = list(model.parameters())
    opt = deeprnn.optim.Adam(params, lr=spec["lr"])
    every, gamma = spec.get("lr_decay_every", 1000), spec.get("lr_decay", 1.0)
    sched = deeprnn.optim.lr_scheduler.StepLR(opt, step_size=every, gamma=gamma)
    batches = MappedBPTTBatches(train_ids, N, T, layout=train_layout)
    state = None
    wall, cpu, losses = [], [], []
    curve: list[dict] = []
    trained = 0.0

    def point() -> None:
        t0 = time.perf_counter()
        vl = evaluate(model, val_ids, T, N, spec["eval_batches"], layout=val_layout)
        curve.append(
            {
                "iteration": len(wall),
                "seconds": round(trained, 3),
                "val_loss": vl,
                "eval_seconds": round(time.perf_counter() - t0, 3),
                "load_average_1min": os.getloadavg()[0],
            }
        )
        print(
            f"[{cand['name']}] iter {len(wall):5d}  {trained:7.1f} s  val {vl:.4f}  "
            f"{1e3 * np.median(wall) if wall else 0:6.1f} ms/step",
            file=sys.stderr,
            flush=True,
        )

    by_time = spec["seconds"] is not None
    for command in sys.stdin:  # one slice per "go" from the driver; the first only evaluates
        if command.strip() != "go":
            break
        if curve:
            goal = min(trained + spec["slice_seconds"], spec["seconds"]) if by_time else None
            count = 0
            while (trained < goal) if by_time else (count < spec["slice"] and len(wall) < spec["iters"]):
                b = batches.next_batch()
                t0, c0 = time.perf_counter(), time.process_time()
                logits, h_n = model(b.x, None if (b.reset or state is None) else state)
                loss = cross_entropy(logits.reshape(-1, V), deeprnn.from_numpy(b.y.reshape(-1)))
                opt.zero_grad()
                loss.backward()
                clip_grad_norm_(params, spec["grad_clip"])
                opt.step()
                sched.step()
                state = detach_state(h_n)
                value = float(loss.item())
                wall.append(time.perf_counter() - t0)
                cpu.append(time.process_time() - c0)
                trained += wall[-1]
                losses.append(value)
                count += 1
        point()
        finished = trained >= spec["seconds"] if by_time else len(wall) >= spec["iters"]
        print(json.dumps({"finished": finished}), flush=True)
        if finished:
            break
    return {
        "candidate": cand,
        "parameters": int(sum(p.numel() for p in params)),
        "iterations": len(wall),
        "train_seconds": trained,
        "ms_per_step_wall": 1e3 * float(np.median(wall)),
        "ms_per_step_cpu": 1e3 * float(np.median(cpu)),
        "ms_per_step_wall_mean": 1e3 * float(np.mean(wall)),
        "chars_per_sec": len(wall) * T * N / trained,
        "val_curve": curve,
        "final_val_loss": curve[-1]["val_loss"],
        "best_val_loss": min(c["val_loss"] for c in curve),
        "train_loss_every_50": losses[::50],
    }


# ---- the driver ------------------------------------------------------------------------------
def _thread_env(n: int) -> dict:
    env = dict(os.environ)
    for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS"):
        env[k] = str(n)
    env["PYTHONPATH"] = str(ROOT / "src") + os.pathsep + env.get("PYTHONPATH", "")
    return env


def val_at_time(result: dict, seconds: float) -> float | None:
    """The candidate's validation loss after `seconds` of its projected training time (iterations
    times its median step), interpolated linearly between its evaluations; None beyond its run."""
    ms = result["ms_per_step_wall"]
    it = seconds * 1e3 / ms
    curve = result["val_curve"]
    for a, b in zip(curve, curve[1:]):
        if a["iteration"] <= it <= b["iteration"]:
            w = (it - a["iteration"]) / max(b["iteration"] - a["iteration"], 1)
            return a["val_loss"] + w * (b["val_loss"] - a["val_loss"])
    return None


def _run_all(args: argparse.Namespace, spec: dict, cands: list[dict]) -> dict[str, dict]:
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        procs = {}
        for c in cands:
            c_spec = {**spec, "candidate": c, "result": str(Path(tmp) / f"{c['name']}.json")}
            path = Path(tmp) / f"spec_{c['name']}.json"
            path.write_text(json.dumps(c_spec))
            procs[c["name"]] = subprocess.Popen(
                [sys.executable, __file__, "--worker", c["name"], "--spec", str(path)],
                env=_thread_env(args.threads),
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
            )
        try:
            running = [c["name"] for c in cands]
            for round_no in itertools.count():
                if not running:
                    break
                for name in list(running) if round_no % 2 == 0 else running[::-1]:  # alternate who goes first
                    proc = procs[name]
                    proc.stdin.write("go\n")
                    proc.stdin.flush()
                    reply = proc.stdout.readline()
                    if not reply:
                        raise RuntimeError(f"the {name} worker died (exit code {proc.wait()})")
                    if json.loads(reply)["finished"]:
                        running.remove(name)
                    time.sleep(0.3)  # let the idle worker's BLAS threads stop spinning
            for name, proc in procs.items():
                proc.stdin.close()
                if proc.wait() != 0:
                    raise RuntimeError(f"the {name} worker failed with exit code {proc.returncode}")
                results[name] = json.loads(Path(tmp, f"{name}.json").read_text())
        finally:
            for proc in procs.values():
                if proc.poll() is None:
                    proc.kill()
    return results


def main() -> None:
    args = _parse()
    if args.worker:
        spec = json.loads(Path(args.spec).read_text())
        Path(spec["result"]).write_text(json.dumps(_worker(spec)))
        return
    import numpy as np

    cands = [parse_candidate(c) for c in args.candidates.split(",")]
    if len({c["name"] for c in cands}) != len(cands):
        raise SystemExit("lm_kinds.py: a candidate is named twice")
    keys = ("iters", "seconds", "slice", "slice_seconds", "threads", "seq_len", "batch_size", "lr")
    more = ("grad_clip", "val_fraction", "split", "dropout", "lr_decay", "lr_decay_every", "eval_batches", "seed")
    spec = {k: getattr(args, k) for k in (*keys, *more)}
    spec["text"] = str(Path(args.text).resolve()) if args.text else None
    vocab, train_ids, val_ids = _data(spec)
    how = f"{args.seconds:.0f} s each" if args.seconds else f"{args.iters} iterations each"
    print(f"== {len(cands)} candidates, {how}, {args.threads} threads, interleaved", file=sys.stderr)
    results = _run_all(args, spec, cands)

    base = results[cands[0]["name"]]
    budget = base["train_seconds"] if args.seconds else args.iters * base["ms_per_step_wall"] / 1e3
    for r in results.values():
        r["val_loss_at_budget"] = r["final_val_loss"] if args.seconds else val_at_time(r, budget)
    report = {
        "benchmark": "lm_kinds",
        "issue": 11,
        "note": args.note,
        "config": {
            **{k: v for k, v in spec.items()},
            "candidates": [c["name"] for c in cands],
            "vocab_size": len(vocab),
            "train_chars": _chars(train_ids, args.batch_size),
            "val_chars": _chars(val_ids, args.batch_size),
            "text": spec["text"] or "embedded shakespeare corpus",
            "budget_seconds": budget,
            "budget_rule": "training time of --seconds"
            if args.seconds
            else (f"the first candidate's {args.iters} iterations at its median measured step time"),
        },
        "machine": {
            "python": platform.python_version(),
            "numpy": np.__version__,
            "cpu": platform.processor() or platform.machine(),
            "cpus": os.cpu_count(),
            "load_average_at_end": os.getloadavg(),
        },
        "results": results,
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(report, indent=1))

    names = list(results)
    print(f"\nval loss (nats/char) by iteration, batch {args.batch_size}x{args.seq_len}, {args.threads} threads")
    print("  iteration  " + "  ".join(f"{n:>11}" for n in names))
    rows = max(len(r["val_curve"]) for r in results.values())
    for k in range(rows):
        cells = [r["val_curve"][k] if k < len(r["val_curve"]) else None for r in results.values()]
        its = {c["iteration"] for c in cells if c is not None}
        label = str(its.pop()) if len(its) == 1 else "-"
        print(f"  {label:>9}  " + "  ".join(f"{c['val_loss']:11.4f}" if c else f"{'-':>11}" for c in cells))
    print(f"\n  budget: {budget:.2f} s of training ({report['config']['budget_rule']})")
    print("  candidate     params  ms/step wall  ms/step cpu  iterations  final val  best val  val at budget")
    for n in names:
        r = results[n]
        at = r["val_loss_at_budget"]
        print(
            f"  {n:11} {r['parameters']:8,} {r['ms_per_step_wall']:13.1f} {r['ms_per_step_cpu']:12.1f} "
            f"{r['iterations']:11d} {r['final_val_loss']:10.4f} {r['best_val_loss']:9.4f} "
            + (f"{at:14.4f}" if at is not None else f"{'-':>14}")
        )
    print(f"\nwrote {args.out}")


if __name__ == "__main__":
    main()
