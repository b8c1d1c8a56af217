"""What a training checkpoint holds, and how a run and a model are rebuilt from one.

``save_training_state`` turns a run (model, optimiser, scheduler, RNG states, data position,
carried hidden state, iteration, loss history) into the archive described in
``checkpoint.py``; ``restore_training_state`` puts it back, checking it against the
current run first; ``model_from_checkpoint`` rebuilds just the model (for sampling).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ..autograd.random import Generator
from ..data import DataError, Vocab
from .char_rnn import RNNLanguageModel, state_arrays, state_tensors
from .checkpoint import Checkpoint, CheckpointError, flatten_state, save_checkpoint, short, unflatten_state
from .config import ModelConfig
from .plot import matplotlib_available, plot_loss_curve
from .validate import check_counters, check_model_arrays, check_optimizer_state, check_structure

if TYPE_CHECKING:
    from .loop import Run
    from .progress import Progress

__all__ = [
    "History",
    "STATE_KEYS",
    "save_training_state",
    "restore_training_state",
    "model_from_checkpoint",
    "checkpoint_model",
]

STATE_KEYS = ("hidden", "cell")
"""The archive entries of the carried state: h (every kind), then c (the LSTM's cell state)."""


@dataclass
class History:
    """Loss curves: training loss at every iteration, validation loss at every evaluation."""

    train_iter: list[int] = field(default_factory=list)
    train_loss: list[float] = field(default_factory=list)
    val_iter: list[int] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    val_time: list[float] = field(default_factory=list)  # training seconds at each evaluation

    def add_train(self, iteration: int, loss: float) -> None:
        self.train_iter.append(iteration)
        self.train_loss.append(loss)

    def add_val(self, iteration: int, loss: float, seconds: float) -> None:
        self.val_iter.append(iteration)
        self.val_loss.append(loss)
        self.val_time.append(seconds)

    def to_arrays(self) -> dict[str, np.ndarray]:
        return {
            "history/train_iter": np.asarray(self.train_iter, dtype=np.int64),
            "history/train_loss": np.asarray(self.train_loss, dtype=np.float64),
            "history/val_iter": np.asarray(self.val_iter, dtype=np.int64),
            "history/val_loss": np.asarray(self.val_loss, dtype=np.float64),
            "history/val_time": np.asarray(self.val_time, dtype=np.float64),
        }

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray]) -> History:
        def get(k: str) -> list:
            return arrays[f"history/{k}"].tolist() if f"history/{k}" in arrays else []

        return cls(get("train_iter"), get("train_loss"), get("val_iter"), get("val_loss"), get("val_time"))


_plot_warned = False


def save_training_state(run: Run, path: Path, progress: Progress | None) -> Path:
    """Write the run to ``path`` atomically; with ``progress`` also record it as the latest
    checkpoint and redraw the loss curve (``loss.png``) beside it."""
    from .. import __version__

    arrays: dict[str, np.ndarray] = {f"model/{k}": np.array(v._data) for k, v in run.model.state_dict().items()}
    optim_json = flatten_state(run.optimizer.state_dict(), "optim", arrays)
    sched_json = flatten_state(run.scheduler.state_dict(), "sched", arrays)
    for key, a in zip(STATE_KEYS, state_arrays(run.hidden)):  # h, and the LSTM's c
        arrays[key] = np.array(a)
    arrays.update(run.history.to_arrays())
    meta = {
        "deeprnn_version": __version__,
        "model_config": run.model.config.to_dict(),
        "train_config": run.config.to_dict(),
        "vocab": run.vocab.to_dict(),
        "optimizer_name": run.config.optimizer,
        "optimizer": optim_json,
        "scheduler": sched_json,
        "rng": {"model": run.gen.get_state(), "sample": run.sample_gen.get_state()},
        "data": run.batches.state_dict(),
        "source": run.source,
        "iteration": run.iteration,
        "elapsed": run.elapsed,
        "tokens": run.tokens,
        "best_val": run.best_val,
        "param_dtype": str(run.model.dtype),
        **run.extra_meta,
    }
    save_checkpoint(path, meta, arrays)
    if progress is not None:
        run.last_saved, run.last_saved_iteration = path, run.iteration
        _draw(run, path.parent / "loss.png", progress)
    return path


