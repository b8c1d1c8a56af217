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
from ..fileio import NpzError, read_npz
from ..memory import check_memory
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

    @property
    def sizes(self) -> tuple[int, int]:
        """(T, N): time steps and samples (N = 1 unbatched)."""
        x = self.input
        if not self.batched:
            return x.shape[0], 1
        return (x.shape[1], x.shape[0]) if self.model.batch_first else (x.shape[0], x.shape[1])

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
    if path.suffix in (".pt", ".pth"):
        raise ValueError(
            f"{path.name} is a torch file; deeprnn does not run torch. Convert it once with torch: "
            "numpy.savez('model.npz', **{k: v.numpy() for k, v in torch.load(path).items()})"
        )
    if path.suffix != ".npz":
        raise ValueError(f"expected a state_dict saved as .npz (numpy.savez) or .pt/.pth (torch.save), got {path.name}")
    if not path.exists():
        raise FileNotFoundError(f"state_dict {str(path)!r}: no such file")
    try:  # the checkpoints' safe reader: arrays only, headers checked, no pickle
        return read_npz(path, check_size=lambda n: check_memory(n, f"state_dict {str(path)!r}"))
    except NpzError as e:
        raise ValueError(f"state_dict {str(path)!r}: {e}") from None


def _expected_shapes(sd: dict[str, np.ndarray], name: str) -> tuple[int, int, int, bool, bool]:
    """(input_size, hidden_size, num_layers, bias, bidirectional) of an nn.RNN state_dict, checked
    name by name and shape by shape before any module is built from it."""
    w = sd.get("weight_ih_l0")
    if w is None or "weight_hh_l0" not in sd:
        raise ValueError(
            f"{name} is not an nn.RNN state_dict: expected 'weight_ih_l0' and 'weight_hh_l0', got keys {sorted(sd)[:8]}"
        )
    if w.ndim != 2:
        raise ValueError(f"{name}: weight_ih_l0 has shape {w.shape}, expected (hidden_size, input_size)")
    hidden, input_size = (int(n) for n in w.shape)
    bias, bidir = "bias_ih_l0" in sd, "weight_ih_l0_reverse" in sd
    per = (4 if bias else 2) * (2 if bidir else 1)
    num_layers = len(sd) // per
    D = 2 if bidir else 1
    expected: dict[str, tuple[int, ...]] = {}
    for k in range(num_layers):
        for sfx in ("", "_reverse")[:D]:
            expected[f"weight_ih_l{k}{sfx}"] = (hidden, input_size if k == 0 else D * hidden)
            expected[f"weight_hh_l{k}{sfx}"] = (hidden, hidden)
            if bias:
                expected[f"bias_ih_l{k}{sfx}"] = (hidden,)
                expected[f"bias_hh_l{k}{sfx}"] = (hidden,)
    if num_layers < 1 or set(expected) != set(sd):
        odd = sorted(set(sd) ^ set(expected))
        raise ValueError(f"{name} is not the state_dict of one nn.RNN: unexpected or missing keys {odd[:8]}")
    wrong = [f"{k} {sd[k].shape} (expected {v})" for k, v in expected.items() if sd[k].shape != v]
    if wrong:
        raise ValueError(f"{name}: parameter shapes do not fit together: {'; '.join(wrong[:3])}")
    bad = [k for k, v in sd.items() if not np.issubdtype(v.dtype, np.floating)]
    if bad:
        raise ValueError(f"{name}: parameters {bad[:3]} are not floating point ({sd[bad[0]].dtype})")
    return input_size, hidden, num_layers, bias, bidir


def load_model(path: str | os.PathLike, nonlinearity: str = "tanh", batch_first: bool = False) -> RNN:
    """An nn.RNN rebuilt from a saved state_dict: the sizes, layers, bias and directions are read
    from the parameter names and shapes; `nonlinearity` and `batch_first` are not stored in a
    state_dict, so they are given here.

    The file is read as data only (the checkpoints' reader: ``.npy`` arrays, no pickle), and its
    names and shapes must fit one nn.RNN before the module is built.
    """
    sd = _read_state_dict(Path(path))
    input_size, hidden, num_layers, bias, bidir = _expected_shapes(sd, Path(path).name)
    model = RNN(
        input_size,
        hidden,
        num_layers,
        nonlinearity=nonlinearity,
        bias=bias,
        batch_first=batch_first,
        bidirectional=bidir,
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
        if not p.exists() or p.is_dir():
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
