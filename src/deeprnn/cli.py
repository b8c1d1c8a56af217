"""The ``deeprnn`` command line: a thin argparse layer over ``deeprnn.models``.

    deeprnn train [TEXT] [options]        train a language model (no TEXT: embedded corpus)
    deeprnn sample --checkpoint PATH      print text sampled from a trained model
    deeprnn explain [EXAMPLE | options]   walk through an RNN's shapes, equations and gradients

Each subcommand is one ``add_<name>_command(subparsers)`` function that registers its own
parser and handler; adding a command means adding one function to ``COMMANDS``.
Bad input ends with a one-line message on stderr and exit code 1 (argparse's own errors: 2;
Ctrl-C during training: 130, after saving a checkpoint).
"""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

__all__ = [
    "main",
    "build_parser",
    "COMMANDS",
    "add_train_command",
    "add_sample_command",
    "add_explain_command",
]

EXIT_ERROR = 1
EXIT_INTERRUPTED = 130
DEFAULT_ITERS = 3000


class CLIError(Exception):
    """A user error to report as one line (exit code 1)."""


# ---- argument types (argparse turns their ValueError/ArgumentTypeError into exit 2) -------------
def _int_at_least(low: int, what: str) -> Callable[[str], int]:
    def parse(s: str) -> int:
        try:
            v = int(s)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {what}, got {s!r}") from None
        if v < low:
            raise argparse.ArgumentTypeError(f"expected {what}, got {s}")
        return v

    return parse


positive_int = _int_at_least(1, "a positive integer")
non_negative_int = _int_at_least(0, "a non-negative integer")


def _number(s: str) -> float:
    try:
        v = float(s)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {s!r}") from None
    if not math.isfinite(v):
        raise argparse.ArgumentTypeError(f"expected a finite number, got {s}")
    return v


def positive_float(s: str) -> float:
    v = _number(s)
    if v <= 0:
        raise argparse.ArgumentTypeError(f"expected a number > 0, got {s}")
    return v


def non_negative_float(s: str) -> float:
    v = _number(s)
    if v < 0:
        raise argparse.ArgumentTypeError(f"expected a number >= 0, got {s}")
    return v


def fraction(s: str) -> float:
    v = _number(s)
    if not 0 <= v < 1:
        raise argparse.ArgumentTypeError(f"expected a number in [0, 1), got {s}")
    return v


def decay(s: str) -> float:
    v = _number(s)
    if not 0 < v <= 1:
        raise argparse.ArgumentTypeError(f"expected a number in (0, 1], got {s}")
    return v


def _fail(prog: str, message: str) -> int:
    print(f"{prog}: error: {message}", file=sys.stderr)
    return EXIT_ERROR


def _user_errors() -> tuple[type[BaseException], ...]:
    """Exceptions that mean bad input, reported as one line."""
    from .data import DataError
    from .models import CheckpointError

    return (
        CLIError,
        DataError,
        CheckpointError,
        ValueError,
        FileNotFoundError,
        IsADirectoryError,
        PermissionError,
        ImportError,
        UnicodeError,
    )


# ---- deeprnn train -------------------------------------------------------------------------
# CLI option -> TrainConfig / ModelConfig field.  Defaults are None so that on --resume only
# the options actually given override the checkpoint's configuration.
MODEL_OPTIONS = ("hidden_size", "num_layers", "nonlinearity", "dropout", "embedding_dim")
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
    from .models.config import LEVELS, NONLINEARITIES, OPTIMIZERS, ModelConfig, TrainConfig

    m, t = ModelConfig(), TrainConfig()
    p = sub.add_parser(
        "train",
        help="train a character- or word-level RNN language model",
        description="Train a deep Elman RNN language model with truncated BPTT. Without TEXT it "
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
        "--val-fraction",
        type=fraction,
        help=f"held-out tail for validation, in [0, 1) (default: {t.val_fraction})",
    )
    model = p.add_argument_group("model")
    model.add_argument("--hidden-size", type=positive_int, help=f"units per layer (default: {m.hidden_size})")
    model.add_argument("--num-layers", type=positive_int, help=f"RNN layers (default: {m.num_layers})")
    model.add_argument("--nonlinearity", choices=NONLINEARITIES, help=f"(default: {m.nonlinearity})")
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
    out.add_argument("--resume", action="store_true", help="continue from CHECKPOINT_DIR/latest.npz")
    out.add_argument("--quiet", action="store_true", help="no progress bar or samples")
    p.set_defaults(handler=run_train)