def _draw(run: Run, png: Path, progress: Progress) -> None:
    global _plot_warned
    if not matplotlib_available():
        if not _plot_warned:
            progress.write("matplotlib is not installed: no loss-curve PNG (pip install 'deeprnn[plot]')")
            _plot_warned = True
        return
    h = run.history
    plot_loss_curve(
        png,
        h.train_iter,
        h.train_loss,
        h.val_iter,
        h.val_loss,
        title=f"{run.config.model.num_layers}x{run.config.model.hidden_size} "
        f"{run.config.model.name}, {run.config.level} level",
    )


def _fail(ckpt: Checkpoint, what: str) -> CheckpointError:
    return CheckpointError(f"checkpoint {str(ckpt.path)!r}: {what}")


def _vocab_and_config(ckpt: Checkpoint) -> tuple[Vocab, ModelConfig]:
    try:
        vocab = Vocab.from_dict(ckpt.meta["vocab"])
        config = ModelConfig.from_dict(ckpt.meta["model_config"])
    except (DataError, ValueError, TypeError, KeyError, AttributeError) as e:
        raise _fail(ckpt, f"invalid vocabulary or model config: {short(str(e), 200)}") from None
    if config.vocab_size != len(vocab):
        raise _fail(ckpt, f"model vocab_size {config.vocab_size} != {len(vocab)} vocabulary entries")
    return vocab, config


def checkpoint_model(ckpt: Checkpoint) -> tuple[Vocab, ModelConfig, dict[str, np.ndarray]]:
    """The vocabulary, the model config and the parameter arrays of ``ckpt``, checked together.

    The model config must describe exactly the parameter arrays in the file (checked by
    arithmetic first, see ``validate.py``), so a crafted config never decides what is allocated.
    """
    vocab, config = _vocab_and_config(ckpt)
    state = check_model_arrays(
        ckpt, RNNLanguageModel.parameter_count(config), lambda: RNNLanguageModel.parameter_shapes(config)
    )
    return vocab, config, state


def model_from_checkpoint(ckpt: Checkpoint) -> RNNLanguageModel:
    """The trained model (with its vocabulary) stored in ``ckpt``, validated (`checkpoint_model`)."""
    vocab, config, state = checkpoint_model(ckpt)
    dtype = next(iter(state.values())).dtype
    model = RNNLanguageModel.from_config(config, vocab=vocab, dtype=dtype)
    try:
        model.load_state_dict(state, strict=True)
    except (RuntimeError, KeyError, TypeError, ValueError) as e:
        raise _fail(ckpt, f"parameters do not match the model config: {e}") from None
    return model


def _check_train_config(ckpt: Checkpoint, vocab: Vocab) -> None:
    saved = ckpt.meta.get("train_config")
    if not isinstance(saved, dict):
        raise _fail(ckpt, f"train_config is {short(saved)}, expected a dict")
    if saved.get("level", vocab.level) != vocab.level:
        raise _fail(
            ckpt, f"train_config level {short(saved.get('level'))} contradicts the {vocab.level}-level vocabulary"
        )
    if ckpt.meta.get("optimizer_name", saved.get("optimizer")) != saved.get("optimizer"):
        raise _fail(ckpt, "optimizer_name contradicts train_config's optimizer")


