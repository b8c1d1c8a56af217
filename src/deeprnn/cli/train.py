"""``deeprnn train [TEXT] [options]``: train a language model (no TEXT: the embedded corpus).

A TEXT file is encoded once to a memory-mapped file of token ids (``data.encode_corpus``,
cached in ``--cache-dir``), so memory does not grow with the text.  Under ``mpiexec -n K``
the K processes train one model together (``models/parallel.py``); rank 0 alone prints and
writes (the checkpoint directory is opened and locked by rank 0 only).
"""

from __future__ import annotations

import argparse
import math
import os
import stat
import sys
from contextlib import nullcontext
from pathlib import Path
from typing import Any

from ..fileio import file_digest
from ..models.checkpoint import short
from .args import (
    DEFAULT_ITERS,
    EXIT_ERROR,
    EXIT_INTERRUPTED,
    EXIT_USAGE,
    CLIError,
    decay,
    fail,
    fraction,
    non_negative_float,
    non_negative_int,
    positive_float,
    positive_int,
    user_errors,
)

# CLI option -> TrainConfig / ModelConfig field.  Defaults are None so that on --resume only
# the options actually given override the checkpoint's configuration.
MODEL_OPTIONS = ("kind", "hidden_size", "num_layers", "nonlinearity", "dropout", "embedding_dim")
FLAGS = {"kind": "--model"}  # a ModelConfig field whose option is not named after it
TRAIN_OPTIONS = (
    "level",
    "seq_len",
    "batch_size",
    "optimizer",
    "lr",
    "lr_decay",
    "lr_decay_every",
    "weight_decay",
    "grad_clip",
    "iters",
    "epochs",
    "val_fraction",
    "val_split",
    "eval_every",
    "eval_batches",
    "sample_every",
    "sample_length",
    "checkpoint_every",
    "checkpoint_dir",
    "seed",
    "dtype",
)


