"""Typed configuration of the language model and of a training run (plain dataclasses).

The CLI builds these from its options; library users build them directly.  ``validate()``
raises ``ValueError`` with a message naming the option, what it expects and what it got,
so a front end can print it as is.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any

__all__ = [
    "ModelConfig",
    "TrainConfig",
    "OPTIMIZERS",
    "NONLINEARITIES",
    "LEVELS",
    "KINDS",
    "KIND_NAMES",
    "A_KIND",
    "VAL_SPLITS",
]

OPTIMIZERS = ("sgd", "adagrad", "rmsprop", "adam", "adamw")
NONLINEARITIES = ("tanh", "relu")
LEVELS = ("char", "word")
VAL_SPLITS = ("tail", "streams")  # data.train_val_split, data.stream_split
KINDS = ("rnn", "lstm", "gru")
"""The recurrent cells, as char-rnn's ``-model``: the Elman RNN, the LSTM and the GRU."""
KIND_NAMES = {"rnn": "RNN", "lstm": "LSTM", "gru": "GRU"}
A_KIND = {"rnn": "an RNN", "lstm": "an LSTM", "gru": "a GRU"}  # with the article, for messages


def _positive_int(name: str, value: Any, allow_none: bool = False) -> None:
    if value is None and allow_none:
        return
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")


def _finite(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number, got {value!r}")
    return float(value)


@dataclass
class ModelConfig:
    """The architecture: one-hot (or embedding) -> deep recurrent network -> linear head.

    ``kind`` is the cell, as char-rnn's ``-model``: 'rnn' (Elman, with ``nonlinearity``),
    'lstm' or 'gru'.  The default is a GRU of 2 layers x 128: char-rnn's size, and the kind
    that learns most in the README main command's budget (benchmarks/lm_kinds.py: 1.647 nats/char
    against 1.810 for char-rnn's own default, an LSTM of 2 x 128, and 1.696 for a 2 x 256 RNN).
    ``vocab_size`` is filled in from the vocabulary when training starts.
    """

    vocab_size: int = 0
    hidden_size: int = 128
    num_layers: int = 2
    nonlinearity: str = "tanh"  # the Elman RNN's act; an LSTM or a GRU has its own gates
    dropout: float = 0.0
    embedding_dim: int | None = None  # None: one-hot input, as char-rnn
    kind: str = "gru"

    def validate(self) -> ModelConfig:
        _positive_int("vocab_size", self.vocab_size)
        _positive_int("hidden_size", self.hidden_size)
        _positive_int("num_layers", self.num_layers)
        _positive_int("embedding_dim", self.embedding_dim, allow_none=True)
        if self.kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}, got {self.kind!r}")
        if self.nonlinearity not in NONLINEARITIES:
            raise ValueError(f"nonlinearity must be one of {NONLINEARITIES}, got {self.nonlinearity!r}")
        if self.kind != "rnn" and self.nonlinearity != "tanh":
            raise ValueError(
                f"nonlinearity applies only to kind 'rnn' (the Elman RNN); {A_KIND[self.kind]} has its "
                f"own gates, got nonlinearity={self.nonlinearity!r} with kind={self.kind!r}"
            )
        d = _finite("dropout", self.dropout)
        if not 0.0 <= d < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {self.dropout!r}")
        return self

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def name(self) -> str:
        """'LSTM', 'GRU', or 'tanh RNN' / 'relu RNN': how messages and plots name the network."""
        return f"{self.nonlinearity} RNN" if self.kind == "rnn" else KIND_NAMES.get(self.kind, str(self.kind))

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ModelConfig:
        """The config stored by `to_dict`.  A dict without 'kind' was written before deeprnn had
        LSTM and GRU (checkpoint format 1): it describes an Elman RNN, whatever today's default."""
        names = {f.name for f in fields(cls)}
        unknown = sorted(set(d) - names)
        if unknown:
            raise ValueError(f"unknown model config keys {unknown}; expected a subset of {sorted(names)}")
        return cls(**{"kind": "rnn", **d}).validate()


