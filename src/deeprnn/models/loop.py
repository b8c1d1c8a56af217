"""One training run's state, and its loop of iterations (see ``trainer.py`` for the set-up).

Per iteration, on the batch ``(x, y)`` (T, N) that follows the previous one in every stream:

    logits, h = model(x, h.detach())            logits (T, N, V)
    loss = mean over T*N of -log softmax(logits)[y]           nats per token
    loss.backward(); clip the global gradient norm; optimizer.step(); scheduler.step()

then, now and then, a validation pass, a sample and a checkpoint.  With several processes
(``parallel.py``) each computes the loss of its block of the streams, and one Allreduce after
``loss.backward()`` gives every process the whole batch's gradient and loss.  A checkpoint that cannot be
written (a full disk) is reported in one line and training goes on: the atomic write kept the
previous file, and the next save tries again.  Ctrl-C finishes or rolls back the iteration it
interrupts, saves and raises TrainingInterrupted.
"""

from __future__ import annotations

import math
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..autograd.grad_mode import no_grad
from ..autograd.random import Generator
from ..autograd.tensor import Tensor
from ..data import MappedBPTTBatches, StreamLayout, Vocab
from ..distributed import Communicator, SingleProcess, stream_share
from ..nn.functional import cross_entropy
from ..nn.utils import clip_grad_norm_, get_total_norm
from .char_rnn import RNNLanguageModel, detach_state
from .config import TrainConfig
from .generate import sample_ids
from .parallel import DataParallel
from .progress import Progress
from .rundir import RunDirectory
from .state import History

__all__ = [
    "Run",
    "run_loop",
    "evaluate",
    "TrainingInterrupted",
    "NonFiniteLossError",
    "CheckpointSaveError",
]


class TrainingInterrupted(KeyboardInterrupt):
    """Ctrl-C (KeyboardInterrupt) stopped training; ``checkpoint`` is where the state was saved."""

    def __init__(self, iteration: int, checkpoint: Path | None, message: str) -> None:
        super().__init__(message)
        self.iteration = iteration
        self.checkpoint = checkpoint
        self.message = message


class CheckpointSaveError(OSError):
    """Training finished, but its last checkpoint could not be written (a full disk, ...)."""


class NonFiniteLossError(RuntimeError):
    """The loss (or the gradient norm) became NaN or infinite; nothing was saved after it."""

    def __init__(self, iteration: int, checkpoint: Path | None, message: str) -> None:
        super().__init__(message)
        self.iteration = iteration
        self.checkpoint = checkpoint


