"""Summarise several runs of train_lm.py: validation loss against time, averaged over seeds.

One run of train_lm.py compares deeprnn and PyTorch from one initialisation.  Late in a run
both curves are nearly flat and wobble by about 0.01 nats/char from one evaluation to the
next, so one run cannot say whether "deeprnn's loss at equal time is no higher" holds or
is luck.  This script pairs the two libraries run by run (same seed, same initial weights,
same data) and reports, for each evaluation time:

    the mean over runs of each library's val loss, and its range (min..max);
    the mean paired difference deeprnn - torch, and in how many runs deeprnn was higher
    (by more than 1e-4 nats/char).

It also compares the two libraries *per iteration*: the training loss (every 50th step)
of deeprnn minus torch's at the same step, averaged over windows of 1000 steps.  The two
start from the same weights and see the same batches, so a difference there is not speed
but the trajectory: float32 rounding differs between the libraries, and training amplifies
it until the two runs follow different paths.

Runs are grouped by their learning-rate schedule (``lr_decay_to``).

    python benchmarks/train_lm_summary.py benchmarks/results/train_lm_seed*.json \
        benchmarks/results/train_lm_lr_decay_seed*.json

prints the tables and writes benchmarks/results/train_lm_summary.json.  Nothing is asserted.
"""

from __future__ import annotations

import argparse
import json
import statistics
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGET = 1.60
# A difference under this is float32 rounding, not training (at t = 0 both evaluate the same
# weights and differ by ~1e-7); the tables print 4 decimals.
EPS = 1e-4


def _load(paths: list[str]) -> dict[float, list[dict]]:
    groups: dict[float, list[dict]] = defaultdict(list)
    for path in paths:
        report = json.loads(Path(path).read_text())
        results = report["results"]
        if "deeprnn" not in results or "torch" not in results:
            raise SystemExit(f"{path}: expected results for both deeprnn and torch, got {sorted(results)}")
        cfg = report["config"]
        groups[float(cfg.get("lr_decay_to", 1.0))].append({"path": path, "config": cfg, **results})
    return dict(sorted(groups.items(), reverse=True))


def summarise(runs: list[dict]) -> dict:
    """Per-evaluation means, ranges and paired differences over `runs` (each: deeprnn and torch results)."""
    every = runs[0]["config"]["eval_every"]
    budget = runs[0]["config"]["seconds"]
    n_evals = min(len(r[lib]["val_curve"]) for r in runs for lib in ("deeprnn", "torch"))
    rows = []
    for k in range(n_evals):
        a = [r["deeprnn"]["val_curve"][k]["val_loss"] for r in runs]
        b = [r["torch"]["val_curve"][k]["val_loss"] for r in runs]
        diffs = [x - y for x, y in zip(a, b)]
        rows.append(
            {
                "seconds": min(k * every, budget),
                "deeprnn_mean": statistics.fmean(a),
                "deeprnn_min": min(a),
                "deeprnn_max": max(a),
                "torch_mean": statistics.fmean(b),
                "torch_min": min(b),
                "torch_max": max(b),
                "mean_difference": statistics.fmean(diffs),
                "runs_deeprnn_higher": sum(d > EPS for d in diffs),
            }
        )
    per_iteration = []  # per run: mean (deeprnn - torch) train loss over windows of 1000 steps
    for r in runs:
        a, b = r["deeprnn"]["train_loss_every_50"], r["torch"]["train_loss_every_50"]
        d = [x - y for x, y in zip(a, b)]
        per_iteration.append([statistics.fmean(d[i : i + 20]) for i in range(0, len(d), 20)])
    speed = [r["deeprnn"]["chars_per_sec"] / r["torch"]["chars_per_sec"] for r in runs]
    return {
        "runs": [r["path"] for r in runs],
        "seeds": [r["config"]["seed"] for r in runs],
        "lr_decay_to": runs[0]["config"].get("lr_decay_to", 1.0),
        "chars_per_sec": {lib: [round(r[lib]["chars_per_sec"]) for r in runs] for lib in ("deeprnn", "torch")},
        "throughput_ratio": speed,
        "seconds_to_target": {lib: [r[lib]["seconds_to_target"] for r in runs] for lib in ("deeprnn", "torch")},
        "evaluations": rows,
        "train_loss_difference_per_1000_steps": per_iteration,
        "evaluations_mean_deeprnn_higher": sum(row["mean_difference"] > EPS for row in rows),
        "paired_evaluations_deeprnn_higher": sum(row["runs_deeprnn_higher"] for row in rows),
        "paired_evaluations": len(rows) * len(runs),
    }


def _print(s: dict) -> None:
    n = len(s["runs"])
    print(f"\n== lr decay to {s['lr_decay_to']:g} of 2e-3 over the budget, {n} runs (seeds {s['seeds']})")
    print("  seconds   deeprnn mean (min..max)      torch mean (min..max)    mean diff  runs deeprnn higher")
    for row in s["evaluations"]:
        print(
            f"  {row['seconds']:7.0f}   {row['deeprnn_mean']:.4f} ({row['deeprnn_min']:.4f}..{row['deeprnn_max']:.4f})"
            f"   {row['torch_mean']:.4f} ({row['torch_min']:.4f}..{row['torch_max']:.4f})"
            f"   {row['mean_difference']:+.4f}   {row['runs_deeprnn_higher']}/{n}"
        )
    print("  train loss deeprnn - torch at the same step, mean per 1000 steps:")
    for seed, diffs in zip(s["seeds"], s["train_loss_difference_per_1000_steps"]):
        print(f"    seed {seed}: " + " ".join(f"{x:+.3f}" for x in diffs))
    ratios = ", ".join(f"{x:.2f}x" for x in s["throughput_ratio"])
    print(f"  throughput deeprnn / torch per run: {ratios}")
    for lib in ("deeprnn", "torch"):
        reach = ["never" if t is None else f"{t:.0f} s" for t in s["seconds_to_target"][lib]]
        print(f"  {lib:8} chars/s {s['chars_per_sec'][lib]}, first val <= {TARGET}: {reach}")
    print(
        f"  deeprnn higher by more than {EPS:g}: mean curve at {s['evaluations_mean_deeprnn_higher']} of "
        f"{len(s['evaluations'])} evaluations; paired: {s['paired_evaluations_deeprnn_higher']} of "
        f"{s['paired_evaluations']}"
    )


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("results", nargs="+", help="train_lm.py result JSON files")
    p.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "train_lm_summary.json"))
    args = p.parse_args()
    summaries = [summarise(runs) for runs in _load(args.results).values()]
    for s in summaries:
        _print(s)
    Path(args.out).write_text(json.dumps({"benchmark": "train_lm_summary", "groups": summaries}, indent=1))
    print(f"\nwrote {args.out}")


if __name__ == "__main__":
    main()
