"""Training: truncated BPTT over contiguous batches, as min-char-rnn and char-rnn.

The token stream is cut into N parallel streams (``data.BPTTBatches``); batch k holds steps
k*T .. k*T+T-1 of every stream, so the hidden state at the end of batch k is the right
start for batch k+1.  It is carried over *detached* (gradients stop at the batch boundary,
which is what "truncated" means) and reset to zeros at each epoch.

`train` sets a run up, in an order that spends no time on work it might lose: the checkpoint
directory is checked, locked and cleaned first (``rundir.py``), the checkpoint to resume from
is validated, the memory the model needs is estimated against the free memory, and only then
are the model, the optimiser and the batches built.  ``loop.py`` runs the iterations.

Everything random flows from ``config.seed`` through explicit generators whose states go
into the checkpoints with the model, the optimiser, the scheduler, the data position and
the carried hidden state, so a resumed run continues bit for bit.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from .. import optim
from ..autograd.random import Generator
from ..data import BPTTBatches, DataError, Vocab, train_val_split
from .char_rnn import RNNLanguageModel
from .checkpoint import load_checkpoint, resolve_checkpoint_path
from .config import TrainConfig
from .footprint import check_training_memory
from .loop import CheckpointSaveError, NonFiniteLossError, Run, TrainingInterrupted, _last, evaluate, run_loop
from .progress import Progress
from .rundir import RunDirectory
from .state import History, checkpoint_model, restore_training_state

__all__ = [
    "train",
    "evaluate",
    "TrainResult",
    "TrainingInterrupted",
    "NonFiniteLossError",
    "CheckpointSaveError",
    "build_optimizer",
    "History",
    "RunDirectory",
]


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


def _fit_batch_size(n_train: int, batch_size: int, seq_len: int) -> int:
    """The largest batch size <= batch_size whose streams each hold one sequence."""
    if n_train < seq_len + 1:
        raise DataError(
            f"the training text has {n_train} tokens, fewer than one sequence of "
            f"seq_len={seq_len} plus its shifted target ({seq_len + 1}); use a longer "
            f"text or a smaller --seq-len"
        )
    return min(batch_size, (n_train - 1) // seq_len)


def train(
    config: TrainConfig,
    text: str,
    *,
    resume: bool | str | Path = False,
    overwrite: bool = False,
    run_dir: RunDirectory | None = None,
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
        overwrite: a fresh run may replace the checkpoints already in ``config.checkpoint_dir``
            (without it, such a directory is refused: ``RunDirectoryError``).
        run_dir: the checkpoint directory, already opened and locked by the caller
            (``RunDirectory.open``); by default `train` opens ``config.checkpoint_dir`` itself,
            before anything else, and releases it at the end.
        source: where ``text`` came from (JSON-safe), stored in checkpoints.
        quiet: print nothing.
        callback: ``callback(iteration, info)`` after every completed iteration; it may raise
            KeyboardInterrupt to stop (the state is then saved as on Ctrl-C).
        graceful_sigint: the first Ctrl-C finishes the current iteration, saves, and stops;
            a second one aborts at once (the checkpoint from before stays as it was).

    Raises:
        TrainingInterrupted: on Ctrl-C / KeyboardInterrupt, after saving (``.checkpoint``).
        NonFiniteLossError: the loss or gradient norm became NaN/inf (last good checkpoint kept).
        CheckpointSaveError: training finished but its final checkpoint could not be written.
        RunDirectoryError: the checkpoint directory cannot be written, is in use by another
            run, or holds another run's checkpoint.
        MemoryLimitError: the model would not fit in the free memory.
        DataError, CheckpointError, ValueError: bad text, checkpoint or configuration.
    """
    config.validate()
    if resume is True and not config.checkpoint_dir:
        raise ValueError("resume=True needs config.checkpoint_dir")
    owned = None
    if run_dir is None and config.checkpoint_dir:
        here = _resumes_in(resume, config.checkpoint_dir)
        run_dir = owned = RunDirectory.open(config.checkpoint_dir, resume=here, overwrite=overwrite)
    elif run_dir is not None and (
        not config.checkpoint_dir or Path(run_dir.path).resolve() != Path(config.checkpoint_dir).resolve()
    ):
        raise ValueError(f"run_dir {str(run_dir.path)!r} is not config.checkpoint_dir {config.checkpoint_dir!r}")
    try:
        return _train(config, text, resume, run_dir, source, quiet, callback, graceful_sigint, progress_stream)
    finally:
        if owned is not None:
            owned.close()


def _resumes_in(resume: bool | str | Path, directory: str) -> bool:
    """Whether ``resume`` continues the run whose checkpoints are in ``directory``."""
    if resume is True:
        return True
    if not resume:
        return False
    return resolve_checkpoint_path(resume).resolve().parent == Path(directory).resolve()


def _train(
    config: TrainConfig,
    text: str,
    resume: bool | str | Path,
    run_dir: RunDirectory | None,
    source: dict[str, Any] | None,
    quiet: bool,
    callback: Callable[[int, dict[str, Any]], None] | None,
    graceful_sigint: bool,
    progress_stream: Any,
) -> TrainResult:
    ckpt = None
    if resume:
        ckpt = load_checkpoint(config.checkpoint_dir if resume is True else resume)
    if ckpt is not None:
        vocab, model_cfg, _ = checkpoint_model(ckpt)  # checked against the file's arrays before any is built
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
    if ckpt is None:  # a checkpoint's model was checked against its arrays, which are in memory already
        check_training_memory(model_cfg, config.optimizer, config.seq_len, batch_size, config.dtype)
    gen, sample_gen = Generator(config.seed), Generator(config.seed + 1)
    model = RNNLanguageModel.from_config(model_cfg, generator=gen, vocab=vocab, dtype=config.dtype)
    optimizer = build_optimizer(config.optimizer, list(model.parameters()), config.lr, config.weight_decay)
    scheduler = optim.lr_scheduler.StepLR(optimizer, step_size=config.lr_decay_every, gamma=config.lr_decay)
    run = Run(
        config,
        model,
        optimizer,
        scheduler,
        gen,
        sample_gen,
        BPTTBatches(train_ids, batch_size, config.seq_len),
        vocab,
        source or {"kind": "text"},
        run_dir=run_dir,
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
    if run_dir is not None and run_dir.stale_holder:
        h = run_dir.stale_holder
        progress.write(
            f"note: took over the lock of a run that is no longer running "
            f"(pid {h.get('pid')}, since {h.get('started')})"
        )
    if run_dir is not None and run_dir.removed_temporaries:
        progress.write(
            f"note: removed {len(run_dir.removed_temporaries)} temporary file(s) left by an interrupted save"
        )
    if batch_size < requested_batch:
        progress.write(
            f"note: the training text holds {len(train_ids)} tokens, too few for {requested_batch} "
            f"streams of {config.seq_len}; using batch size {batch_size}"
        )
    try:
        run_loop(run, total, train_ids, val_ids, progress, callback, graceful_sigint)
    finally:
        progress.close()
    if run.unsaved is not None:
        raise CheckpointSaveError(
            f"training finished at iteration {run.iteration}, but its checkpoint could not be written "
            f"({run.unsaved}); the last checkpoint on disk is {_last(run)}"
        )
    rate = run.tokens / run.elapsed if run.elapsed > 0 else 0.0
    return TrainResult(model, run.history, run.iteration, run.last_saved, run.elapsed, rate)
