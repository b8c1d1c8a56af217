"""Sampling from an Elman language model, compiled: every layer, the head, the softmax and the draw.

One call continues a text by n tokens, from the logits and the states that the prime left.
Each token is drawn from logits z (V,) exactly as models/generate.py's next_token does, in float64:

    z[banned] = -inf (if V > 1);  greedy: argmax z;  top_k: z = -inf below the k-th largest
    p = exp((z - max z) / tau);   token = first i with cdf_i > u * cdf_{V-1},  u ~ U[0, 1)

with the uniforms u drawn by the caller (one per token, in order, as next_token draws them), and
then one step of the network for the token drawn, as RNNLanguageModel.forward computes it:

    h^1 = act(e(tok) W_ih^1T + b^1 + h^1 W_hh^1T)     e(tok) = one-hot (a row of W_ih^1T) or E[tok]
    h^l = act(h^(l-1) W_ih^lT + b^l + h^l W_hh^lT)    l = 2..L        b = b_ih + b_hh
    z   = h^L W_out^T + b_out

Letters: L layers, H hidden features, V vocabulary, E embedding features.
"""

from __future__ import annotations

import numpy as np

from ._jit import jit
from ._math import add_product, tanh_

__all__ = ["CompiledSampler"]


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
def _sample(
    logits, h, emb, has_emb, w0t, wih_t, whh_t, bias, relu, wout_t, b_out, us, temp, top_k, greedy, banned, out, last
):
    L, _, H = h.shape
    zero = h.dtype.type(0)
    a = np.empty((1, H), h.dtype)
    n = out.shape[0]
    for i in range(n):
        tok = _draw(logits[0], temp, top_k, greedy, banned, us[i] if not greedy else 0.0)
        out[i] = tok
        if last and i + 1 == n:
            break  # the text ends here: no step for its last token
        for layer in range(L):
            a[0, :] = bias[layer]
            if layer > 0:
                add_product(a, h[layer - 1], wih_t[layer - 1])  # h^(l-1) W_ih^T
            elif has_emb:
                add_product(a, emb[tok : tok + 1], w0t)  # E[tok] W_ih^T
            else:
                a[0, :] += w0t[tok]  # onehot(tok) W_ih^T: a row of W_ih^T
            add_product(a, h[layer], whh_t[layer])  # + h W_hh^T
            for j in range(H):
                h[layer, 0, j] = max(a[0, j], zero) if relu else tanh_(a[0, j])
        logits[0, :] = b_out
        add_product(logits, h[L - 1], wout_t)  # z = h^L W_out^T + b_out


class CompiledSampler:
    """The prepared weights and the running state of one sampling run (see the module docstring).

    Args:
        logits: (V,) the logits after the prime.  h: (L, H) the states after the prime (copied).
        weights: L tuples (w_ih (H, I_l), w_hh (H, H), b_ih (H,) or None, b_hh (H,) or None).
        nonlinearity: 'tanh' or 'relu'.  embedding: (V, E) or None (one-hot input, I_1 = V).
        w_out: (V, H), b_out: (V,) or None: the head.
    """

    def __init__(self, logits, h, weights, nonlinearity, embedding, w_out, b_out):
        dtype = weights[0][1].dtype
        L, H = h.shape
        self.state = np.array(h, dtype=dtype).reshape(L, 1, H)  # (L, 1, H), a copy
        self.logits = np.array(logits, dtype=dtype).reshape(1, -1)  # (1, V), a copy
        self.bias = np.zeros((L, H), dtype)  # (L, H) b_ih + b_hh
        for layer, (_, _, b_ih, b_hh) in enumerate(weights):
            for b in (b_ih, b_hh):
                if b is not None:
                    self.bias[layer] += b
        self.w0t = np.ascontiguousarray(weights[0][0].T)  # (I_1, H)
        self.wih_t = np.empty((max(L - 1, 0), H, H), dtype)  # (L-1, H, H) W_ih^T of the upper layers
        for layer in range(1, L):
            self.wih_t[layer - 1] = weights[layer][0].T
        self.whh_t = np.ascontiguousarray(np.stack([w[1].T for w in weights]))  # (L, H, H)
        self.emb = np.zeros((1, 1), dtype) if embedding is None else np.ascontiguousarray(embedding, dtype=dtype)
        self.has_emb = embedding is not None
        self.relu = nonlinearity == "relu"
        self.wout_t = np.ascontiguousarray(w_out.T)  # (H, V)
        self.b_out = np.zeros(w_out.shape[0], dtype) if b_out is None else np.ascontiguousarray(b_out, dtype=dtype)

    def draw(self, out, uniforms, temperature, top_k, greedy, banned, last):
        """Draw len(out) tokens into out (int64), continuing the run.

        uniforms: (len(out),) U[0, 1) draws, one per token (unused when greedy: may be None).
        temperature > 0; top_k: int or None; greedy: bool; banned: a token id never drawn, or None.
        last: True when these are the text's last tokens (the step after the last one is skipped).
        """
        us = np.zeros(0, np.float64) if greedy else np.ascontiguousarray(uniforms, dtype=np.float64)
        _sample(
            self.logits,
            self.state,
            self.emb,
            self.has_emb,
            self.w0t,
            self.wih_t,
            self.whh_t,
            self.bias,
            self.relu,
            self.wout_t,
            self.b_out,
            us,
            float(temperature),
            0 if top_k is None else int(top_k),
            bool(greedy),
            -1 if banned is None else int(banned),
            out,
            bool(last),
        )
        return out
