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

Under ``mpiexec -n K`` the same set-up and loop run on K processes, each on its block of the N
streams, with one gradient Allreduce per step (``parallel.py``); with one process nothing
changes.  Rank 0 alone opens the checkpoint directory, reads checkpoints, prints and writes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from .. import optim
from ..autograd.random import Generator
from ..data import DataError, MappedBPTTBatches, TokenMap, Vocab, stream_split, train_val_split
from ..distributed import Communicator, abort_on_error, bcast_json, fail_together, init_world, root_first
from .char_rnn import RNNLanguageModel
from .checkpoint import Checkpoint, resolve_checkpoint_path
from .config import TrainConfig
from .footprint import check_training_memory
from .loop import CheckpointSaveError, NonFiniteLossError, Run, TrainingInterrupted, _last, evaluate, run_loop
from .parallel import DataParallel, load_checkpoint_everywhere
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
    text: str | TokenMap | Callable[[], str],
    *,
    resume: bool | str | Path = False,
    overwrite: bool = False,
    run_dir: RunDirectory | None = None,
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
            corpus larger than memory), or a function that returns the corpus (called once, after the
            run directory is checked); the last ``val_fraction`` of its tokens is held out
            (with ``config.val_split="streams"``, that fraction of every stream, as char-rnn).
        resume: False, True (``config.checkpoint_dir``) or a checkpoint path: continue that
            run exactly, up to ``config.iters`` total iterations (or ``epochs``).
        overwrite: a fresh run may replace the checkpoints already in ``config.checkpoint_dir``
            (without it, such a directory is refused: ``RunDirectoryError``).
        run_dir: the checkpoint directory, already opened and locked by the caller
            (``RunDirectory.open``); by default `train` opens ``config.checkpoint_dir`` itself,
            before anything else, and releases it at the end.
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
            batch, shared among them.  Rank 0 alone opens ``run_dir``, prints and writes files;
            ``callback`` runs on every process with the same arguments and must decide the same
            way on all of them.

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
    comm = init_world() if comm is None else comm
    given = run_dir

    def open_directory() -> RunDirectory | None:  # on rank 0 alone: the others never write
        if given is not None:
            if not config.checkpoint_dir or Path(given.path).resolve() != Path(config.checkpoint_dir).resolve():
                raise ValueError(f"run_dir {str(given.path)!r} is not config.checkpoint_dir {config.checkpoint_dir!r}")
            return given
        if not config.checkpoint_dir:
            return None
        here = _resumes_in(resume, config.checkpoint_dir)
        return RunDirectory.open(config.checkpoint_dir, resume=here, overwrite=overwrite)

    run_dir = root_first(comm, open_directory, "opening the checkpoint directory")
    owned = run_dir if given is None else None
    try:
        return _train(config, text, resume, run_dir, source, quiet, callback, graceful_sigint, progress_stream, comm)
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
    text: str | TokenMap,
    resume: bool | str | Path,
    run_dir: RunDirectory | None,
    source: dict[str, Any] | None,
    quiet: bool,
    callback: Callable[[int, dict[str, Any]], None] | None,
    graceful_sigint: bool,
    progress_stream: Any,
    comm: Communicator,
) -> TrainResult:
    if callable(text) and not isinstance(text, TokenMap):
        text = text()
    if not isinstance(text, (str, TokenMap)):
        raise TypeError(f"train() needs the text as str or a TokenMap, got {type(text).__name__}")
    corpus = text if isinstance(text, TokenMap) else None
    ckpt = None
    if resume:
        ckpt = load_checkpoint_everywhere(comm, config.checkpoint_dir if resume is True else resume)
    if ckpt is not None:
        with fail_together(comm, "checking the checkpoint"):
            vocab, model_cfg, _ = checkpoint_model(ckpt)  # checked against the file's arrays before any is built
            if vocab.level != config.level:
                raise ValueError(f"the checkpoint was trained at level {vocab.level!r}, not {config.level!r}")
            if corpus is not None and corpus.vocab != vocab:
                raise ValueError(
                    f"the token map {str(corpus.path)!r} was encoded with another vocabulary than the checkpoint's; "
                    "encode the text with the checkpoint's: data.encode_corpus(path, vocab=...)"
                )
    elif corpus is not None:
        vocab = corpus.vocab
        model_cfg = replace(config.model, vocab_size=len(vocab))
    else:  # rank 0 builds the vocabulary and sends it to the others
        built = root_first(comm, lambda: Vocab.from_text(text, config.level), "building the vocabulary")
        vocab = Vocab.from_dict(bcast_json(comm, built.to_dict() if built else None, "the vocabulary"))
        model_cfg = replace(config.model, vocab_size=len(vocab))
    with fail_together(comm, "the start-up of training"):
        run, par, train_ids, val_ids = _start(comm, config, corpus, text, vocab, model_cfg, ckpt, run_dir, source)
    requested_batch, batch_size, config = config.batch_size, run.config.batch_size, run.config
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
    if note:
        progress.write(note)
    try:
        with abort_on_error(comm, (TrainingInterrupted, NonFiniteLossError)):
            run_loop(run, par, total, train_ids, val_ids, progress, callback, graceful_sigint or par.active)
    finally:
        progress.close()
    if run.unsaved is not None:
        raise CheckpointSaveError(
            f"training finished at iteration {run.iteration}, but its checkpoint could not be written "
            f"({run.unsaved}); the last checkpoint on disk is {_last(run)}"
        )
    rate = run.tokens / run.elapsed if run.elapsed > 0 else 0.0
    return TrainResult(run.model, run.history, run.iteration, run.last_saved, run.elapsed, rate)


def _start(
    comm: Communicator,
    config: TrainConfig,
    corpus: TokenMap | None,
    text: Any,
    vocab: Vocab,
    model_cfg: Any,
    ckpt: Checkpoint | None,
    run_dir: RunDirectory | None,
    source: dict[str, Any] | None,
) -> tuple[Run, DataParallel, Any, Any]:
    """This process's run, fresh or restored from ``ckpt`` (local work, no communication)."""
    # (n,): a read-only memory map, or the vocab's compact ids (unknown tokens on resume -> DataError naming them)
    ids = corpus.ids if corpus is not None else vocab.encode_text(text, dtype=vocab.ids_dtype)  # 1-2 bytes a token
    if config.val_split == "streams":  # char-rnn's: the tail of every stream (data.stream_split); ids stay whole
        train_layout, val_layout = stream_split(len(ids), config.batch_size, config.seq_len, config.val_fraction)
        train_ids = val_ids = ids
        batch_size = config.batch_size
    else:
        train_layout = val_layout = None
        train_ids, val_ids = train_val_split(ids, config.val_fraction)
        batch_size = _fit_batch_size(len(train_ids), config.batch_size, config.seq_len)
    config = replace(config, model=model_cfg, batch_size=batch_size)
    if ckpt is None:  # a checkpoint's model was checked against its arrays, which are in memory already
        check_training_memory(model_cfg, config.optimizer, config.seq_len, batch_size, config.dtype)
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
    batches = MappedBPTTBatches(
        train_ids, batch_size, config.seq_len, streams=par.streams, fingerprint=fingerprint, layout=train_layout
    )
    run = Run(
        config,
        model,
        optimizer,
        scheduler,
        gen,
        sample_gen,
        batches,
        vocab,
        source or {"kind": "text"},
        run_dir=run_dir,
        val_layout=val_layout,
    )
    if ckpt is not None:
        restore_training_state(run, ckpt)
    return run, par, train_ids, val_ids