def _train_config(args: argparse.Namespace) -> tuple[Any, dict[str, Any] | None]:
    """The TrainConfig: defaults (or the checkpoint's on --resume) overlaid with the given options."""
    from .models import ModelConfig, TrainConfig, load_checkpoint

    saved_meta = None
    if args.resume:
        ckpt = load_checkpoint(args.checkpoint_dir or TrainConfig().checkpoint_dir)
        saved_meta = ckpt.meta
        try:
            config = TrainConfig.from_dict(ckpt.meta["train_config"])
        except (KeyError, TypeError, ValueError) as e:
            raise CLIError(f"checkpoint {str(ckpt.path)!r}: invalid train config: {e}") from None
        for name in MODEL_OPTIONS:
            given, saved = getattr(args, name), getattr(config.model, name)
            if given is not None and given != saved:
                raise CLIError(
                    f"--{name.replace('_', '-')} {given} differs from the checkpoint's {saved}; "
                    "the architecture cannot change on --resume"
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


def _load_text(args: argparse.Namespace, saved_meta: dict[str, Any] | None) -> tuple[str, dict[str, Any]]:
    from .data import load_corpus, read_text

    if args.text is not None and args.corpus is not None:
        raise CLIError("give either TEXT or --corpus, not both")
    source = None if saved_meta is None else saved_meta.get("source")
    if args.text is None and args.corpus is None and source and source.get("kind") in ("file", "corpus"):
        if source["kind"] == "file":  # resume on the text the checkpoint was trained on
            args.text, args.encoding = (
                source["path"],
                args.encoding or source.get("encoding", "utf-8"),
            )
        else:
            args.corpus = source["name"]
    if args.text is not None:
        encoding = args.encoding or "utf-8"
        text = read_text(args.text, encoding)
        return text, {"kind": "file", "path": str(Path(args.text).resolve()), "encoding": encoding}
    name = args.corpus or "shakespeare"
    return load_corpus(name), {"kind": "corpus", "name": name}


def run_train(args: argparse.Namespace) -> int:
    from .models.trainer import NonFiniteLossError, TrainingInterrupted, train

    prog = "deeprnn train"
    try:
        config, saved_meta = _train_config(args)
        text, source = _load_text(args, saved_meta)
        if not args.quiet:
            what = source.get("path") or f"the embedded {source.get('name')!r} corpus"
            print(f"training on {what} ({len(text):,} characters)", file=sys.stderr)
        result = train(config, text, resume=args.resume, source=source, quiet=args.quiet, graceful_sigint=True)
    except TrainingInterrupted as e:
        print(
            f"{prog}: {e.message}"
            + (
                f"; continue with: deeprnn train --resume --checkpoint-dir {config.checkpoint_dir}"
                if e.checkpoint
                else ""
            ),
            file=sys.stderr,
        )
        return EXIT_INTERRUPTED
    except NonFiniteLossError as e:
        return _fail(prog, str(e))
    except _user_errors() as e:
        return _fail(prog, str(e))
    h = result.history
    line = f"done: {result.iteration} iterations, {result.tokens_per_sec:,.0f} tokens/s"
    if h.val_loss:
        line += f", val loss {h.val_loss[-1]:.4f} (perplexity {math.exp(min(h.val_loss[-1], 50)):.2f})"
    if result.checkpoint is not None:
        line += f"; checkpoint {result.checkpoint}"
    print(line)
    return 0


# ---- deeprnn sample ------------------------------------------------------------------------
def add_sample_command(sub: Any) -> None:
    p = sub.add_parser(
        "sample",
        help="generate text from a trained model",
        description="Print PRIME followed by LENGTH sampled tokens.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    p.add_argument(
        "--checkpoint",
        default="checkpoints",
        help="a checkpoint .npz, or a directory holding latest.npz",
    )
    p.add_argument("--prime", default="", help="text to start from (empty: a random first token)")
    p.add_argument("--length", type=non_negative_int, default=500, help="tokens to generate")
    p.add_argument(
        "--temperature",
        type=positive_float,
        default=0.8,
        help="> 0; lower is more conservative, higher more surprising",
    )
    p.add_argument("--top-k", type=positive_int, default=None, help="sample among the k most likely tokens")
    p.add_argument("--greedy", action="store_true", help="always take the most likely token")
    p.add_argument("--seed", type=non_negative_int, default=None, help="random seed for reproducible text")
    p.set_defaults(handler=run_sample)


def run_sample(args: argparse.Namespace) -> int:
    from .autograd.random import Generator
    from .models import load_checkpoint, sample_text
    from .models.state import model_from_checkpoint

    try:
        model = model_from_checkpoint(load_checkpoint(args.checkpoint))
        text = sample_text(
            model,
            model.vocab,
            args.prime,
            args.length,
            args.temperature,
            args.top_k,
            args.greedy,
            None if args.seed is None else Generator(args.seed),
        )
    except _user_errors() as e:
        return _fail("deeprnn sample", str(e))
    _print_text(text)
    return 0


def _print_text(text: str) -> None:
    try:
        print(text)
    except UnicodeEncodeError:  # a terminal that cannot show e.g. Chinese: emit UTF-8 bytes
        sys.stdout.flush()
        sys.stdout.buffer.write(text.encode("utf-8") + b"\n")
        sys.stdout.flush()


# ---- deeprnn explain -----------------------------------------------------------------------
def add_explain_command(sub: Any) -> None:
    from .explain import EXAMPLES, FORMATS, LANGS, LOSSES, ExplainConfig

    c = ExplainConfig()
    p = sub.add_parser(
        "explain",
        help="explain an RNN step by step: shapes, equations, numbers and gradients",
        description="Walk through a (deep, bidirectional) Elman RNN: every parameter and why it has "
        "its shape, every layer, direction and time step with its numbers, how output and h_n "
        "relate, and with --backward the BPTT. Give a seed example, a configuration or a saved "
        f"state_dict (.npz). Examples: {', '.join(EXAMPLES)}.",
    )
    p.add_argument(
        "example", nargs="?", metavar="EXAMPLE", choices=list(EXAMPLES) + [None], help="a worked example from the seeds"
    )
    p.add_argument("--example", dest="example_opt", choices=list(EXAMPLES), help="same as EXAMPLE")
    p.add_argument("--model", help="an nn.RNN state_dict saved with numpy.savez (.npz)")
    net = p.add_argument_group("the network (when no example or model is given)")
    net.add_argument("--input-size", type=positive_int, default=c.input_size, help="H_in (default: %(default)s)")
    net.add_argument("--hidden-size", type=positive_int, default=c.hidden_size, help="H_out (default: %(default)s)")
    net.add_argument("--num-layers", type=positive_int, default=c.num_layers, help="(default: %(default)s)")
    net.add_argument("--nonlinearity", default=c.nonlinearity, help="tanh or relu (default: %(default)s)")
    net.add_argument("--no-bias", action="store_true", help="no b_ih, b_hh")
    net.add_argument("--batch-first", action="store_true", help="input as (N, L, H_in)")
    net.add_argument("--bidirectional", action="store_true", help="add a reverse direction")
    net.add_argument("--seq-len", type=positive_int, default=c.seq_len, help="L (default: %(default)s)")
    batch = net.add_mutually_exclusive_group()
    batch.add_argument("--batch-size", type=positive_int, default=c.batch_size, help="N (default: %(default)s)")
    batch.add_argument("--unbatched", action="store_true", help="input as (L, H_in)")
    net.add_argument("--weight-scale", type=positive_float, help="scale the random weights")
    rep = p.add_argument_group("the report")
    rep.add_argument("--backward", action="store_true", help="also walk through BPTT")
    rep.add_argument("--loss", choices=LOSSES, default="sum", help="the loss for --backward (default: %(default)s)")
    rep.add_argument("--lang", choices=LANGS, default="en", help="en or zh (default: %(default)s)")
    rep.add_argument("--format", dest="fmt", choices=FORMATS, default="terminal", help="(default: %(default)s)")
    rep.add_argument("--output", help="write the report to this file (default: the terminal)")
    rep.add_argument("--pictures", help="write PNG pictures into this folder (needs deeprnn[plot])")
    rep.add_argument("--seed", type=non_negative_int, default=0, help="for the random weights and input")
    rep.add_argument("--max-steps", type=positive_int, default=8, help="time steps shown in full")
    rep.add_argument("--no-color", action="store_true", help="plain text even on a terminal")
    p.set_defaults(handler=run_explain)


def run_explain(args: argparse.Namespace) -> int:
    from .explain import ExplainConfig, explain, load_model

    prog = "deeprnn explain"
    example = args.example or args.example_opt
    try:
        if example and args.model:
            raise CLIError("give either an example or --model, not both")
        batch_size = None if args.unbatched else args.batch_size
        if example:
            what: Any = example
        elif args.model:
            what = load_model(args.model, nonlinearity=args.nonlinearity, batch_first=args.batch_first)
        else:
            what = ExplainConfig(
                input_size=args.input_size,
                hidden_size=args.hidden_size,
                num_layers=args.num_layers,
                nonlinearity=args.nonlinearity,
                bias=not args.no_bias,
                batch_first=args.batch_first,
                bidirectional=args.bidirectional,
                seq_len=args.seq_len,
                batch_size=batch_size,
                weight_scale=args.weight_scale,
            )
        report = explain(
            what,
            lang=args.lang,
            fmt=args.fmt,
            backward=args.backward,
            pictures_dir=args.pictures,
            color=False if args.no_color else None,
            seed=args.seed,
            out=args.output or sys.stdout,
            loss=args.loss,
            max_steps=args.max_steps,
            seq_len=args.seq_len,
            batch_size=batch_size,
        )
    except (*_user_errors(), RuntimeError, TypeError) as e:
        return _fail(prog, str(e))
    if args.output:
        print(f"wrote {args.output}" + (f" and pictures in {args.pictures}" if args.pictures else ""), file=sys.stderr)
    return 0 if report.ok else _fail(prog, "the trace does not match the module (see the report)")


# ---- entry point -----------------------------------------------------------------------------
COMMANDS: list[Callable[[Any], None]] = [add_train_command, add_sample_command, add_explain_command]


def build_parser() -> argparse.ArgumentParser:
    from . import __version__

    parser = argparse.ArgumentParser(prog="deeprnn", description="Deep Elman RNN language models in NumPy.")
    parser.add_argument("--version", action="version", version=f"deeprnn {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for add in COMMANDS:
        add(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI with ``argv`` (default ``sys.argv[1:]``); returns the exit code."""
    args = build_parser().parse_args(argv)
    return args.handler(args)