def restore_training_state(run: Run, ckpt: Checkpoint) -> None:
    """Load ``ckpt`` into the freshly built ``run`` (same model config, data and optimiser).

    Everything is checked against the fresh run before anything is changed: the optimiser's
    and the scheduler's states must have the structure of the fresh ones, the counters must be
    in range, and the carried hidden state must be there (after iteration 0) with its shape.
    """
    meta, arrays = ckpt.meta, ckpt.arrays
    vocab, _ = _vocab_and_config(ckpt)
    _check_train_config(ckpt, vocab)
    saved = meta["train_config"]
    for key in ("optimizer", "seq_len", "dtype", "level"):
        if key in saved and saved[key] != getattr(run.config, key):
            raise ValueError(
                f"cannot resume {str(ckpt.path)!r}: it was trained with {key}={short(saved[key])}, "
                f"this run has {key}={getattr(run.config, key)!r}"
            )
    check_counters(ckpt, meta)
    iteration = meta["iteration"]
    stored = model_from_checkpoint(ckpt)
    try:
        optim_state = unflatten_state(meta["optimizer"], arrays)
        sched_state = unflatten_state(meta["scheduler"], arrays)
    except (KeyError, TypeError, ValueError, AttributeError, RecursionError) as e:
        raise _fail(ckpt, f"invalid optimiser or scheduler state: {type(e).__name__}: {short(str(e), 200)}") from None
    params = list(run.model.parameters())
    check_optimizer_state(ckpt, optim_state, run.optimizer.state_dict(), [tuple(p.shape) for p in params])
    check_structure(ckpt, "scheduler state", run.scheduler.state_dict(), sched_state)
    if sched_state["last_epoch"] != iteration:
        raise _fail(
            ckpt, f"the scheduler is at step {short(sched_state['last_epoch'])}, the run at iteration {iteration}"
        )
    expected = (run.model.num_layers, run.batches.batch_size, run.model.hidden_size)
    carried = []
    for key, what in zip(STATE_KEYS, ("hidden state", "cell state")[: len(run.model.state_names)]):
        a = arrays.get(key)
        if a is None and iteration > 0:
            raise _fail(ckpt, f"no carried {what} after iteration {iteration}")
        if a is not None and (a.shape != expected or not np.isfinite(a).all()):
            raise _fail(ckpt, f"carried {what} has shape {a.shape}, expected a finite {expected}")
        carried.append(a)
    if any(a is None for a in carried) and not all(a is None for a in carried):
        raise _fail(ckpt, "the carried hidden state h is stored without its cell state c, or c without h")
    if "cell" in arrays and len(run.model.state_names) == 1:
        raise _fail(ckpt, f"a {run.model.config.name} carries no cell state, but the file holds one")
    history = _history(ckpt, arrays)
    saved_gens = {}
    for name, gen in (("model", run.gen), ("sample", run.sample_gen)):
        try:
            probe = Generator(0).set_state(meta["rng"][name])  # checked on a spare generator first
        except (KeyError, TypeError, ValueError, RuntimeError, OverflowError) as e:
            raise _fail(ckpt, f"invalid {name} RNG state: {type(e).__name__}: {short(str(e), 200)}") from None
        saved_gens[name] = probe.get_state()
    try:
        run.batches.load_state_dict(meta["data"])
    except (DataError, KeyError, TypeError, ValueError) as e:
        raise ValueError(f"cannot resume {str(ckpt.path)!r}: {short(str(e), 300)}") from None
    # Everything is checked: now change the run.
    run.model.load_state_dict(stored.state_dict())
    run.optimizer.load_state_dict(optim_state)
    run.scheduler.load_state_dict(sched_state)
    run.gen.set_state(saved_gens["model"])
    run.sample_gen.set_state(saved_gens["sample"])
    if carried and carried[0] is not None:
        run.hidden = state_tensors(tuple(a.astype(run.model.dtype, copy=True) for a in carried), run.model.kind)
    run.iteration = iteration
    run.elapsed = float(meta.get("elapsed", 0.0))
    run.tokens = int(meta.get("tokens", 0))
    run.best_val = meta.get("best_val")
    run.history = history
    run.last_saved, run.last_saved_iteration = ckpt.path, run.iteration


def _history(ckpt: Checkpoint, arrays: dict[str, np.ndarray]) -> History:
    """The loss history: 1-D arrays, iterations and losses of equal lengths."""
    for a, b in (("train_iter", "train_loss"), ("val_iter", "val_loss"), ("val_iter", "val_time")):
        x, y = arrays.get(f"history/{a}"), arrays.get(f"history/{b}")
        if (x is None) != (y is None) or (x is not None and (x.ndim != 1 or x.shape != y.shape)):
            raise _fail(ckpt, f"history/{a} and history/{b} are not 1-D arrays of one length")
    return History.from_arrays(arrays)