def add_train_command(sub: Any) -> None:
    """Register ``deeprnn train`` and its char-rnn style options on the subparsers."""
    from ..models.config import KINDS, LEVELS, NONLINEARITIES, OPTIMIZERS, VAL_SPLITS, ModelConfig, TrainConfig

    m, t = ModelConfig(), TrainConfig()
    p = sub.add_parser(
        "train",
        help="train a character- or word-level language model (LSTM, GRU or RNN)",
        description="Train a deep LSTM, GRU or Elman RNN language model with truncated BPTT "
        "(--model, as char-rnn's -model). Without TEXT it "
        "trains on the embedded corpus (--corpus). Ctrl-C saves a checkpoint and stops "
        f"(exit {EXIT_INTERRUPTED}); --resume continues exactly where it stopped.",
        argument_default=None,
    )
    p.add_argument("text", nargs="?", metavar="TEXT", help="a text file to train on")
    data = p.add_argument_group("data")
    data.add_argument("--corpus", help="embedded corpus to use when no TEXT is given (default: shakespeare)")
    data.add_argument("--encoding", help="encoding of TEXT (default: utf-8; e.g. gbk)")
    data.add_argument("--level", choices=LEVELS, help=f"tokens: characters or words (default: {t.level})")
    data.add_argument(
        "--cache-dir",
        help="where encoded texts (token ids + vocabulary) are cached (default: $DEEPRNN_CACHE_DIR, "
        "else ~/.cache/deeprnn/corpora)",
    )
    data.add_argument(
        "--val-fraction",
        type=fraction,
        help=f"held-out fraction for validation, in [0, 1) (default: {t.val_fraction})",
    )
    data.add_argument(
        "--val-split",
        choices=VAL_SPLITS,
        help="what is held out: the text's tail, or the tail of each of the batch's streams, as char-rnn "
        f"does (its published losses are measured so) (default: {t.val_split})",
    )
    model = p.add_argument_group("model")
    model.add_argument(
        "--model",
        dest="kind",
        choices=KINDS,
        help=f"the recurrent cell: an Elman RNN, an LSTM or a GRU (default: {m.kind})",
    )
    model.add_argument("--hidden-size", type=positive_int, help=f"units per layer (default: {m.hidden_size})")
    model.add_argument("--num-layers", type=positive_int, help=f"recurrent layers (default: {m.num_layers})")
    model.add_argument(
        "--nonlinearity",
        choices=NONLINEARITIES,
        help=f"the RNN's activation, --model rnn only (default: {m.nonlinearity})",
    )
    model.add_argument(
        "--dropout",
        type=fraction,
        help=f"dropout between layers and before the head (default: {m.dropout})",
    )
    model.add_argument(
        "--embedding-dim",
        type=positive_int,
        help="learn an embedding of this size (default: one-hot input, as char-rnn)",
    )
    opt = p.add_argument_group("optimisation")
    opt.add_argument("--seq-len", type=positive_int, help=f"BPTT length (default: {t.seq_len})")
    opt.add_argument("--batch-size", type=positive_int, help=f"parallel streams (default: {t.batch_size})")
    opt.add_argument("--optimizer", choices=OPTIMIZERS, help=f"(default: {t.optimizer})")
    opt.add_argument("--lr", type=positive_float, help=f"learning rate (default: {t.lr})")
    opt.add_argument(
        "--lr-decay",
        type=decay,
        help=f"multiply the lr by this every --lr-decay-every iterations (default: {t.lr_decay}, constant)",
    )
    opt.add_argument("--lr-decay-every", type=positive_int, help=f"(default: {t.lr_decay_every})")
    opt.add_argument("--weight-decay", type=non_negative_float, help=f"(default: {t.weight_decay})")
    opt.add_argument(
        "--grad-clip",
        type=non_negative_float,
        help=f"max global gradient norm, 0 = off (default: {t.grad_clip})",
    )
    length = opt.add_mutually_exclusive_group()
    length.add_argument("--iters", type=positive_int, help=f"total iterations (default: {DEFAULT_ITERS})")
    length.add_argument("--epochs", type=positive_int, help="train for this many passes over the text")
    opt.add_argument("--seed", type=non_negative_int, help=f"random seed (default: {t.seed})")
    opt.add_argument("--dtype", choices=("float32", "float64"), help=f"(default: {t.dtype})")
    out = p.add_argument_group("monitoring and checkpoints")
    out.add_argument(
        "--eval-every",
        type=positive_int,
        help=f"validate every N iterations (default: {t.eval_every})",
    )
    out.add_argument(
        "--eval-batches",
        type=positive_int,
        help=f"batches per validation (default: {t.eval_batches})",
    )
    out.add_argument(
        "--sample-every",
        type=positive_int,
        help=f"print a sample every N iterations (default: {t.sample_every})",
    )
    out.add_argument("--sample-length", type=positive_int, help=f"(default: {t.sample_length})")
    out.add_argument("--checkpoint-every", type=positive_int, help=f"(default: {t.checkpoint_every})")
    out.add_argument(
        "--checkpoint-dir",
        help=f"where latest.npz, best.npz and loss.png go (default: {t.checkpoint_dir})",
    )
    start = out.add_mutually_exclusive_group()
    start.add_argument("--resume", action="store_true", help="continue from CHECKPOINT_DIR/latest.npz")
    start.add_argument(
        "--force",
        action="store_true",
        help="start a fresh run even if CHECKPOINT_DIR holds another run's checkpoints (deletes them)",
    )
    out.add_argument("--quiet", action="store_true", help="no progress bar or samples")
    par = p.add_argument_group("several processes (mpiexec -n K deeprnn train ...)")
    par.add_argument(
        "--mpi-timeout",
        type=positive_float,
        help="seconds a process waits for the others in one collective step before it stops the job; "
        "it must exceed the time rank 0 takes to save a checkpoint (default: 300)",
    )
    p.set_defaults(handler=run_train)


