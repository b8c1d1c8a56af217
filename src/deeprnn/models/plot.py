"""The loss-curve PNG (train and validation loss against iteration), written atomically.

matplotlib is an optional extra (``deeprnn[plot]``): it is imported only here, only when a
plot is drawn; without it the caller is told once and training goes on.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from ..fileio import atomic_write

__all__ = ["plot_loss_curve", "matplotlib_available"]


def matplotlib_available() -> bool:
    """True if matplotlib (the deeprnn[plot] extra) can be imported."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return False
    return True


def plot_loss_curve(
    path: str | os.PathLike[str],
    train_iter: Sequence[int],
    train_loss: Sequence[float],
    val_iter: Sequence[int],
    val_loss: Sequence[float],
    title: str = "",
) -> Path:
    """Draw train (thin) and validation (dots) loss in nats per token vs iteration to ``path``."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib.figure import Figure

    fig = Figure(figsize=(7, 4.2), dpi=100)
    ax = fig.add_subplot(1, 1, 1)
    if len(train_iter):
        ax.plot(train_iter, train_loss, lw=0.8, alpha=0.7, label="train")
    if len(val_iter):
        ax.plot(val_iter, val_loss, "o-", ms=3, lw=1.2, label="validation")
    ax.set_xlabel("iteration")
    ax.set_ylabel("loss (nats / token)")
    ax.set_title(title or "deeprnn training loss")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    path = Path(path)
    atomic_write(path, lambda fh: fig.savefig(fh, format="png"))
    return path
