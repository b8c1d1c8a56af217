"""What is explained: a float64 nn.RNN, nn.LSTM or nn.GRU, an input in the module's layout,
an optional h0 (and, for the LSTM, c0).

`make_problem` accepts the three things `explain` takes (an ExplainConfig, a module or a
saved state_dict, an example name) and normalises them; `to_kernel_layout` turns the
user's layout into the time-major (T, N, F) arrays that the trace walks over.  A saved
state_dict's kind follows from its shapes: weight_hh_l0 is (G·H, H) with G = 1 (RNN),
3 (GRU) or 4 (LSTM).
"""

from __future__ import annotations

import copy
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..autograd.tensor import as_array
from ..fileio import NpzError, read_npz
from ..memory import check_memory
from ..nn.rnn import GRU, LSTM, RNN
from ..nn.rnn_base import RNNBase
from ..nn.rnn_function import weight_arrays
from .config import GATES, MODES, ExplainConfig, build_module, check_data_sizes
from .examples import EXAMPLES, Example

__all__ = ["Problem", "make_problem", "load_model", "random_data", "kind_of", "detect_kind"]

_KIND = {"RNN_TANH": "rnn", "RNN_RELU": "rnn", "LSTM": "lstm", "GRU": "gru"}
NAMES = {"rnn": "nn.RNN", "lstm": "nn.LSTM", "gru": "nn.GRU"}


def kind_of(model: RNNBase) -> str:
    """'rnn', 'lstm' or 'gru' for a recurrent module."""
    return _KIND[model.mode]


@dataclass
class Problem:
    """A float64 module (eval mode), its input, h0 (and the LSTM's c0) in the module's own layout."""

    model: RNNBase  # nn.RNN, nn.LSTM or nn.GRU
    input: np.ndarray  # (L, N, H_in), (N, L, H_in) with batch_first, or (L, H_in)
    h0: np.ndarray | None  # (D*num_layers, N, H_out) or (D*num_layers, H_out); None: zeros
    example: Example | None = None
    origin: str = "config"  # 'config' | 'model' | 'example'
    dropout_ignored: float = 0.0
    c0: np.ndarray | None = None  # LSTM only: like h0; given with h0 or not at all

    @property
    def kind(self) -> str:
        """'rnn', 'lstm' or 'gru'."""
        return kind_of(self.model)

    @property
    def module_name(self) -> str:
        """'nn.RNN', 'nn.LSTM' or 'nn.GRU'."""
        return NAMES[self.kind]

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
        return weight_arrays(self.model._weight_groups())

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

    def c0_kernel_layout(self) -> np.ndarray:
        """The LSTM's c0 as (L*D, N, H), zeros when not given."""
        x, h0 = self.to_kernel_layout()
        if self.c0 is None:
            return np.zeros_like(h0)
        return np.ascontiguousarray(self.c0 if self.batched else self.c0[:, None, :])


def random_data(model: RNNBase, seq_len: int, batch_size: int | None, seed: int) -> np.ndarray:
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


def _as_float64(model: RNNBase) -> RNNBase:
    """A float64, eval-mode copy of `model` with the same weights (the trace runs in float64)."""
    if not isinstance(model, (RNN, LSTM, GRU)):
        raise TypeError(f"explain expects a deeprnn.nn.RNN, nn.LSTM or nn.GRU model, got {type(model).__name__}")
    _refuse_projection(model.proj_size, type(model).__name__)
    return copy.deepcopy(model).double().eval()


def _refuse_projection(proj_size: int, what: str) -> None:
    if proj_size:
        raise ValueError(
            f"{what}: an LSTM with projections is not explained; expected proj_size=0, got proj_size={proj_size}"
        )


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


