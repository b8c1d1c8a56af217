"""Sampling from a language model, compiled: every layer, the head, the softmax and the draw.

One call continues a text by n tokens, from the logits and the states that the prime left, for the
Elman RNN, the LSTM and the GRU.  Each token is drawn from logits z (V,) exactly as
models/generate.py's next_token does, in float64:

    z[banned] = -inf (if V > 1);  greedy: argmax z;  top_k: z = -inf below the k-th largest
    p = exp((z - max z) / tau);   token = first i with cdf_i > u * cdf_{V-1},  u ~ U[0, 1)

with the uniforms u drawn by the caller (one per token, in order, as next_token draws them), and
then one step of the network for the token drawn, as RNNLanguageModel.forward computes it.  Every
layer l takes its input part

    A^1 = e(tok) W_ih^1T + b^1        e(tok) = one-hot (a row of W_ih^1T) or E[tok]
    A^l = h^(l-1) W_ih^lT + b^l       l = 2..L, h^(l-1) already this step's

and one kind's step (PyTorch's equations and gate order; the LSTM and GRU share the per-step
cells of lstm.py and gru.py, lstm_cell and gru_cell, with the training loops):

    rnn   h = act(A + h W_hh^T)                                       b = b_ih + b_hh
    lstm  [i f g o] = [sigma sigma tanh sigma](A + h W_hh^T)          b = b_ih + b_hh
          c = f c + i g;  h = o tanh(c)
    gru   [P_r P_z P_n] = h W_hh^T;  r, z = sigma(A_rz + P_rz)         b = b_ih + [b_hr, b_hz, 0]
          n = tanh(A_n + r (P_n + b_hn));  h = n + z (h - n)

and then z = h^L W_out^T + b_out.  One loop serves every kind; a kind adds a step.

Letters: L layers, H hidden features, G = gates * H (H, 4H, 3H), V vocabulary, E embedding features.
"""

from __future__ import annotations

import numpy as np

from ..gru import GRUKind
from ..lstm import LSTMKind
from ..rnn import ElmanKind
from ._jit import jit
from ._math import add_product, tanh_
from .gru import gru_cell
from .lstm import lstm_cell

__all__ = ["CompiledSampler", "KINDS"]

RNN, LSTM, GRU = 0, 1, 2
KINDS = {"rnn": RNN, "lstm": LSTM, "gru": GRU}
"""The kinds the sampler runs, and the code the compiled loop branches on."""
_GATES = {RNN: 1, LSTM: 4, GRU: 3}
_INPUT_BIAS = {RNN: ElmanKind.input_bias, LSTM: LSTMKind.input_bias, GRU: GRUKind.input_bias}


@jit
def _draw(logits, temperature, top_k, greedy, banned, u):
    V = logits.shape[0]
    z = np.empty(V, np.float64)
    for j in range(V):
        z[j] = logits[j]
    if banned >= 0 and V > 1:
        z[banned] = -np.inf
    if greedy:
        return np.argmax(z)
    if 0 < top_k < V:
        kth = np.partition(z, V - top_k)[V - top_k]
        for j in range(V):
            if z[j] < kth:
                z[j] = -np.inf
    m = np.max(z)
    for j in range(V):
        z[j] = np.exp((z[j] - m) / temperature)
    cdf = np.cumsum(z)
    i = np.searchsorted(cdf, u * cdf[V - 1], side="right")
    return min(i, V - 1)


@jit
def _elman_step(a, h, whh_t, relu):
    """h (1, H) <- act(A + h W_hh^T); a (1, H): A in, overwritten."""
    add_product(a, h, whh_t)
    zero = a.dtype.type(0)
    for j in range(h.shape[1]):
        h[0, j] = max(a[0, j], zero) if relu else tanh_(a[0, j])


@jit
def _lstm_step(a, h, c, tc, whh_t):
    """(h, c) (1, H) each <- one LSTM step; a (1, 4H): A in, the gates out; tc (1, H) scratch."""
    add_product(a, h, whh_t)  # z = A + h W_hh^T
    lstm_cell(a, c, tc, h)


@jit
def _gru_step(a, p, h, whh_t, b_hn):
    """h (1, H) <- one GRU step; a (1, 3H): A in, the gates out; p (1, 3H) scratch; b_hn (H,)."""
    p[0, :] = 0
    add_product(p, h, whh_t)  # [P_r, P_z, P_n] = h W_hh^T
    gru_cell(a, p, b_hn, h)


@jit
def _network_step(kind, tok, h, c, net, relu, logits):
    """One step of every layer and the head for token tok: h (L, 1, H), c (L, 1, H) (LSTM) updated,
    logits (1, V) <- h^L W_out^T + b_out.  net: the weights as CompiledSampler.net."""
    w0t, wih_t, whh_t, bias, b_hn, emb, has_emb, wout_t, b_out = net
    L, _, H = h.shape
    G = bias.shape[1]
    a = np.empty((1, G), h.dtype)  # A, then the gates
    p = np.empty((1, G), h.dtype)  # the GRU's h W_hh^T
    tc = np.empty((1, H), h.dtype)  # the LSTM's tanh(c)
    for layer in range(L):
        a[0, :] = bias[layer]
        if layer > 0:
            add_product(a, h[layer - 1], wih_t[layer - 1])  # h^(l-1) W_ih^T
        elif has_emb:
            add_product(a, emb[tok : tok + 1], w0t)  # E[tok] W_ih^T
        else:
            a[0, :] += w0t[tok]  # onehot(tok) W_ih^T: a row of W_ih^T
        if kind == LSTM:
            _lstm_step(a, h[layer], c[layer], tc, whh_t[layer])
        elif kind == GRU:
            _gru_step(a, p, h[layer], whh_t[layer], b_hn[layer])
        else:
            _elman_step(a, h[layer], whh_t[layer], relu)
    logits[0, :] = b_out
    add_product(logits, h[L - 1], wout_t)  # z = h^L W_out^T + b_out


