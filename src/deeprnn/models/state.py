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

from ..autograd.tensor import Tensor
from ..data import DataError, Vocab
from .char_rnn import RNNLanguageModel
from .checkpoint import Checkpoint, CheckpointError, flatten_state, save_checkpoint, unflatten_state
from .config import ModelConfig
from .plot import matplotlib_available, plot_loss_curve

if TYPE_CHECKING:
    from .progress import Progress
    from .trainer import _Run

__all__ = ["History", "save_training_state", "restore_training_state", "model_from_checkpoint"]


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


def save_training_state(run: _Run, path: Path, progress: Progress | None) -> Path:
    """Write the run to ``path`` atomically; with ``progress`` also record it as the latest
    checkpoint and redraw the loss curve (``loss.png``) beside it."""
    from .. import __version__

    arrays: dict[str, np.ndarray] = {f"model/{k}": np.array(v._data) for k, v in run.model.state_dict().items()}
    optim_json = flatten_state(run.optimizer.state_dict(), "optim", arrays)
    sched_json = flatten_state(run.scheduler.state_dict(), "sched", arrays)
    if run.hidden is not None:
        arrays["hidden"] = np.array(run.hidden._data)
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


def _draw(run: _Run, png: Path, progress: Progress) -> None:
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
        f"{run.config.model.nonlinearity} RNN, {run.config.level} level",
    )


def _fail(ckpt: Checkpoint, what: str) -> CheckpointError:
    return CheckpointError(f"checkpoint {str(ckpt.path)!r}: {what}")


def model_from_checkpoint(ckpt: Checkpoint) -> RNNLanguageModel:
    """The trained model (with its vocabulary) stored in ``ckpt``, validated."""
    try:
        vocab = Vocab.from_dict(ckpt.meta["vocab"])
        config = ModelConfig.from_dict(ckpt.meta["model_config"])
    except (DataError, ValueError, TypeError, KeyError) as e:
        raise _fail(ckpt, f"invalid vocabulary or model config: {e}") from None
    if config.vocab_size != len(vocab):
        raise _fail(ckpt, f"model vocab_size {config.vocab_size} != {len(vocab)} vocabulary entries")
    state = ckpt.model_state()
    dtype = state["head.weight"].dtype if "head.weight" in state else np.float32
    if dtype not in (np.float32, np.float64):
        raise _fail(ckpt, f"parameters have dtype {dtype}, expected float32 or float64")
    model = RNNLanguageModel.from_config(config, vocab=vocab, dtype=dtype)
    try:
        model.load_state_dict(state, strict=True)
    except (RuntimeError, KeyError, TypeError, ValueError) as e:
        raise _fail(ckpt, f"parameters do not match the model config: {e}") from None
    bad = [k for k, v in state.items() if not np.isfinite(v).all()]
    if bad:
        raise _fail(ckpt, f"parameters contain NaN or inf: {bad}")
    return model


def restore_training_state(run: _Run, ckpt: Checkpoint) -> None:
    """Load ``ckpt`` into the freshly built ``run`` (same model config, data and optimiser)."""
    meta, arrays = ckpt.meta, ckpt.arrays
    saved = meta.get("train_config", {})
    for key in ("optimizer", "seq_len", "dtype", "level"):
        if key in saved and saved[key] != getattr(run.config, key):
            raise ValueError(
                f"cannot resume {str(ckpt.path)!r}: it was trained with {key}={saved[key]!r}, "
                f"this run has {key}={getattr(run.config, key)!r}"
            )
    stored = model_from_checkpoint(ckpt)
    run.model.load_state_dict(stored.state_dict())
    try:
        run.optimizer.load_state_dict(unflatten_state(meta["optimizer"], arrays))
        run.scheduler.load_state_dict(unflatten_state(meta["scheduler"], arrays))
        run.gen.set_state(meta["rng"]["model"])
        run.sample_gen.set_state(meta["rng"]["sample"])
    except (KeyError, TypeError, ValueError, RuntimeError) as e:
        raise _fail(ckpt, f"invalid optimiser, scheduler or RNG state: {type(e).__name__}: {e}") from None
    try:
        run.batches.load_state_dict(meta["data"])
    except (DataError, KeyError) as e:
        raise ValueError(f"cannot resume {str(ckpt.path)!r}: {e}") from None
    if "hidden" in arrays:
        h = arrays["hidden"]
        expected = (run.model.num_layers, run.batches.batch_size, run.model.hidden_size)
        if h.shape != expected:
            raise _fail(ckpt, f"carried hidden state has shape {h.shape}, expected {expected}")
        run.hidden = Tensor._wrap(h.astype(run.model.dtype, copy=True))
    run.iteration = int(meta["iteration"])
    run.elapsed = float(meta.get("elapsed", 0.0))
    run.tokens = int(meta.get("tokens", 0))
    run.best_val = meta.get("best_val")
    run.history = History.from_arrays(arrays)
    run.last_saved, run.last_saved_iteration = ckpt.path, run.iteration