def detect_kind(sd: dict[str, np.ndarray], name: str, mode: str | None = None) -> str:
    """The kind of a state_dict from weight_hh_l0 (G·H, H): G = 1 'rnn', 3 'gru', 4 'lstm'.

    A given `mode` must agree with the shapes; a kind that the shapes do not tell (a
    projected LSTM, a shape that fits no kind) is an error naming what was expected.
    """
    if mode is not None and mode not in MODES:
        raise ValueError(f"mode must be one of {', '.join(MODES)}, got {mode!r}")
    if "weight_ih_l0" not in sd or "weight_hh_l0" not in sd:
        raise ValueError(
            f"{name} is not the state_dict of an nn.RNN, nn.LSTM or nn.GRU: expected 'weight_ih_l0' and "
            f"'weight_hh_l0', got keys {sorted(sd)[:8]}"
        )
    if "weight_hr_l0" in sd:
        _refuse_projection(int(sd["weight_hr_l0"].shape[0]), name)
    w = sd["weight_hh_l0"]
    if w.ndim != 2 or w.shape[1] == 0:
        raise ValueError(f"{name}: weight_hh_l0 has shape {w.shape}, expected (G*hidden_size, hidden_size)")
    rows, hidden = (int(n) for n in w.shape)
    kinds = [k for k, g in GATES.items() if rows == g * hidden]
    if not kinds:
        raise ValueError(
            f"{name}: weight_hh_l0 has shape {w.shape}, expected (G*hidden_size, hidden_size) with "
            f"G = 1 (nn.RNN), 3 (nn.GRU) or 4 (nn.LSTM), got {rows} rows for hidden_size {hidden}"
        )
    kind = kinds[0]
    if mode is not None and mode != kind:
        raise ValueError(
            f"{name}: mode {mode!r} expects weight_hh_l0 of {GATES[mode]}*hidden_size = {GATES[mode] * hidden} rows, "
            f"got {rows} ({NAMES[kind]})"
        )
    return kind


def _expected_shapes(sd: dict[str, np.ndarray], name: str, kind: str) -> tuple[int, int, int, bool, bool]:
    """(input_size, hidden_size, num_layers, bias, bidirectional) of a `kind` state_dict, checked
    name by name and shape by shape before any module is built from it."""
    w = sd["weight_ih_l0"]
    G = GATES[kind]
    if w.ndim != 2:
        raise ValueError(f"{name}: weight_ih_l0 has shape {w.shape}, expected ({G}*hidden_size, input_size)")
    if w.shape[0] % G:
        raise ValueError(f"{name}: weight_ih_l0 has shape {w.shape}, expected ({G}*hidden_size, input_size)")
    hidden, input_size = int(w.shape[0]) // G, int(w.shape[1])  # weight_hh_l0 is checked against these
    bias, bidir = "bias_ih_l0" in sd, "weight_ih_l0_reverse" in sd
    per = (4 if bias else 2) * (2 if bidir else 1)
    num_layers = len(sd) // per
    D = 2 if bidir else 1
    expected: dict[str, tuple[int, ...]] = {}
    for k in range(num_layers):
        for sfx in ("", "_reverse")[:D]:
            expected[f"weight_ih_l{k}{sfx}"] = (G * hidden, input_size if k == 0 else D * hidden)
            expected[f"weight_hh_l{k}{sfx}"] = (G * hidden, hidden)
            if bias:
                expected[f"bias_ih_l{k}{sfx}"] = (G * hidden,)
                expected[f"bias_hh_l{k}{sfx}"] = (G * hidden,)
    if num_layers < 1 or set(expected) != set(sd):
        odd = sorted(set(sd) ^ set(expected))
        raise ValueError(f"{name} is not the state_dict of one {NAMES[kind]}: unexpected or missing keys {odd[:8]}")
    wrong = [f"{k} {sd[k].shape} (expected {v})" for k, v in expected.items() if sd[k].shape != v]
    if wrong:
        raise ValueError(f"{name}: parameter shapes do not fit together: {'; '.join(wrong[:3])}")
    bad = [k for k, v in sd.items() if not np.issubdtype(v.dtype, np.floating)]
    if bad:
        raise ValueError(f"{name}: parameters {bad[:3]} are not floating point ({sd[bad[0]].dtype})")
    return input_size, hidden, num_layers, bias, bidir


