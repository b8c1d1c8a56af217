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

Under ``mpiexec -n K`` the same loop runs on K processes, each on its block of the N streams,
with one gradient Allreduce per step (``parallel.py``); with one process nothing changes.
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
from ..data import DataError, MappedBPTTBatches, TokenMap, Vocab, train_val_split
from ..distributed import (
    Communicator,
    SingleProcess,
    abort_on_error,
    bcast_json,
    fail_together,
    init_world,
    root_first,
    stream_share,
)
from ..nn.functional import cross_entropy
from ..nn.utils import clip_grad_norm_, get_total_norm
from .char_rnn import RNNLanguageModel
from .checkpoint import CheckpointError
from .config import ModelConfig, TrainConfig
from .generate import sample_ids
from .parallel import DataParallel, load_checkpoint_everywhere
from .progress import Progress
from .state import History, restore_training_state

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
    comm: Communicator | None = None,
) -> float | None:
    """Mean loss (nats/token) over contiguous batches of ``ids``, state carried, no dropout.

    The batch geometry shrinks to fit a short validation tail; None if it has < 2 tokens.
    With a ``comm`` of K processes, each evaluates its block of the streams (collective).
    """
    n = len(ids)
    if n < 2:
        return None
    T = min(seq_len, n - 1)
    N = max(1, min(batch_size, (n - 1) // T))
    comm = comm or SingleProcess()
    share = stream_share(N, comm.size, comm.rank, allow_empty=True)
    total, tokens, h = 0.0, 0, None
    if share.stop > share.start:
        batches = MappedBPTTBatches(ids, N, T, streams=share)
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
    batches: MappedBPTTBatches
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
    extra_meta: dict[str, Any] = field(default_factory=dict)  # more checkpoint metadata (the processes')


def train(
    config: TrainConfig,
    text: str | TokenMap,
    *,
    resume: bool | str | Path = False,
    source: dict[str, Any] | None = None,
    quiet: bool = False,
    callback: Callable[[int, dict[str, Any]], None] | None = None,
    graceful_sigint: bool = False,
    progress_stream: Any = None,
    comm: Communicator | None = None,
) -> TrainResult:
    """Train a language model on ``text``; see the module docstring.

    Args:
        config: the run (validated here).  ``config.model.vocab_size`` is set from the text.
        text: the whole corpus, or a `TokenMap` of it (``data.encode_corpus``: a memory-mapped
            corpus larger than memory); the last ``val_fraction`` of its tokens is held out.
        resume: False, True (``config.checkpoint_dir``) or a checkpoint path: continue that
            run exactly, up to ``config.iters`` total iterations (or ``epochs``).
        source: where ``text`` came from (JSON-safe), stored in checkpoints.
        quiet: print nothing.
        callback: ``callback(iteration, info)`` after every completed iteration, ``info`` holding
            the loss, val_loss, grad_norm, lr and the model; it may raise KeyboardInterrupt to
            stop (the state is then saved as on Ctrl-C).
        graceful_sigint: the first Ctrl-C finishes the current iteration, saves, and stops;
            a second one aborts at once (the checkpoint from before stays as it was).  Always
            on with several processes, which must agree on when to stop.
        comm: the processes that train together (default ``distributed.init_world()``: all of
            them under ``mpiexec -n K``, else this one).  ``config.batch_size`` is the global
            batch, shared among them.  Rank 0 alone prints and writes files; ``callback`` runs
            on every process with the same arguments and must decide the same way on all.

    Raises:
        TrainingInterrupted: on Ctrl-C / KeyboardInterrupt, after saving (``.checkpoint``).
        NonFiniteLossError: the loss or gradient norm became NaN/inf (last good checkpoint kept).
        DataError, CheckpointError, ValueError: bad text, checkpoint or configuration.
    """
    config.validate()
    comm = init_world() if comm is None else comm
    corpus = text if isinstance(text, TokenMap) else None
    ckpt = None
    if resume:
        if resume is True and not config.checkpoint_dir:
            raise ValueError("resume=True needs config.checkpoint_dir")
        ckpt = load_checkpoint_everywhere(comm, config.checkpoint_dir if resume is True else resume)
    if ckpt is not None:
        try:
            vocab = Vocab.from_dict(ckpt.meta["vocab"])
            model_cfg = ModelConfig.from_dict(ckpt.meta["model_config"])
        except (DataError, ValueError, TypeError) as e:
            raise CheckpointError(f"checkpoint {str(ckpt.path)!r}: invalid vocabulary or model config: {e}") from None
        if vocab.level != config.level:
            raise ValueError(f"the checkpoint was trained at level {vocab.level!r}, not {config.level!r}")
        if corpus is not None and corpus.vocab != vocab:
            raise ValueError(
                f"the token map {str(corpus.path)!r} was encoded with another vocabulary than the checkpoint's; "
                "encode the text with the checkpoint's: data.encode_corpus(path, vocab=...)"
            )
    else:
        if corpus is not None:
            vocab = corpus.vocab
        else:  # rank 0 builds the vocabulary and sends it to the others
            built = root_first(comm, lambda: Vocab.from_text(text, config.level), "building the vocabulary")
            vocab = Vocab.from_dict(bcast_json(comm, built.to_dict() if built else None, "the vocabulary"))
        model_cfg = replace(config.model, vocab_size=len(vocab))
    with fail_together(comm, "the start-up of training"):
        run, par, train_ids, val_ids, requested = _start(comm, config, corpus, text, vocab, model_cfg, ckpt, source)
    config = run.config
    note = par.start(run, ckpt, config.seed)
    total = config.iters if config.iters is not None else (config.epochs or 1) * len(run.batches)
    progress = Progress(
        total,
        run.iteration,
        quiet or not comm.is_root,
        "char" if config.level == "char" else "tok",
        stream=progress_stream,
        log_every=max(1, min(100, config.eval_every)),
    )
    if config.batch_size < requested:
        progress.write(
            f"note: the training text holds {len(train_ids)} tokens, too few for {requested} "
            f"streams of {config.seq_len}; using batch size {config.batch_size}"
        )
    if note:
        progress.write(note)
    try:
        with abort_on_error(comm, (TrainingInterrupted, NonFiniteLossError)):
            _loop(run, par, total, train_ids, val_ids, progress, callback, graceful_sigint or par.active)
    finally:
        progress.close()
    rate = run.tokens / run.elapsed if run.elapsed > 0 else 0.0
    return TrainResult(run.model, run.history, run.iteration, run.last_saved, run.elapsed, rate)


def _start(
    comm: Communicator,
    config: TrainConfig,
    corpus: TokenMap | None,
    text: Any,
    vocab: Vocab,
    model_cfg: ModelConfig,
    ckpt: Any,
    source: dict[str, Any] | None,
) -> tuple[_Run, DataParallel, np.ndarray, np.ndarray, int]:
    """This process's run, fresh or restored from ``ckpt`` (local work, no communication)."""
    # (n,): a read-only memory map, or int64 from the text (unknown tokens on resume -> DataError naming them)
    ids = corpus.ids if corpus is not None else vocab.encode_text(text)
    train_ids, val_ids = train_val_split(ids, config.val_fraction)
    requested_batch = config.batch_size
    batch_size = _fit_batch_size(len(train_ids), config.batch_size, config.seq_len)
    config = replace(config, model=model_cfg, batch_size=batch_size)
    gen, sample_gen = Generator(config.seed), Generator(config.seed + 1)
    model = RNNLanguageModel.from_config(model_cfg, generator=gen, vocab=vocab, dtype=config.dtype)
    optimizer = build_optimizer(config.optimizer, list(model.parameters()), config.lr, config.weight_decay)
    scheduler = optim.lr_scheduler.StepLR(optimizer, step_size=config.lr_decay_every, gamma=config.lr_decay)
    par = DataParallel(comm, batch_size, list(model.parameters()))
    if not comm.is_root:  # rank 0 alone checks the data against a checkpoint and saves its fingerprint
        fingerprint: Any = ckpt.meta.get("data", {}).get("fingerprint") if ckpt is not None else -1
    elif corpus is not None:
        fingerprint = lambda: corpus.fingerprint(len(train_ids))  # noqa: E731 - computed when first needed
    else:
        fingerprint = None
    batches = MappedBPTTBatches(train_ids, batch_size, config.seq_len, streams=par.streams, fingerprint=fingerprint)
    run = _Run(config, model, optimizer, scheduler, gen, sample_gen, batches, vocab, source or {"kind": "text"})
    if ckpt is not None:
        restore_training_state(run, ckpt)
    return run, par, train_ids, val_ids, requested_batch


def _loop(
    run: _Run,
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

    def save(reason: str) -> None:
        if ckpt_dir is None:
            return
        if not all(np.isfinite(p._data).all() for p in params):
            progress.write(f"not saving at iteration {run.iteration} ({reason}): parameters are not finite")
            return
        par.save(run, ckpt_dir / "latest.npz", progress)

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
            logits, h_n = model(step.x, h)  # (T, N, V), (L, N, H)
            loss = cross_entropy(logits.reshape(-1, V), Tensor._wrap(step.y.reshape(-1)))
            loss_value = float(loss.item())
            if not math.isfinite(loss_value) and not par.active:  # several: checked after the Allreduce
                _non_finite(run, "loss", loss_value)
            optimizer.zero_grad()
            loss.backward()
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
            run.hidden = h_n.detach()
            run.iteration += 1
            run.elapsed += time.perf_counter() - t0
            run.tokens += step.y.shape[0] * run.batches.batch_size  # T x N, all processes' tokens
            phase = "idle"
            it = run.iteration
            run.history.add_train(it, loss_value)
            progress.update(it, loss_value, run.tokens / max(run.elapsed, 1e-9))
            val = None
            if len(val_ids) >= 2 and (it % c.eval_every == 0 or it == total):
                val = evaluate(model, val_ids, c.seq_len, c.batch_size, c.eval_batches, par.comm)
                run.history.add_val(it, val, run.elapsed)
                progress.set_val(it, val)
                if run.best_val is None or val < run.best_val:
                    run.best_val = val
                    if ckpt_dir is not None:
                        par.save(run, ckpt_dir / "best.npz", None)
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