@dataclass
class TrainConfig:
    """One training run.  ``iters`` (optimiser steps) wins over ``epochs`` when both are set;
    with neither, training runs for one epoch.

    lr schedule: the learning rate is multiplied by ``lr_decay`` every ``lr_decay_every``
    steps (``lr_decay=1`` keeps it constant), as char-rnn's learning_rate_decay.
    """

    model: ModelConfig = field(default_factory=ModelConfig)
    level: str = "char"
    seq_len: int = 64
    batch_size: int = 32
    optimizer: str = "adam"
    lr: float = 2e-3
    lr_decay: float = 1.0
    lr_decay_every: int = 1000
    weight_decay: float = 0.0
    grad_clip: float | None = 5.0  # max global grad norm; None or 0 disables clipping
    iters: int | None = None
    epochs: int | None = None
    val_fraction: float = 0.05
    val_split: str = "tail"  # "tail": the text's last val_fraction; "streams": char-rnn's, each stream's tail
    eval_every: int = 200
    eval_batches: int | None = 16  # cap the validation pass to this many batches (None: all)
    sample_every: int = 500
    sample_length: int = 200
    sample_temperature: float = 0.8
    checkpoint_every: int = 500
    checkpoint_dir: str | None = "checkpoints"
    seed: int = 1337
    dtype: str = "float32"

    def validate(self) -> TrainConfig:
        m = self.model
        (m if m.vocab_size else replace(m, vocab_size=1)).validate()  # vocab_size comes later
        if self.level not in LEVELS:
            raise ValueError(f"level must be one of {LEVELS}, got {self.level!r}")
        for name in (
            "seq_len",
            "batch_size",
            "lr_decay_every",
            "eval_every",
            "sample_every",
            "sample_length",
            "checkpoint_every",
        ):
            _positive_int(name, getattr(self, name))
        _positive_int("iters", self.iters, allow_none=True)
        _positive_int("epochs", self.epochs, allow_none=True)
        _positive_int("eval_batches", self.eval_batches, allow_none=True)
        if self.optimizer not in OPTIMIZERS:
            raise ValueError(f"optimizer must be one of {OPTIMIZERS}, got {self.optimizer!r}")
        if _finite("lr", self.lr) <= 0:
            raise ValueError(f"lr must be > 0, got {self.lr!r}")
        if not 0 < _finite("lr_decay", self.lr_decay) <= 1:
            raise ValueError(f"lr_decay must be in (0, 1], got {self.lr_decay!r}")
        if _finite("weight_decay", self.weight_decay) < 0:
            raise ValueError(f"weight_decay must be >= 0, got {self.weight_decay!r}")
        if self.grad_clip is not None and _finite("grad_clip", self.grad_clip) < 0:
            raise ValueError(f"grad_clip must be >= 0 (0 disables clipping), got {self.grad_clip!r}")
        if not 0.0 <= _finite("val_fraction", self.val_fraction) < 1.0:
            raise ValueError(f"val_fraction must be in [0, 1), got {self.val_fraction!r}")
        if self.val_split not in VAL_SPLITS:
            raise ValueError(f"val_split must be one of {VAL_SPLITS}, got {self.val_split!r}")
        if self.val_split == "streams" and self.val_fraction == 0:
            raise ValueError("val_split 'streams' holds out a part of every stream: it needs val_fraction > 0")
        if _finite("sample_temperature", self.sample_temperature) <= 0:
            raise ValueError(f"sample_temperature must be > 0, got {self.sample_temperature!r}")
        if isinstance(self.seed, bool) or not isinstance(self.seed, int) or self.seed < 0:
            raise ValueError(f"seed must be a non-negative integer, got {self.seed!r}")
        if self.dtype not in ("float32", "float64"):
            raise ValueError(f"dtype must be 'float32' or 'float64', got {self.dtype!r}")
        return self

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> TrainConfig:
        d = dict(d)
        model = d.pop("model")
        if not isinstance(model, dict):
            raise ValueError(f"the train config's model must be a dict, got {type(model).__name__}")
        model = ModelConfig(**{"kind": "rnn", **model})  # no 'kind': written before LSTM/GRU, an RNN
        names = {f.name for f in fields(cls)}
        unknown = sorted(set(d) - names)
        if unknown:
            raise ValueError(f"unknown train config keys {unknown}")
        return cls(model=model, **d)
