"""The training loop: truncated BPTT over contiguous batches, as min-char-rnn and char-rnn.

The token stream is cut into N parallel streams (``data.BPTTBatches``); batch k holds steps
k*T .. k*T+T-1 of every stream, so the hidden state at the end of batch k is the right
start for batch k+1.  It is carried over *detached* (gradients stop at the batch boundary,
which is what "truncated" means) and reset to zeros at each epoch.  Per iteration:

    logits, h = model(x, h.detach())            x, y (T, N); logits (T, N, V)
    loss = mean over T*N of -log softmax(logits)[y]           nats per token
    loss.backward(); clip the global gradient norm; optimizer.step(); scheduler.step()

Everything random flows from ``config.seed`` through explicit generators whose states go
into the checkpoints with the model, the optimiser, the scheduler, the data position and
the carried hidden state, so a resumed run continues bit for bit.
"""

from __future__ import annotations

import math
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from .. import optim
from ..autograd.grad_mode import no_grad
from ..autograd.random import Generator
from ..autograd.tensor import Tensor
from ..data import BPTTBatches, DataError, Vocab, train_val_split
from ..nn.functional import cross_entropy
from ..nn.utils import clip_grad_norm_, get_total_norm
from .char_rnn import RNNLanguageModel
from .checkpoint import CheckpointError, load_checkpoint
from .config import ModelConfig, TrainConfig
from .generate import sample_ids
from .progress import Progress
from .state import History, restore_training_state, save_training_state

__all__ = [
    "train",
    "evaluate",
    "TrainResult",
    "TrainingInterrupted",
    "NonFiniteLossError",
    "build_optimizer",
    "History",
]


class TrainingInterrupted(KeyboardInterrupt):
    """Ctrl-C (KeyboardInterrupt) stopped training; ``checkpoint`` is where the state was saved."""

    def __init__(self, iteration: int, checkpoint: Path | None, message: str) -> None:
        super().__init__(message)
        self.iteration = iteration
        self.checkpoint = checkpoint
        self.message = message


class NonFiniteLossError(RuntimeError):
    """The loss (or the gradient norm) became NaN or infinite; nothing was saved after it."""

    def __init__(self, iteration: int, checkpoint: Path | None, message: str) -> None:
        super().__init__(message)
        self.iteration = iteration
        self.checkpoint = checkpoint


@dataclass
class TrainResult:
    """What `train` returns: the trained model, its history, the last iteration and checkpoint, the speed."""

    model: RNNLanguageModel  # trained, with ``model.vocab`` set
    history: History
    iteration: int
    checkpoint: Path | None
    elapsed: float  # seconds spent in training steps (evaluation, sampling and saving excluded)
    tokens_per_sec: float


def build_optimizer(name: str, params: list, lr: float, weight_decay: float = 0.0) -> Any:
    """The optimiser called ``name`` (sgd|adagrad|rmsprop|adam|adamw) over ``params``."""
    if name == "sgd":
        return optim.SGD(params, lr=lr, weight_decay=weight_decay)
    if name == "adagrad":
        return optim.Adagrad(params, lr=lr, weight_decay=weight_decay)
    if name == "rmsprop":  # char-rnn's default: decay rate 0.95
        return optim.RMSprop(params, lr=lr, alpha=0.95, weight_decay=weight_decay)
    if name == "adam":
        return optim.Adam(params, lr=lr, weight_decay=weight_decay)
    if name == "adamw":
        return optim.AdamW(params, lr=lr, weight_decay=weight_decay)
    raise ValueError(f"unknown optimizer {name!r}")


