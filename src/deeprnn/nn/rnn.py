"""``nn.RNN``, ``nn.LSTM`` and ``nn.GRU``: deep, optionally bidirectional recurrent networks with PyTorch's API.

For each layer l, direction d and time step t (PyTorch's documented recurrences)::

    RNN:   h_t = act(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh),    act = tanh or relu
    LSTM:  i, f, g, o = sigmoid, sigmoid, tanh, sigmoid of (x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh)
           c_t = f * c_{t-1} + i * g,    h_t = o * tanh(c_t)   (times W_hr^T with proj_size)
    GRU:   r, z = sigmoid(...),  n = tanh(W_in x_t + b_in + r * (W_hn h_{t-1} + b_hn)),
           h_t = (1 - z) * n + z * h_{t-1}

Layer 0 reads the input x_t; layer l > 0 reads layer l-1's output (both directions
concatenated), with dropout between layers in training mode.  Shapes and parameters are
in rnn_base.py; the step of each kind in kernels/rnn.py, kernels/lstm.py, kernels/gru.py.
"""

from __future__ import annotations

from typing import Any

from ..autograd.random import Generator
from .rnn_base import RNNBase
from .rnn_checks import check_nonlinearity

__all__ = ["RNN", "LSTM", "GRU"]


def _refuse_proj_size(kwargs: dict) -> None:
    if "proj_size" in kwargs:
        raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")


class RNN(RNNBase):
    """A multi-layer Elman RNN: ``RNN(input_size, hidden_size, num_layers=1, nonlinearity='tanh',
    bias=True, batch_first=False, dropout=0.0, bidirectional=False, device=None, dtype=None)``.

    ``forward(input, h_0=None) -> (output, h_n)``; see rnn_base.py for the shapes.
    Equivalent to this loop (one layer, one direction)::

        for t in range(L):
            h = act(x[t] @ W_ih.T + b_ih + h @ W_hh.T + b_hh)
            output.append(h)

    but run by fused kernels: one input-projection GEMM per layer and a hand-derived BPTT.
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        nonlinearity: str = "tanh",
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        device: Any = None,
        dtype: Any = None,
        generator: Generator | None = None,
        **kwargs: Any,
    ) -> None:
        _refuse_proj_size(kwargs)
        check_nonlinearity(nonlinearity)
        super().__init__(
            "RNN_TANH" if nonlinearity == "tanh" else "RNN_RELU",
            input_size,
            hidden_size,
            num_layers,
            bias,
            batch_first,
            dropout,
            bidirectional,
            device=device,
            dtype=dtype,
            generator=generator,
            **kwargs,
        )
        self.nonlinearity = nonlinearity


class LSTM(RNNBase):
    """A multi-layer LSTM: ``LSTM(input_size, hidden_size, num_layers=1, bias=True, batch_first=False,
    dropout=0.0, bidirectional=False, proj_size=0, device=None, dtype=None)``.

    ``forward(input, (h_0, c_0)=None) -> (output, (h_n, c_n))``; h_0 and c_0 are given
    together or both left out (zeros).  With proj_size > 0, h has proj_size features and c
    hidden_size.  Equivalent to this loop (one layer, one direction)::

        for t in range(L):
            i, f, g, o = (x[t] @ W_ih.T + b_ih + h @ W_hh.T + b_hh).chunk(4, dim=1)
            c = sigmoid(f) * c + sigmoid(i) * tanh(g)
            h = sigmoid(o) * tanh(c)            # @ W_hr.T with proj_size
            output.append(h)
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        proj_size: int = 0,
        device: Any = None,
        dtype: Any = None,
        generator: Generator | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            "LSTM",
            input_size,
            hidden_size,
            num_layers,
            bias,
            batch_first,
            dropout,
            bidirectional,
            proj_size,
            device=device,
            dtype=dtype,
            generator=generator,
            **kwargs,  # an unknown keyword fails as in torch, naming RNNBase.__init__()
        )


class GRU(RNNBase):
    """A multi-layer GRU: ``GRU(input_size, hidden_size, num_layers=1, bias=True, batch_first=False,
    dropout=0.0, bidirectional=False, device=None, dtype=None)``.

    ``forward(input, h_0=None) -> (output, h_n)``.  Equivalent to this loop (one layer, one direction)::

        for t in range(L):
            r, z, n_x = (x[t] @ W_ih.T + b_ih).chunk(3, dim=1)
            r_h, z_h, n_h = (h @ W_hh.T + b_hh).chunk(3, dim=1)
            r, z = sigmoid(r + r_h), sigmoid(z + z_h)
            n = tanh(n_x + r * n_h)
            h = (1 - z) * n + z * h
            output.append(h)
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        device: Any = None,
        dtype: Any = None,
        generator: Generator | None = None,
        **kwargs: Any,
    ) -> None:
        _refuse_proj_size(kwargs)
        super().__init__(
            "GRU",
            input_size,
            hidden_size,
            num_layers,
            bias,
            batch_first,
            dropout,
            bidirectional,
            device=device,
            dtype=dtype,
            generator=generator,
            **kwargs,
        )
