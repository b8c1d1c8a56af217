"""Run by test_mpi_training.py under ``mpiexec -n K``: train, and record what this rank did.

    python _train_worker.py SCENARIO OUTDIR [ARGS...]

Every rank records the files it creates or changes (a Python audit hook sees every open for
writing, mkdir, rename and remove) and, through the trainer's callback, its flattened weights
after each step; both go to OUTDIR/harness/rank<r>.npz at the end (the harness's own writes).
"""

from __future__ import annotations

import json
import os
import signal
import sys
from pathlib import Path

import numpy as np

HARNESS = "harness"  # the directory of this script's own output
WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC
# Compiled code caches, like the bytecode caches: numba's machine code of deeprnn's compiled loops
# (kernels/compiled/_jit.py), which every process may write or check for writability.
CODE_CACHES = tuple(
    os.path.join(d, "") for d in (
        os.environ.get("NUMBA_CACHE_DIR"),
        os.path.join(os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "deeprnn", "numba"),
    ) if d
)  # fmt: skip


def audit_writes() -> tuple[list[str], dict]:
    """Start recording the paths this process writes (bytecode and compiled-code caches aside), until
    ``state["on"]`` is set to False."""
    writes: list[str] = []
    state = {"on": True}

    def hook(event: str, args: tuple) -> None:
        if not state["on"]:
            return
        if event == "open":
            path, mode, flags = args
            if isinstance(path, int) or path is None:  # os.fdopen of an open descriptor
                return
            writing = (isinstance(mode, str) and any(c in mode for c in "wax+")) or (
                isinstance(flags, int) and flags & WRITE_FLAGS
            )
            paths = [path]
        elif event in ("os.mkdir", "os.remove", "os.rmdir", "os.truncate"):
            paths, writing = [args[0]], True
        elif event == "os.rename":  # os.replace too
            paths, writing = [args[0], args[1]], True
        else:
            return
        for path in paths:
            p = os.fsdecode(path) if isinstance(path, (str, bytes, os.PathLike)) else str(path)
            if writing and "__pycache__" not in p and not p.endswith(".pyc") and not p.startswith(CODE_CACHES):
                writes.append(p)

    sys.addaudithook(hook)
    return writes, state


def main() -> None:
    scenario, out = sys.argv[1], Path(sys.argv[2])
    opts = json.loads(sys.argv[3]) if len(sys.argv) > 3 else {}
    import matplotlib.pyplot  # noqa: F401 - before the audit (it makes its config dirs), and so rank 0 plots quickly

    writes, recording = audit_writes()
    from deeprnn import distributed as dist
    from deeprnn.models import ModelConfig, TrainConfig, TrainingInterrupted, train
    from models._texts import ENGLISH

    comm = dist.init_world(timeout=opts.get("timeout", 30))
    r = comm.rank
    steps: dict[str, np.ndarray] = {}

    def callback(it: int, info: dict) -> None:
        params = [p.detach().numpy().reshape(-1) for p in info["model"].parameters()]
        steps[f"step{it}"] = np.concatenate(params).copy()
        steps[f"loss{it}"] = np.array(info["loss"])
        if it == opts.get("interrupt_at"):
            raise KeyboardInterrupt
        if it == opts.get("die_at") and r == 1:
            os.kill(os.getpid(), signal.SIGKILL if scenario == "kill" else signal.SIGSTOP)

    if scenario == "cli":
        from deeprnn.cli import main as cli

        code = cli(opts["argv"])
        result = {"code": code}
    else:
        config = TrainConfig(**{**opts["config"], "model": ModelConfig(**opts["config"]["model"])})
        try:
            res = train(config, ENGLISH, resume=opts.get("resume", False), quiet=True, callback=callback, comm=comm)
            result = {"iteration": res.iteration, "train_loss": res.history.train_loss}
        except TrainingInterrupted as e:
            result = {"interrupted": e.iteration}
    recording["on"] = False
    (out / HARNESS).mkdir(parents=True, exist_ok=True)
    np.savez(
        out / HARNESS / f"rank{r}.npz", writes=np.array(writes, dtype=str), result=np.array(json.dumps(result)), **steps
    )


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/, as pytest's pythonpath
    main()
