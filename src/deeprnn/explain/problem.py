"""What is explained: a float64 nn.RNN, an input in the module's layout and an optional h0.

`make_problem` accepts the three things `explain` takes (an ExplainConfig, an nn.RNN or a
saved state_dict, an example name) and normalises them; `to_kernel_layout` turns the
user's layout into the time-major (T, N, F) arrays that the trace walks over.
"""

from __future__ import annotations

import copy
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..autograd.random import Generator
from ..autograd.tensor import as_array
from ..nn.rnn import RNN
from .config import ExplainConfig, build_module, check_data_sizes
from .examples import EXAMPLES, Example

__all__ = ["Problem", "make_problem", "load_model", "random_data"]


@dataclass
class Problem:
    """A float64 module (eval mode), its input and h0 in the module's own layout."""

    model: RNN
    input: np.ndarray  # (L, N, H_in), (N, L, H_in) with batch_first, or (L, H_in)
    h0: np.ndarray | None  # (D*num_layers, N, H_out) or (D*num_layers, H_out); None: zeros
    example: Example | None = None
    origin: str = "config"  # 'config' | 'model' | 'example'
    dropout_ignored: float = 0.0

    @property
    def batched(self) -> bool:
        return self.input.ndim == 3

    @property
    def num_dirs(self) -> int:
        return 2 if self.model.bidirectional else 1

    def weights(self) -> list[tuple[np.ndarray, np.ndarray, np.ndarray | None, np.ndarray | None]]:
        """L*D tuples (w_ih, w_hh, b_ih, b_hh) in PyTorch's order l0, l0_reverse, l1, ..."""
        return [tuple(None if p is None else p._data for p in g) for g in self.model._weight_groups()]

    def to_kernel_layout(self) -> tuple[np.ndarray, np.ndarray]:
        """x (T, N, H_in) time-major and h0 (L*D, N, H_out): the layout every step works in."""
        x = self.input
        if not self.batched:
            x = x[:, None, :]  # unbatched: one sample, N = 1
        elif self.model.batch_first:
            x = x.transpose(1, 0, 2)  # (N, L, H_in) -> (L, N, H_in)
        n = x.shape[1]
        shape = (self.model.num_layers * self.num_dirs, n, self.model.hidden_size)
        if self.h0 is None:
            h0 = np.zeros(shape)
        else:
            h0 = self.h0 if self.batched else self.h0[:, None, :]
        return np.ascontiguousarray(x), np.ascontiguousarray(h0)


def random_data(model: RNN, seq_len: int, batch_size: int | None, seed: int) -> np.ndarray:
    """A standard-normal input for `model` in its own layout, drawn from `seed`."""
    check_data_sizes(seq_len, batch_size)
    rng = np.random.default_rng(seed)
    if batch_size is None:
        shape: tuple[int, ...] = (seq_len, model.input_size)
    elif model.batch_first:
        shape = (batch_size, seq_len, model.input_size)
    else:
        shape = (seq_len, batch_size, model.input_size)
    return rng.standard_normal(shape)


def _as_float64(model: RNN) -> RNN:
    """A float64, eval-mode copy of `model` with the same weights (the trace runs in float64)."""
    if not isinstance(model, RNN):
        raise TypeError(f"explain expects a deeprnn.nn.RNN model, got {type(model).__name__}")
    return copy.deepcopy(model).double().eval()


def _read_state_dict(path: Path) -> dict[str, np.ndarray]:
    if path.suffix == ".npz":
        with np.load(path) as f:
            return {k: f[k] for k in f.files}
    if path.suffix in (".pt", ".pth"):
        raise ValueError(
            f"{path.name} is a torch file; deeprnn does not run torch. Convert it once with torch: "
            "numpy.savez('model.npz', **{k: v.numpy() for k, v in torch.load(path).items()})"
        )
    raise ValueError(f"expected a state_dict saved as .npz (numpy.savez) or .pt/.pth (torch.save), got {path.name}")


def load_model(path: str | os.PathLike, nonlinearity: str = "tanh", batch_first: bool = False) -> RNN:
    """An nn.RNN rebuilt from a saved state_dict: the sizes, layers, bias and directions are read
    from the parameter names and shapes; `nonlinearity` and `batch_first` are not stored in a
    state_dict, so they are given here.
    """
    sd = _read_state_dict(Path(path))
    if "weight_ih_l0" not in sd or "weight_hh_l0" not in sd:
        raise ValueError(
            f"{Path(path).name} is not an nn.RNN state_dict: expected 'weight_ih_l0' and "
            f"'weight_hh_l0', got keys {sorted(sd)}"
        )
    hidden, input_size = sd["weight_ih_l0"].shape
    num_layers = sum(1 for k in sd if k.startswith("weight_ih_l") and not k.endswith("_reverse"))
    model = RNN(
        int(input_size),
        int(hidden),
        num_layers,
        nonlinearity=nonlinearity,
        bias="bias_ih_l0" in sd,
        batch_first=batch_first,
        bidirectional="weight_ih_l0_reverse" in sd,
        dtype=np.float64,
        generator=Generator(0),
    )
    model.load_state_dict(sd)  # strict: any other key or shape is reported by the module
    return model.eval()


def make_problem(
    what: ExplainConfig | RNN | str | os.PathLike | None,
    *,
    seed: int = 0,
    seq_len: int = 4,
    batch_size: int | None = 2,
    input: np.ndarray | None = None,  # noqa: A002
    hx: np.ndarray | None = None,
) -> Problem:
    """Normalise what `explain` was given into a Problem (see `explain` for the rules)."""
    if what is None:
        what = ExplainConfig()
    if isinstance(what, str) and what in EXAMPLES:
        ex = EXAMPLES[what]
        model, x, h0 = ex.build(seed)
        return Problem(model, x, h0, example=ex, origin="example")
    if isinstance(what, (str, os.PathLike)):
        p = Path(what)
        if not p.is_file():
            raise ValueError(
                f"unknown example or file {str(what)!r}; expected one of: {', '.join(EXAMPLES)}, "
                "or the path of a saved nn.RNN state_dict (.npz, .pt)"
            )
        what = load_model(p)
    if isinstance(what, ExplainConfig):
        model = build_module(what, seed)
        x = random_data(model, what.seq_len, what.batch_size, seed + 1) if input is None else input
        hx = None if hx is None else as_array(hx, np.float64)
        return Problem(model, as_array(x, np.float64), hx, origin="config")
    dropout = float(getattr(what, "dropout", 0.0))
    model = _as_float64(what)
    x = random_data(model, seq_len, batch_size, seed + 1) if input is None else input
    hx = None if hx is None else as_array(hx, np.float64)
    return Problem(model, as_array(x, np.float64), hx, origin="model", dropout_ignored=dropout)