@jit
def _sample(kind, logits, h, c, net, relu, us, temp, top_k, greedy, banned, out, last):
    n = out.shape[0]
    for i in range(n):
        tok = _draw(logits[0], temp, top_k, greedy, banned, us[i] if not greedy else 0.0)
        out[i] = tok
        if last and i + 1 == n:
            break  # the text ends here: no step for its last token
        _network_step(kind, tok, h, c, net, relu, logits)


class CompiledSampler:
    """The prepared weights and the running state of one sampling run (see the module docstring).

    Args:
        kind: 'rnn', 'lstm' or 'gru'.  logits: (V,) the logits after the prime.
        states: the states after the prime (copied): (h,), or (h, c) for the LSTM, each (L, H).
        weights: L tuples (w_ih (G, I_l), w_hh (G, H), b_ih (G,) or None, b_hh (G,) or None);
            an LSTM with projections (a fifth entry, w_hr) is refused: it samples on the NumPy path.
        nonlinearity: 'tanh' or 'relu' (the RNN's).  embedding: (V, E) or None (one-hot input, I_1 = V).
        w_out: (V, H), b_out: (V,) or None: the head.
    """

    def __init__(self, kind, logits, states, weights, nonlinearity, embedding, w_out, b_out):
        if kind not in KINDS:
            raise ValueError(f"the compiled sampler runs {', '.join(map(repr, KINDS))}, got {kind!r}")
        if any(len(w) != 4 for w in weights):
            raise ValueError("the compiled sampler does not run an LSTM with projections (proj_size > 0)")
        self.kind = KINDS[kind]
        dtype = weights[0][1].dtype
        L, H = states[0].shape
        G = _GATES[self.kind] * H
        n_states = 2 if self.kind == LSTM else 1
        if len(states) != n_states or weights[0][1].shape != (G, H):
            raise ValueError(
                f"a {kind} of hidden size {H} takes {n_states} state(s) (L, H) and W_hh of shape ({G}, {H}); "
                f"got {len(states)} and {weights[0][1].shape}"
            )
        self.h = np.array(states[0], dtype=dtype).reshape(L, 1, H)  # (L, 1, H), a copy
        self.c = np.array(states[1], dtype=dtype).reshape(L, 1, H) if self.kind == LSTM else np.zeros((0, 1, H), dtype)
        self.logits = np.array(logits, dtype=dtype).reshape(1, -1)  # (1, V), a copy
        bias = np.zeros((L, G), dtype)  # (L, G) the bias folded into the input part
        b_hn = np.zeros((L if self.kind == GRU else 0, H), dtype)  # (L, H) the GRU's b_hn
        for layer, (_, _, b_ih, b_hh) in enumerate(weights):
            b = _INPUT_BIAS[self.kind](b_ih, b_hh)
            if b is not None:
                bias[layer] = b
            if self.kind == GRU and b_hh is not None:
                b_hn[layer] = b_hh[2 * H :]
        wih_t = np.empty((max(L - 1, 0), H, G), dtype)  # (L-1, H, G) W_ih^T of the upper layers
        for layer in range(1, L):
            wih_t[layer - 1] = weights[layer][0].T
        whh_t = np.ascontiguousarray(np.stack([w[1].T for w in weights]))  # (L, H, G)
        emb = np.zeros((1, 1), dtype) if embedding is None else np.ascontiguousarray(embedding, dtype=dtype)
        b_out = np.zeros(w_out.shape[0], dtype) if b_out is None else np.ascontiguousarray(b_out, dtype=dtype)
        w0t = np.ascontiguousarray(weights[0][0].T)  # (I_1, G)
        self.net = (w0t, wih_t, whh_t, bias, b_hn, emb, embedding is not None, np.ascontiguousarray(w_out.T), b_out)
        self.relu = nonlinearity == "relu"

    @property
    def states(self):
        """The running states: (h,), or (h, c) for the LSTM, each (L, H) (views)."""
        return (self.h[:, 0], self.c[:, 0]) if self.kind == LSTM else (self.h[:, 0],)

    def draw(self, out, uniforms, temperature, top_k, greedy, banned, last):
        """Draw len(out) tokens into out (int64), continuing the run.

        uniforms: (len(out),) U[0, 1) draws, one per token (unused when greedy: may be None).
        temperature > 0; top_k: int or None; greedy: bool; banned: a token id never drawn, or None.
        last: True when these are the text's last tokens (the step after the last one is skipped).
        """
        us = np.zeros(0, np.float64) if greedy else np.ascontiguousarray(uniforms, dtype=np.float64)
        top = 0 if top_k is None else int(top_k)
        ban = -1 if banned is None else int(banned)
        args = (float(temperature), top, bool(greedy), ban, out, bool(last))
        _sample(self.kind, self.logits, self.h, self.c, self.net, self.relu, us, *args)
        return out
