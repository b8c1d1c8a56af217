"""``deeprnn sample --checkpoint PATH``: print text sampled from a trained model."""

from __future__ import annotations

import argparse
from typing import Any

from .args import fail, non_negative_int, positive_float, positive_int, print_text, user_errors


def add_sample_command(sub: Any) -> None:
    """Register ``deeprnn sample`` and its options on the subparsers."""
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
    """Handle ``deeprnn sample``: load the checkpoint, sample, print; returns the exit code."""
    from ..autograd.random import Generator
    from ..models import load_checkpoint, sample_text
    from ..models.state import model_from_checkpoint

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
    except user_errors() as e:
        return fail("deeprnn sample", e)
    print_text(text)
    return 0