def evaluate(
    model: RNNLanguageModel,
    ids: np.ndarray,
    seq_len: int,
    batch_size: int,
    max_batches: int | None = None,
    comm: Communicator | None = None,
    layout: StreamLayout | None = None,
) -> float | None:
    """Mean loss (nats/token) over contiguous batches of ``ids``, state carried, no dropout.

    The batch geometry shrinks to fit a short validation tail; None if it has < 2 tokens.
    With ``layout`` (`data.stream_split`'s validation part: char-rnn's split) ``ids`` are the
    whole text and the ``batch_size`` streams of seq_len are read where the layout says.
    With a ``comm`` of K processes, each evaluates its block of the streams (collective).
    """
    n = len(ids)
    if n < 2:
        return None
    if layout is None:
        T = min(seq_len, n - 1)
        N = max(1, min(batch_size, (n - 1) // T))
    else:
        T, N = seq_len, batch_size
    comm = comm or SingleProcess()
    share = stream_share(N, comm.size, comm.rank, allow_empty=True)
    total, tokens, h = 0.0, 0, None
    if share.stop > share.start:
        batches = MappedBPTTBatches(ids, N, T, streams=share, layout=layout)
        count = len(batches) if max_batches is None else min(len(batches), max_batches)
        V = model.vocab_size
        was_training = model.training
        model.eval()
        try:
            with no_grad():
                for k in range(count):
                    x, y = batches.batch(k)  # (T, n_r)
                    logits, h = model(x, h)  # (T, n_r, V)
                    loss = cross_entropy(logits.reshape(-1, V), Tensor._wrap(y.reshape(-1)))
                    total += float(loss.item()) * y.size
                    tokens += y.size
        finally:
            model.train(was_training)
    if comm.size > 1:
        sums = comm.allreduce_sum_(np.array([total, tokens], dtype=np.float64), "the validation Allreduce")
        total, tokens = float(sums[0]), int(sums[1])
    return total / tokens


@dataclass
class Run:
    """Everything that changes during training (what a checkpoint holds)."""

    config: TrainConfig
    model: RNNLanguageModel
    optimizer: Any
    scheduler: Any
    gen: Generator  # model init + dropout
    sample_gen: Generator  # periodic samples
    batches: MappedBPTTBatches
    vocab: Vocab
    source: dict[str, Any]
    hidden: Any = None  # the carried state: h (L, N, H), or (h, c) for the LSTM; None for zeros
    iteration: int = 0
    elapsed: float = 0.0
    tokens: int = 0
    best_val: float | None = None
    history: History = field(default_factory=History)
    last_saved: Path | None = None
    last_saved_iteration: int | None = None
    run_dir: RunDirectory | None = None
    unsaved: str | None = None  # why the latest save failed (None: the last save went through)
    extra_meta: dict[str, Any] = field(default_factory=dict)  # more checkpoint metadata (the processes')
    val_layout: StreamLayout | None = None  # with val_split "streams": where the held-out parts lie


def run_loop(
    run: Run,
    par: DataParallel,
    total: int,
    train_ids: np.ndarray,
    val_ids: np.ndarray,
    progress: Progress,
    callback: Callable[[int, dict[str, Any]], None] | None,
    graceful_sigint: bool,
) -> None:
    c = run.config
    model, optimizer, scheduler = run.model, run.optimizer, run.scheduler
    params = list(model.parameters())
    V = model.vocab_size
    ckpt_dir = Path(c.checkpoint_dir) if c.checkpoint_dir else None
    prime_id = np.array([train_ids[0]], dtype=np.int64)
    stop = {"requested": False}
    old_handler = None
    if graceful_sigint and threading.current_thread() is threading.main_thread():

        def abort_job(signum: int, frame: Any) -> None:  # several processes cannot stop mid-step together
            par.comm.abort(f"deeprnn: Ctrl-C again: job aborted without saving; the last checkpoint is {_last(run)}")

        def on_sigint(signum: int, frame: Any) -> None:
            stop["requested"] = True
            # a second Ctrl-C aborts
            signal.signal(signal.SIGINT, abort_job if par.active else signal.default_int_handler)
            progress.write("Ctrl-C: stopping after this iteration and saving (Ctrl-C again to abort)")

        old_handler = signal.signal(signal.SIGINT, on_sigint)

    def save(name: str, reason: str) -> str | None:
        """Write ``name``; returns None, or why it was not written (after saying so in one line)."""
        if ckpt_dir is None:
            return "no checkpoint directory"
        if not all(np.isfinite(p._data).all() for p in params):
            progress.write(f"not saving at iteration {run.iteration} ({reason}): parameters are not finite")
            return "parameters are not finite"
        try:
            par.save(run, ckpt_dir / name, progress if name == "latest.npz" else None)  # rank 0 writes
        except OSError as e:  # a full disk, a vanished directory...: the old file is intact (atomic write)
            why = e.strerror or str(e)
            if name == "latest.npz":
                run.unsaved = why
            progress.write(
                f"could not save {name} at iteration {run.iteration} ({why}); "
                f"kept the previous one{'' if name != 'latest.npz' else ': ' + _last(run)}; training goes on"
            )
            return why
        if name == "latest.npz":
            run.unsaved = None
        return None

    phase = "idle"
    snapshot: tuple[Any, ...] = ()
    try:
        while run.iteration < total:
            if par.stop_agreed(stop["requested"]):
                raise KeyboardInterrupt
            snapshot = (run.batches.state_dict(), run.gen.get_state(), run.hidden)
            phase = "compute"
            t0 = time.perf_counter()
            step = run.batches.next_batch()
            h = None if (step.reset or run.hidden is None) else run.hidden
            logits, h_n = model(step.x, h)  # (T, N, V); h_n (L, N, H), or (h_n, c_n) for the LSTM
            loss = cross_entropy(logits.reshape(-1, V), Tensor._wrap(step.y.reshape(-1)))
            loss_value = float(loss.item())
            if not math.isfinite(loss_value) and not par.active:  # several: checked after the Allreduce
                _non_finite(run, "loss", loss_value)
            optimizer.zero_grad()
            loss.backward()
            del logits, loss  # the (T, N, V) logits and the graph: not held through evaluation and saving
            loss_value = par.reduce(loss_value, stop["requested"], run.iteration + 1)  # the batch's loss
            if not math.isfinite(loss_value):
                _non_finite(run, "loss", loss_value)
            if c.grad_clip:
                norm = float(clip_grad_norm_(params, c.grad_clip).item())
            else:
                norm = float(get_total_norm([p.grad for p in params if p.grad is not None]).item())
            if not math.isfinite(norm):
                _non_finite(run, "gradient norm", norm)
            phase = "update"  # from here until the end of the step the state cannot be rolled back
            optimizer.step()
            scheduler.step()
            run.hidden = detach_state(h_n)
            run.iteration += 1
            run.elapsed += time.perf_counter() - t0
            run.tokens += step.y.shape[0] * run.batches.batch_size  # T x N, all processes' tokens
            phase = "idle"
            it = run.iteration
            run.history.add_train(it, loss_value)
            progress.update(it, loss_value, run.tokens / max(run.elapsed, 1e-9))
            val = None
            if len(val_ids) >= 2 and (it % c.eval_every == 0 or it == total):
                val = evaluate(model, val_ids, c.seq_len, c.batch_size, c.eval_batches, par.comm, run.val_layout)
                run.history.add_val(it, val, run.elapsed)
                progress.set_val(it, val)
                if run.best_val is None or val < run.best_val:
                    run.best_val = val
                    save("best.npz", "best validation loss")
            if it % c.sample_every == 0 and not progress.quiet:
                new = sample_ids(
                    model,
                    prime_id,
                    c.sample_length,
                    c.sample_temperature,
                    None,
                    False,
                    run.sample_gen,
                    banned=run.vocab.unk_id,
                )
                text = run.vocab.decode_text(np.concatenate([prime_id, new]))
                progress.write(f"---- sample at iteration {it} ----\n{text}\n----")
            if it % c.checkpoint_every == 0 or it == total:
                save("latest.npz", "periodic")
            if callback is not None:
                callback(
                    it,
                    {
                        "loss": loss_value,
                        "val_loss": val,
                        "grad_norm": norm,
                        "lr": optimizer.param_groups[0]["lr"],
                        "model": model,
                    },
                )
    except KeyboardInterrupt:
        if phase == "update":
            raise TrainingInterrupted(
                run.iteration,
                None,
                (
                    f"interrupted in the middle of an optimiser update at iteration {run.iteration}; "
                    f"nothing saved, the last checkpoint is {_last(run)}"
                ),
            ) from None
        if phase == "compute":  # undo the half-done iteration: back to the end of the last one
            run.batches.load_state_dict(snapshot[0])
            run.gen.set_state(snapshot[1])
            run.hidden = snapshot[2]
        try:
            failure = save("latest.npz", "interrupted")
        except KeyboardInterrupt:  # a second Ctrl-C during the save: the atomic write left the old file
            raise TrainingInterrupted(
                run.iteration,
                None,
                f"interrupted again while saving at iteration {run.iteration}; the last checkpoint is {_last(run)}",
            ) from None
        if ckpt_dir is None:
            where = "no checkpoint directory, nothing saved"
        elif failure is not None:
            where = f"could not save ({failure}); the last checkpoint is {_last(run)}"
        else:
            where = f"saved to {str(run.last_saved)!r}"
        saved = run.last_saved if failure is None else None
        raise TrainingInterrupted(run.iteration, saved, f"interrupted at iteration {run.iteration}: {where}") from None
    finally:
        if old_handler is not None:
            signal.signal(signal.SIGINT, old_handler)


def _last(run: Run) -> str:
    if run.last_saved is None:
        return "none"
    return f"{str(run.last_saved)!r} (iteration {run.last_saved_iteration})"


def _non_finite(run: Run, what: str, value: float) -> None:
    lr = run.optimizer.param_groups[0]["lr"]
    raise NonFiniteLossError(
        run.iteration + 1,
        run.last_saved,
        (
            f"the {what} became {value} at iteration {run.iteration + 1}; training stopped without saving "
            f"this state. Last good checkpoint: {_last(run)}. Try a lower --lr (now {lr:g}) or a "
            f"--grad-clip"
        ),
    )