def _train_config(args: argparse.Namespace, comm: Any) -> tuple[Any, dict[str, Any] | None]:
    """The TrainConfig: defaults (or the checkpoint's on --resume) overlaid with the given options."""
    from ..models import ModelConfig, TrainConfig
    from ..models.parallel import load_checkpoint_everywhere

    saved_meta = None
    if args.resume:
        ckpt = load_checkpoint_everywhere(comm, args.checkpoint_dir or TrainConfig().checkpoint_dir)
        saved_meta = ckpt.meta
        try:
            config = TrainConfig.from_dict(ckpt.meta["train_config"])
        except (KeyError, TypeError, ValueError) as e:
            raise CLIError(f"checkpoint {str(ckpt.path)!r}: invalid train config: {e}") from None
        for name in MODEL_OPTIONS:
            given, saved = getattr(args, name), getattr(config.model, name)
            if given is not None and given != saved:
                raise CLIError(
                    f"{FLAGS.get(name, '--' + name.replace('_', '-'))} {given} differs from the checkpoint's "
                    f"{saved}; the architecture cannot change on --resume"
                )
    else:
        config = TrainConfig(
            model=ModelConfig(**{k: getattr(args, k) for k in MODEL_OPTIONS if getattr(args, k) is not None})
        )
        config.iters = DEFAULT_ITERS
    for name in TRAIN_OPTIONS:
        value = getattr(args, name, None)
        if value is not None and name not in ("iters", "epochs"):
            setattr(config, name, value)
    if args.iters is not None or args.epochs is not None:  # mutually exclusive in the parser
        config.iters, config.epochs = args.iters, args.epochs
    if config.grad_clip == 0:
        config.grad_clip = None
    return config.validate(), saved_meta


def _recorded_text(source: dict[str, Any], directory: str) -> str:
    """The path of the text a checkpoint was trained on, if the file there is still that text.

    A checkpoint is data: its recorded path is read only when the file found there has the
    size and SHA-256 that the checkpoint also records.  A checkpoint from before deeprnn
    recorded the hash (or one whose file changed or moved) names no file to read: the text
    must be given again.
    """
    again = f"give the text again: deeprnn train TEXT --resume --checkpoint-dir {directory}"
    path, size, digest = source.get("path"), source.get("bytes"), source.get("sha256")
    if not isinstance(path, str) or not isinstance(digest, str) or not isinstance(size, int):
        raise CLIError(
            f"this checkpoint does not record a hash of its training text, so no file is read for it; {again}"
        )
    try:
        st = os.stat(path)
        found = st.st_size == size and stat.S_ISREG(st.st_mode) and file_digest(path) == (size, digest)
    except (OSError, ValueError):
        found = False
    if not found:
        raise CLIError(f"the training text is no longer at {short(path)} as it was (missing or changed); {again}")
    return path


def _load_text(
    args: argparse.Namespace, saved_meta: dict[str, Any] | None, level: str, comm: Any
) -> tuple[Any, dict[str, Any]]:
    """The corpus and its description for the checkpoint: a TEXT file as a memory-mapped
    `TokenMap` (shared by the processes), an embedded corpus as a str."""
    from ..data import Vocab, load_corpus
    from ..distributed import root_first, shared_corpus

    directory = args.checkpoint_dir or "checkpoints"
    source = None if saved_meta is None else saved_meta.get("source")
    if args.text is None and args.corpus is None and isinstance(source, dict):
        if source.get("kind") == "file":  # resume on the text the checkpoint was trained on
            args.text = root_first(comm, lambda: _recorded_text(source, directory), "checking the recorded text")
            args.text = args.text or source["path"]  # rank 0 checked it
            encoding = source.get("encoding", "utf-8")
            args.encoding = args.encoding or (encoding if isinstance(encoding, str) else "utf-8")
        elif source.get("kind") == "corpus" and isinstance(source.get("name"), str):
            args.corpus = source["name"]
    if args.text is not None:
        encoding = args.encoding or "utf-8"
        vocab = Vocab.from_dict(saved_meta["vocab"]) if saved_meta is not None else None
        corpus = shared_corpus(
            comm,
            args.text,
            encoding=encoding,
            level=level,
            vocab=vocab,
            cache_dir=args.cache_dir,
            progress=not args.quiet,
        )
        path = str(Path(args.text).resolve())
        size = corpus.source["size"]  # the text as encoded (the cache is keyed by its size and mtime)
        return corpus, {"kind": "file", "path": path, "encoding": encoding, "bytes": size, "sha256": corpus.sha256}
    name = args.corpus or "shakespeare"
    return load_corpus(name), {"kind": "corpus", "name": name}