def evaluate(
    model: RNNLanguageModel,
    ids: np.ndarray,
    seq_len: int,
    batch_size: int,
    max_batches: int | None = None,
) -> float | None:
    """Mean loss (nats/token) over contiguous batches of ``ids``, state carried, no dropout.

    The batch geometry shrinks to fit a short validation tail; None if it has < 2 tokens.
    """
    n = len(ids)
    if n < 2:
        return None
    T = min(seq_len, n - 1)
    N = max(1, min(batch_size, (n - 1) // T))
    batches = BPTTBatches(ids, N, T)
    count = len(batches) if max_batches is None else min(len(batches), max_batches)
    V = model.vocab_size
    was_training = model.training
    model.eval()
    total, tokens, h = 0.0, 0, None
    try:
        with no_grad():
            for k in range(count):
                x, y = batches.batch(k)  # (T, N)
                logits, h = model(x, h)  # (T, N, V)
                loss = cross_entropy(logits.reshape(-1, V), Tensor._wrap(y.reshape(-1)))
                total += float(loss.item()) * y.size
                tokens += y.size
    finally:
        model.train(was_training)
    return total / tokens


def _fit_batch_size(n_train: int, batch_size: int, seq_len: int) -> int:
    """The largest batch size <= batch_size whose streams each hold one sequence."""
    if n_train < seq_len + 1:
        raise DataError(
            f"the training text has {n_train} tokens, fewer than one sequence of "
            f"seq_len={seq_len} plus its shifted target ({seq_len + 1}); use a longer "
            f"text or a smaller --seq-len"
        )
    return min(batch_size, (n_train - 1) // seq_len)


@dataclass
class _Run:
    """Everything that changes during training (what a checkpoint holds)."""

    config: TrainConfig
    model: RNNLanguageModel
    optimizer: Any
    scheduler: Any
    gen: Generator  # model init + dropout
    sample_gen: Generator  # periodic samples
    batches: BPTTBatches
    vocab: Vocab
    source: dict[str, Any]
    hidden: Tensor | None = None
    iteration: int = 0
    elapsed: float = 0.0
    tokens: int = 0
    best_val: float | None = None
    history: History = field(default_factory=History)
    last_saved: Path | None = None
    last_saved_iteration: int | None = None


def train(
    config: TrainConfig,
    text: str,
    *,
    resume: bool | str | Path = False,
    source: dict[str, Any] | None = None,
    quiet: bool = False,
    callback: Callable[[int, dict[str, Any]], None] | None = None,
    graceful_sigint: bool = False,
    progress_stream: Any = None,
) -> TrainResult:
    """Train a language model on ``text``; see the module docstring.

    Args:
        config: the run (validated here).  ``config.model.vocab_size`` is set from the text.
        text: the whole corpus; the last ``val_fraction`` of its tokens is held out.
        resume: False, True (``config.checkpoint_dir``) or a checkpoint path: continue that
            run exactly, up to ``config.iters`` total iterations (or ``epochs``).
        source: where ``text`` came from (JSON-safe), stored in checkpoints.
        quiet: print nothing.
        callback: ``callback(iteration, info)`` after every completed iteration; it may raise
            KeyboardInterrupt to stop (the state is then saved as on Ctrl-C).
        graceful_sigint: the first Ctrl-C finishes the current iteration, saves, and stops;
            a second one aborts at once (the checkpoint from before stays as it was).

    Raises:
        TrainingInterrupted: on Ctrl-C / KeyboardInterrupt, after saving (``.checkpoint``).
        NonFiniteLossError: the loss or gradient norm became NaN/inf (last good checkpoint kept).
        DataError, CheckpointError, ValueError: bad text, checkpoint or configuration.
    """
    config.validate()
    ckpt = None
    if resume:
        if resume is True and not config.checkpoint_dir:
            raise ValueError("resume=True needs config.checkpoint_dir")
        ckpt = load_checkpoint(config.checkpoint_dir if resume is True else resume)
    if ckpt is not None:
        try:
            vocab = Vocab.from_dict(ckpt.meta["vocab"])
            model_cfg = ModelConfig.from_dict(ckpt.meta["model_config"])
        except (DataError, ValueError, TypeError) as e:
            raise CheckpointError(f"checkpoint {str(ckpt.path)!r}: invalid vocabulary or model config: {e}") from None
        if vocab.level != config.level:
            raise ValueError(f"the checkpoint was trained at level {vocab.level!r}, not {config.level!r}")
    else:
        vocab = Vocab.from_text(text, config.level)
        model_cfg = replace(config.model, vocab_size=len(vocab))
    ids = vocab.encode_text(text)  # (n,) int64; unknown tokens on resume -> DataError naming them
    train_ids, val_ids = train_val_split(ids, config.val_fraction)
    requested_batch = config.batch_size
    batch_size = _fit_batch_size(len(train_ids), config.batch_size, config.seq_len)
    config = replace(config, model=model_cfg, batch_size=batch_size)
    gen, sample_gen = Generator(config.seed), Generator(config.seed + 1)
    model = RNNLanguageModel.from_config(model_cfg, generator=gen, vocab=vocab, dtype=config.dtype)
    optimizer = build_optimizer(config.optimizer, list(model.parameters()), config.lr, config.weight_decay)
    scheduler = optim.lr_scheduler.StepLR(optimizer, step_size=config.lr_decay_every, gamma=config.lr_decay)
    run = _Run(
        config,
        model,
        optimizer,
        scheduler,
        gen,
        sample_gen,
        BPTTBatches(train_ids, batch_size, config.seq_len),
        vocab,
        source or {"kind": "text"},
    )
    if ckpt is not None:
        restore_training_state(run, ckpt)
    total = config.iters if config.iters is not None else (config.epochs or 1) * len(run.batches)
    progress = Progress(
        total,
        run.iteration,
        quiet,
        "char" if config.level == "char" else "tok",
        stream=progress_stream,
        log_every=max(1, min(100, config.eval_every)),
    )
    if batch_size < requested_batch:
        progress.write(
            f"note: the training text holds {len(train_ids)} tokens, too few for {requested_batch} "
            f"streams of {config.seq_len}; using batch size {batch_size}"
        )
    try:
        _loop(run, total, train_ids, val_ids, progress, callback, graceful_sigint)
    finally:
        progress.close()
    rate = run.tokens / run.elapsed if run.elapsed > 0 else 0.0
    return TrainResult(model, run.history, run.iteration, run.last_saved, run.elapsed, rate)


def _loop(
    run: _Run,
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

        def on_sigint(signum: int, frame: Any) -> None:
            stop["requested"] = True
            signal.signal(signal.SIGINT, signal.default_int_handler)  # a second Ctrl-C aborts
            progress.write("Ctrl-C: stopping after this iteration and saving (Ctrl-C again to abort)")

        old_handler = signal.signal(signal.SIGINT, on_sigint)

    def save(reason: str) -> None:
        if ckpt_dir is None:
            return
        if not all(np.isfinite(p._data).all() for p in params):
            progress.write(f"not saving at iteration {run.iteration} ({reason}): parameters are not finite")
            return
        save_training_state(run, ckpt_dir / "latest.npz", progress)

    phase = "idle"
    snapshot: tuple[Any, ...] = ()
    try:
        while run.iteration < total:
            if stop["requested"]:
                raise KeyboardInterrupt
            snapshot = (run.batches.state_dict(), run.gen.get_state(), run.hidden)
            phase = "compute"
            t0 = time.perf_counter()
            step = run.batches.next_batch()
            h = None if (step.reset or run.hidden is None) else run.hidden
            logits, h_n = model(step.x, h)  # (T, N, V), (L, N, H)
            loss = cross_entropy(logits.reshape(-1, V), Tensor._wrap(step.y.reshape(-1)))
            loss_value = float(loss.item())
            if not math.isfinite(loss_value):
                _non_finite(run, "loss", loss_value)
            optimizer.zero_grad()
            loss.backward()
            if c.grad_clip:
                norm = float(clip_grad_norm_(params, c.grad_clip).item())
            else:
                norm = float(get_total_norm([p.grad for p in params if p.grad is not None]).item())
            if not math.isfinite(norm):
                _non_finite(run, "gradient norm", norm)
            phase = "update"  # from here until the end of the step the state cannot be rolled back
            optimizer.step()
            scheduler.step()
            run.hidden = h_n.detach()
            run.iteration += 1
            run.elapsed += time.perf_counter() - t0
            run.tokens += step.x.size
            phase = "idle"
            it = run.iteration
            run.history.add_train(it, loss_value)
            progress.update(it, loss_value, run.tokens / max(run.elapsed, 1e-9))
            val = None
            if len(val_ids) >= 2 and (it % c.eval_every == 0 or it == total):
                val = evaluate(model, val_ids, c.seq_len, c.batch_size, c.eval_batches)
                run.history.add_val(it, val, run.elapsed)
                progress.set_val(it, val)
                if run.best_val is None or val < run.best_val:
                    run.best_val = val
                    if ckpt_dir is not None:
                        save_training_state(run, ckpt_dir / "best.npz", None)
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
                save("periodic")
            if callback is not None:
                callback(
                    it,
                    {
                        "loss": loss_value,
                        "val_loss": val,
                        "grad_norm": norm,
                        "lr": optimizer.param_groups[0]["lr"],
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
        save("interrupted")
        where = f"saved to {str(run.last_saved)!r}" if run.last_saved else "no checkpoint directory, nothing saved"
        raise TrainingInterrupted(
            run.iteration, run.last_saved, f"interrupted at iteration {run.iteration}: {where}"
        ) from None
    finally:
        if old_handler is not None:
            signal.signal(signal.SIGINT, old_handler)


def _last(run: _Run) -> str:
    if run.last_saved is None:
        return "none"
    return f"{str(run.last_saved)!r} (iteration {run.last_saved_iteration})"


def _non_finite(run: _Run, what: str, value: float) -> None:
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
