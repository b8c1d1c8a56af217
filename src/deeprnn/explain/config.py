"""``ExplainConfig``: the network and the data to explain, as one typed dataclass.

The fields are the recurrent modules' constructor arguments, the kind of network
(``mode``: 'rnn', 'lstm' or 'gru'), and the two sizes of the data that the module does
not know: the sequence length L and the batch size N (None for an unbatched input of
shape (L, H_in)).  Validation is the module's own: `build_module` constructs the real
``nn.RNN``, ``nn.LSTM`` or ``nn.GRU``, so a bad configuration raises exactly the
exception class and message that the module's constructor raises.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass

import numpy as np

from ..autograd.random import Generator
from ..memory import check_memory
from ..nn.rnn import GRU, LSTM, RNN
from ..nn.rnn_base import RNNBase

__all__ = ["ExplainConfig", "MODES", "GATES", "build_module", "check_data_sizes", "footprint", "check_footprint"]

MODES = ("rnn", "lstm", "gru")
GATES = {"rnn": 1, "lstm": 4, "gru": 3}  # blocks of hidden_size rows in weight_ih / weight_hh
_PER_STEP = {1: (8, 14), 3: (26, 44), 4: (40, 60)}  # hidden values kept per A, forward / with BPTT (footprint)


@dataclass(frozen=True)
class ExplainConfig:
    """A network (the module's arguments) and the shape of the data to run it on.

    Attributes:
        input_size: H_in, the features of each time step (样本特征数).
        hidden_size: H_out, the features of the hidden state (隐层神经元状态量特征数).
        num_layers: stacked layers (隐层数量).
        nonlinearity: 'tanh' or 'relu' (the Elman RNN only; LSTM and GRU refuse any other
            value than the default 'tanh', as their constructors refuse the argument).
        bias: whether b_ih and b_hh exist.
        batch_first: input and output as (N, L, F) instead of (L, N, F).
        bidirectional: a second, reverse direction per layer (双向).
        seq_len: L, the number of time steps (序列长度).
        batch_size: N (batch 的长度), or None for one unbatched sequence (L, H_in).
        weight_scale: None draws the weights as PyTorch does, U(-1/sqrt(H_out), 1/sqrt(H_out));
            a number s draws every weight and bias from U(-s, s) instead.
        mode: 'rnn' (nn.RNN), 'lstm' (nn.LSTM) or 'gru' (nn.GRU).
    """

    input_size: int = 3
    hidden_size: int = 5
    num_layers: int = 2
    nonlinearity: str = "tanh"
    bias: bool = True
    batch_first: bool = False
    bidirectional: bool = False
    seq_len: int = 4
    batch_size: int | None = 2
    weight_scale: float | None = None
    mode: str = "rnn"


def check_data_sizes(seq_len: object, batch_size: object) -> None:
    """seq_len must be an int >= 1; batch_size an int >= 1 or None (unbatched)."""
    if not isinstance(seq_len, numbers.Integral) or isinstance(seq_len, bool):
        raise TypeError(f"seq_len should be of type int, got: {type(seq_len).__name__}")
    if seq_len <= 0:
        # The message nn.RNN.forward gives for an empty sequence.
        raise RuntimeError("Expected sequence length to be larger than 0 in RNN")
    if batch_size is None:
        return
    if not isinstance(batch_size, numbers.Integral) or isinstance(batch_size, bool):
        raise TypeError(f"batch_size should be of type int or None (unbatched), got: {type(batch_size).__name__}")
    if batch_size <= 0:
        raise ValueError(f"batch_size must be greater than zero, got {batch_size}")


def build_module(config: ExplainConfig, seed: int = 0) -> RNNBase:
    """The float64 ``nn.RNN`` / ``nn.LSTM`` / ``nn.GRU`` that `config` describes, its weights drawn
    from ``Generator(seed)``.

    Construction runs the module's own checks (rnn_checks), so errors are the module's; a
    nonlinearity other than 'tanh' is passed on to LSTM and GRU, which refuse it as torch does.
    """
    if config.mode not in MODES:
        raise ValueError(f"mode must be one of {', '.join(MODES)}, got {config.mode!r}")
    common = dict(
        bias=config.bias,
        batch_first=config.batch_first,
        bidirectional=config.bidirectional,
        dtype=np.float64,
        generator=Generator(seed),
    )
    sizes = (config.input_size, config.hidden_size, config.num_layers)
    if config.mode == "rnn":
        model: RNNBase = RNN(*sizes, nonlinearity=config.nonlinearity, **common)
    else:
        extra = {} if config.nonlinearity == "tanh" else {"nonlinearity": config.nonlinearity}
        model = (LSTM if config.mode == "lstm" else GRU)(*sizes, **common, **extra)
    check_data_sizes(config.seq_len, config.batch_size)
    if config.weight_scale is not None:
        s = float(config.weight_scale)
        if not s > 0:
            raise ValueError(f"weight_scale must be a positive number, got {config.weight_scale!r}")
        rng = np.random.default_rng(seed)
        for p in model.parameters():
            p._data[...] = rng.uniform(-s, s, p._data.shape)
    return model.eval()


def footprint(
    input_size: int,
    hidden_size: int,
    num_layers: int,
    num_dirs: int,
    seq_len: int,
    batch: int,
    backward: bool,
    gates: int = 1,
) -> int:
    """Bytes that explaining such a network needs, about: every step's numbers are kept.

    With P the parameters and A = L*D*T*N*H the hidden values (float64, 8 bytes each), the
    trace keeps four (N, H) arrays per step and each layer's output, BPTT five more, and the
    module's own run its buffers and gradients: about 8 A forward only and 14 A with the
    backward pass (14 A measured 7.1 GB at H_in = H = 1000, N = 64, T = 500, L = 2, against
    7.2 GB estimated), plus 6 P for the parameters, their float64 copies and gradients, and 2 P more
    for the copy and the transpose of every W_hh that the kernels keep (kernels/transposed.py).
    An LSTM (gates = 4) or GRU (gates = 3) keeps every gate's numbers too, and its parameters
    scale by the gates: measured 32 A forward and 46 A with BPTT for the LSTM, 21 A and 35 A for
    the GRU (L = 2, D = 2, H = 60..100), estimated as 40 A and 60 A, 26 A and 44 A.
    """
    H, D, G = hidden_size, num_dirs, gates
    params = sum(D * G * (H * (input_size if k == 0 else D * H) + H * H + 2 * H) for k in range(num_layers))
    hidden = num_layers * D * seq_len * batch * H
    output = D * seq_len * batch * H if backward else 0  # the module's output, a copy of what backward keeps
    per_step = _PER_STEP[G][1 if backward else 0]
    return 8 * (per_step * hidden + output + 8 * params + 3 * seq_len * batch * input_size)


def check_footprint(
    input_size: int,
    hidden_size: int,
    num_layers: int,
    num_dirs: int,
    seq_len: int,
    batch: int,
    backward: bool,
    gates: int = 1,
) -> None:
    """Raise MemoryLimitError, before anything is allocated, when `footprint` exceeds free memory."""
    need = footprint(input_size, hidden_size, num_layers, num_dirs, seq_len, batch, backward, gates)
    check_memory(
        need,
        f"explaining {num_layers} x {hidden_size} units on {seq_len} steps x {batch} samples",
        "use a smaller --hidden-size, --num-layers, --seq-len or --batch-size",
    )