def run_train(args: argparse.Namespace) -> int:
    """Handle ``deeprnn train``: lock the checkpoint directory, configure, load the text, train,
    report; returns the exit code."""
    from ..distributed import (
        DEFAULT_TIMEOUT,
        MPIUnavailableError,
        PeerFailedError,
        SingleProcess,
        init_world,
        root_first,
    )
    from ..models import ModelConfig, TrainConfig
    from ..models.config import A_KIND
    from ..models.trainer import CheckpointSaveError, NonFiniteLossError, RunDirectory, TrainingInterrupted, train

    prog = "deeprnn train"
    directory = args.checkpoint_dir or TrainConfig().checkpoint_dir
    kind = args.kind or ModelConfig().kind
    if not args.resume and args.nonlinearity is not None and kind != "rnn":  # a contradiction of options
        print(
            f"{prog}: error: --nonlinearity applies only to --model rnn ({A_KIND[kind]} has its own gates) "
            f"(see {prog} --help)",
            file=sys.stderr,
        )
        return EXIT_USAGE
    comm: Any = SingleProcess()
    try:
        if args.text is not None and args.corpus is not None:
            raise CLIError("give either TEXT or --corpus, not both")
        comm = init_world(timeout=args.mpi_timeout or DEFAULT_TIMEOUT)
        if not comm.is_root:
            prog = f"deeprnn train ({comm.describe()})"
        # First of all: the directory is writable, no other run uses it, and a fresh run does not
        # destroy another run's checkpoints (RunDirectory.open), before any time is spent.  Rank 0's.
        opened = root_first(
            comm,
            lambda: RunDirectory.open(directory, resume=args.resume, overwrite=args.force),
            "opening the checkpoint directory",
        )
        with opened if opened is not None else nullcontext() as run_dir:
            config, saved_meta = _train_config(args, comm)
            text, source = _load_text(args, saved_meta, config.level, comm)
            if not args.quiet and comm.is_root:
                what = source.get("path") or f"the embedded {source.get('name')!r} corpus"
                unit = "characters" if isinstance(text, str) else f"{config.level} tokens"
                procs = f", {comm.size} processes" if comm.size > 1 else ""
                print(f"training on {what} ({len(text):,} {unit}{procs})", file=sys.stderr)
            result = train(
                config,
                text,
                resume=args.resume,
                run_dir=run_dir,
                source=source,
                quiet=args.quiet,
                graceful_sigint=True,
                comm=comm,
            )
    except TrainingInterrupted as e:
        if comm.is_root:
            again = f"; continue with: deeprnn train --resume --checkpoint-dir {directory}" if e.checkpoint else ""
            print(f"{prog}: {e.message}{again}", file=sys.stderr)
        return EXIT_INTERRUPTED
    except PeerFailedError:  # another process failed and reports it
        return EXIT_ERROR
    except (NonFiniteLossError, CheckpointSaveError) as e:
        return fail(prog, str(e)) if comm.is_root else EXIT_ERROR
    except (MPIUnavailableError, *user_errors()) as e:
        return fail(prog, e)
    if not comm.is_root:
        return 0
    h = result.history
    line = f"done: {result.iteration} iterations, {result.tokens_per_sec:,.0f} tokens/s"
    if h.val_loss:
        line += f", val loss {h.val_loss[-1]:.4f} (perplexity {math.exp(min(h.val_loss[-1], 50)):.2f})"
    if result.checkpoint is not None:
        line += f"; checkpoint {result.checkpoint}"
    print(line)
    return 0
