"""Peak memory of `deeprnn train` on a large generated text, as a multiple of the file's size.

    python benchmarks/data_memory.py --mb 50 [--level char|word] [--model small|default] [--src PATH]

Writes a generated English and a generated Chinese text of about ``--mb`` MB (UTF-8) to a
temporary folder, runs ``deeprnn train TEXT --iters 1`` on each in a subprocess and reports its
peak RSS (``resource.getrusage(RUSAGE_CHILDREN).ru_maxrss``) and wall time.  ``--model small``
(1 x 32 units) shows what the data path costs; ``default`` (the default 2 x 128 LSTM, batch 32 x 64)
adds the default model's training step.  ``--src`` runs another checkout's ``src`` (before and after).
Each run gets an empty corpus cache (``DEEPRNN_CACHE_DIR``), so the peak includes encoding the text:
the first run on a text, the costlier one.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def english(n_bytes: int, seed: int = 0) -> str:
    """Sentences of random words from a 5,000-word vocabulary of random letters."""
    rng = np.random.default_rng(seed)
    letters = np.array(list("etaoinshrdlucmfwypvbgkjqxz"))
    p = 1 / np.arange(1, 27)
    words = ["".join(rng.choice(letters, size=rng.integers(1, 10), p=p / p.sum())) for _ in range(5000)]
    zipf = 1 / np.arange(1, 5001)
    picks = rng.choice(len(words), size=n_bytes // 5, p=zipf / zipf.sum())
    out, size = [], 0
    for i, w in enumerate(picks):
        token = words[w] + (".\n" if i % 17 == 16 else " ")
        out.append(token)
        size += len(token)
        if size >= n_bytes:
            break
    return "".join(out)


def chinese(n_bytes: int, seed: int = 0) -> str:
    """Random characters from 3,500 CJK ideographs, with punctuation and line breaks (3 bytes each)."""
    rng = np.random.default_rng(seed)
    chars = np.array([chr(c) for c in range(0x4E00, 0x4E00 + 3500)] + ["，", "。", "\n"])
    p = np.concatenate([1 / np.arange(1, 3501), [0.05, 0.03, 0.01]])
    return "".join(rng.choice(chars, size=n_bytes // 3, p=p / p.sum()))


def measure(text_path: Path, level: str, src: Path, work: Path, model: str) -> dict:
    run = Path(tempfile.mkdtemp(prefix="run-", dir=work))
    env = {**os.environ, "PYTHONPATH": str(src), "DEEPRNN_CACHE_DIR": str(run / "cache")}  # cold: encodes
    ck = run / "ck"  # a fresh directory: no --force needed
    argv = [sys.executable, "-m", "deeprnn", "train", str(text_path), "--level", level, "--iters", "1"]
    argv += (["--hidden-size", "32", "--num-layers", "1"] if model == "small" else []) + [
        "--eval-batches",
        "1",
        "--quiet",
    ]
    argv += ["--checkpoint-dir", str(ck)]
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    t0 = time.perf_counter()
    r = subprocess.run(argv, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - t0
    peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    if peak_kb <= before:  # ru_maxrss of children is the largest so far: run one at a time
        raise SystemExit("run each measurement in a fresh process (--only)")
    size = text_path.stat().st_size
    return {
        "text": text_path.stem,
        "level": level,
        "model": model,
        "file_mb": round(size / 1e6, 1),
        "peak_rss_mb": round(peak_kb * 1024 / 1e6, 1),
        "ratio": round(peak_kb * 1024 / size, 2),
        "seconds": round(seconds, 1),
        "returncode": r.returncode,
        "stderr": r.stderr.strip()[-300:],
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mb", type=float, default=50)
    ap.add_argument("--level", default="char", choices=("char", "word"))
    ap.add_argument("--model", default="small", choices=("small", "default"))
    ap.add_argument("--src", type=Path, default=ROOT / "src")
    ap.add_argument("--only", choices=("english", "chinese"), help="measure one text (the others in other runs)")
    ap.add_argument("--work", type=Path, help="folder for the texts (default: a temporary one)")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="deeprnn-mem-"))
    work.mkdir(parents=True, exist_ok=True)
    results = []
    for name, make in (("english", english), ("chinese", chinese)):
        if args.only and args.only != name:
            continue
        path = work / f"{name}-{args.mb:g}mb.txt"
        generated = not path.exists()
        if generated:
            path.write_text(make(int(args.mb * 1e6)), encoding="utf-8")
        if args.only and not generated:
            results.append(measure(path, args.level, args.src, work, args.model))
        else:
            # Measure from a fresh, small interpreter: a child forked from this one, which generated a
            # text, starts with this one's pages, and ru_maxrss counts them (a false 700 MB for 50 MB).
            cmd = [sys.executable, __file__, "--mb", str(args.mb), "--level", args.level, "--src", str(args.src)]
            cmd += ["--model", args.model]
            cmd += ["--only", name, "--work", str(work), "--json", str(work / f"{name}.json")]
            subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
            results.append(json.loads((work / f"{name}.json").read_text())[0])
    for r in results:
        print(
            f"{r['text']:8s} {r['level']:5s} {r['model']:7s} {r['file_mb']:6.1f} MB  "
            f"peak RSS {r['peak_rss_mb']:7.1f} MB "
            f"({r['ratio']:.2f}x)  {r['seconds']:5.1f} s  rc={r['returncode']} {r['stderr'][:120]}"
        )
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