def load_model(
    path: str | os.PathLike, nonlinearity: str = "tanh", batch_first: bool = False, mode: str | None = None
) -> RNNBase:
    """An nn.RNN, nn.LSTM or nn.GRU rebuilt from a saved state_dict: the kind (see `detect_kind`;
    `mode` None detects it, a given mode must agree), sizes, layers, bias and directions are read
    from the parameter names and shapes; `nonlinearity` (RNN only) and `batch_first` are not
    stored in a state_dict, so they are given here.

    The file is read as data only (the checkpoints' reader: ``.npy`` arrays, no pickle), and its
    names and shapes must fit one module before the module is built.
    """
    sd = _read_state_dict(Path(path))
    name = Path(path).name
    kind = detect_kind(sd, name, mode)
    input_size, hidden, num_layers, bias, bidir = _expected_shapes(sd, name, kind)
    cfg = ExplainConfig(
        input_size,
        hidden,
        num_layers,
        nonlinearity=nonlinearity if kind == "rnn" else "tanh",
        bias=bias,
        batch_first=batch_first,
        bidirectional=bidir,
        mode=kind,
    )
    model = build_module(cfg)
    model.load_state_dict(sd)  # strict: any other key or shape is reported by the module
    return model.eval()


def _states(model: RNNBase, hx) -> tuple[np.ndarray | None, np.ndarray | None]:
    """(h0, c0) as float64 arrays: an LSTM's hx is the pair (h0, c0), the others' one array."""
    if hx is None:
        return None, None
    if kind_of(model) != "lstm":
        return as_array(hx, np.float64), None
    if not isinstance(hx, (tuple, list)) or len(hx) != 2:
        raise ValueError(f"an LSTM's hx is the pair (h0, c0), got {type(hx).__name__}")
    return as_array(hx[0], np.float64), as_array(hx[1], np.float64)


def _problem(model: RNNBase, x, hx, **info) -> Problem:
    h0, c0 = _states(model, hx)
    if kind_of(model) == "lstm" and h0 is not None and c0 is None:
        c0 = np.zeros_like(h0)  # an example's h0 with the LSTM's c0 = zeros
    return Problem(model, as_array(x, np.float64), h0, c0=c0, **info)


def make_problem(
    what: ExplainConfig | RNNBase | str | os.PathLike | None,
    *,
    seed: int = 0,
    seq_len: int = 4,
    batch_size: int | None = 2,
    input: np.ndarray | None = None,  # noqa: A002
    hx: np.ndarray | tuple | None = None,
) -> Problem:
    """Normalise what `explain` was given into a Problem (see `explain` for the rules)."""
    if what is None:
        what = ExplainConfig()
    if isinstance(what, str) and what in EXAMPLES:
        ex = EXAMPLES[what]
        model, x, h0 = ex.build(seed)
        problem = Problem(model, x, h0, example=ex, origin="example")
        if problem.kind == "lstm" and h0 is not None:
            problem.c0 = np.zeros_like(h0)
        return problem
    if isinstance(what, (str, os.PathLike)):
        p = Path(what)
        if not p.exists() or p.is_dir():
            raise ValueError(
                f"unknown example or file {str(what)!r}; expected one of: {', '.join(EXAMPLES)}, "
                "or the path of a saved nn.RNN, nn.LSTM or nn.GRU state_dict (.npz, .pt)"
            )
        what = load_model(p)
    if isinstance(what, ExplainConfig):
        model = build_module(what, seed)
        x = random_data(model, what.seq_len, what.batch_size, seed + 1) if input is None else input
        return _problem(model, x, hx, origin="config")
    dropout = float(getattr(what, "dropout", 0.0))
    model = _as_float64(what)
    x = random_data(model, seq_len, batch_size, seed + 1) if input is None else input
    return _problem(model, x, hx, origin="model", dropout_ignored=dropout)
