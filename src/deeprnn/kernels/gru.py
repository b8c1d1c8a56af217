"""The GRU (PyTorch's nn.GRU): its step, the step's derivative, and its entry points.

For each layer, direction and time step (PyTorch's documented equations, gate order r, z, n)::

    r_t = sigmoid(W_ir x_t + b_ir + W_hr h_{t-1} + b_hr)
    z_t = sigmoid(W_iz x_t + b_iz + W_hz h_{t-1} + b_hz)
    n_t = tanh(W_in x_t + b_in + r_t * (W_hn h_{t-1} + b_hn))
    h_t = (1 - z_t) * n_t + z_t * h_{t-1}          computed as torch does: n_t + z_t * (h_{t-1} - n_t)

W_ih = [W_ir; W_iz; W_in] (3H, I_l), W_hh = [W_hr; W_hz; W_hn] (3H, H).  The stack folds
b_ir + b_hr, b_iz + b_hz and b_in into the input projection; b_hn cannot be folded, since
r_t multiplies it, so the loop adds it to W_hn h_{t-1} (kept as hn_t for backward).

Backward, with g_t = dL/dh_t (from above and from step t+1):

    dA_n   = g_t * (1 - z_t) * (1 - n_t**2)              -> dW_in, db_in (the input side)
    d(hn)  = dA_n * r_t                                    -> dW_hn, db_hn (the recurrent side)
    dA_r   = dA_n * hn_t * r_t (1 - r_t)
    dA_z   = g_t * (h_{t-1} - n_t) * z_t (1 - z_t)
    dh_{t-1} = g_t * z_t + [dA_r, dA_z, d(hn)] W_hh

The factors that do not depend on g_t are computed for all steps at once before the
loop (`backward_prepare`).
"""

from __future__ import annotations

import numpy as np

from ._activation import sigmoid_derivative, tanh_derivative
from .stack import recurrent_forward
from .stack_backward import recurrent_backward
from .transposed import transposed

__all__ = ["GRU", "gru_forward", "gru_backward"]


class GRUKind:
    """Three gates (r, z, n), one state; the n gate's recurrent part is kept apart (b_hn, r *)."""

    mode = "GRU"
    num_gates = 3
    state_names = ("h",)
    step_reads = ("gates", "hn", "h")  # the buffers the time loop reads or writes
    step_reads_backward = ("d_gates", "dn", "gates")
    gates_in_h = False
    input_bias_in_loop = False  # the stack adds input_bias to A
    recurrent_grads_differ = True  # the n gate: dA_n on the input side, dA_n * r on the recurrent side

    def __repr__(self) -> str:
        return self.mode

    @staticmethod
    def state_widths(H: int, S: int) -> tuple[int, ...]:
        return (H,)

    @staticmethod
    def forward_buffers(H: int, S: int) -> dict:
        return {"hn": (H, False)}  # hn_t = W_hn h_{t-1} + b_hn

    @staticmethod
    def backward_buffers(H: int, S: int) -> dict:
        return {"dn": H}  # dA_n, the input side of the n gate

    @staticmethod
    def input_bias(b_ih, b_hh):
        """b_ih + [b_hr, b_hz, 0]: b_hn stays in the loop, inside r * (W_hn h + b_hn)."""
        if b_ih is None and b_hh is None:
            return None
        H = (b_ih if b_ih is not None else b_hh).shape[0] // 3
        bias = np.zeros(3 * H, dtype=(b_ih if b_ih is not None else b_hh).dtype) if b_ih is None else b_ih.copy()
        if b_hh is not None:
            bias[: 2 * H] += b_hh[: 2 * H]
        return bias

    @staticmethod
    def forward_constants(weights, contiguous=True):
        w_hh, b_hh = weights[1], weights[3]
        H = w_hh.shape[1]
        whh_t = transposed(w_hh) if contiguous else w_hh.T  # a copy pays off over many steps (transposed.py)
        return {"whh_t": whh_t, "b_hn": None if b_hh is None else b_hh[2 * H :], "H": H}

    @staticmethod
    def forward_work(N, H, S, dtype):
        return {"prod": np.empty((N, 3 * H), dtype=dtype)}

    @staticmethod
    def forward_steps(c, v, prev, reverse, work):
        """Run the GRU over one segment: v['gates'] (T_s, b, 3H) holds the input parts on entry
        and r, z, n on exit; writes h_t and hn_t for every step."""
        H, whh_t, b_hn = c["H"], c["whh_t"], c["b_hn"]
        gates = v["gates"]
        b = gates.shape[1]
        prod = work["prod"][:b]
        prod_rz, prod_n = prod[:, : 2 * H], prod[:, 2 * H :]
        half = gates.dtype.type(0.5)
        matmul, multiply, add, subtract, tanh = np.matmul, np.multiply, np.add, np.subtract, np.tanh
        seqs = [gates[..., : 2 * H], gates[..., :H], gates[..., H : 2 * H], gates[..., 2 * H :], v["hn"], v["h"]]
        if reverse:
            seqs = [s[::-1] for s in seqs]
        (h_prev,) = prev
        for rz, r, z, n, hn, h in zip(*seqs):
            matmul(h_prev, whh_t, out=prod)  # [W_hr h, W_hz h, W_hn h] of h_{t-1}
            add(rz, prod_rz, out=rz)  # a_r, a_z
            multiply(rz, half, out=rz)
            tanh(rz, out=rz)
            multiply(rz, half, out=rz)
            add(rz, half, out=rz)  # r, z = sigmoid(a_r, a_z) = 0.5 tanh(0.5 a) + 0.5
            if b_hn is None:
                np.copyto(hn, prod_n)
            else:
                add(prod_n, b_hn, out=hn)  # hn = W_hn h_{t-1} + b_hn
            multiply(r, hn, out=prod_n)
            add(n, prod_n, out=n)
            tanh(n, out=n)  # n = tanh(W_in x + b_in + r * (W_hn h_{t-1} + b_hn))
            subtract(h_prev, n, out=h)
            multiply(z, h, out=h)
            add(h, n, out=h)  # h_t = n + z * (h_{t-1} - n) = (1 - z) * n + z * h_{t-1}
            h_prev = h

    @staticmethod
    def backward_work(N, H, S, dtype):
        return {"tmp": np.empty((N, H), dtype=dtype)}

    @staticmethod
    def backward_prepare(weights, v, prev):
        """For every step at once: the factors of dA that do not depend on g_t."""
        H = weights[1].shape[1]
        gates, d, dn = v["gates"], v["d_gates"], v["dn"]  # (R, 3H), (R, 3H), (R, H)
        r, z, n = (gates[:, j * H : (j + 1) * H] for j in range(3))
        dr, dz, dhn = (d[:, j * H : (j + 1) * H] for j in range(3))
        (h_prev,) = prev  # (R, H)
        tanh_derivative(n, out=dn)
        np.subtract(dn.dtype.type(1), z, out=dhn)  # dhn is scratch until the loop writes d(hn)
        dn *= dhn  # (1 - z) (1 - n**2)       (times g_t -> dA_n)
        sigmoid_derivative(r, out=dr)
        dr *= v["hn"]  # hn * r (1 - r)         (times dA_n -> dA_r)
        sigmoid_derivative(z, out=dz)
        np.subtract(h_prev, n, out=dhn)
        dz *= dhn  # (h_{t-1} - n) z (1 - z)   (times g_t -> dA_z)

    @staticmethod
    def backward_steps(weights, v, carries, reverse, work):
        """The carry dh through one segment; writes [dA_r, dA_z, d(hn)] into v['d_gates'][t], dA_n into v['dn'][t]."""
        w_hh = weights[1]  # (3H, H)
        H = w_hh.shape[1]
        d_gates, gates, d_out = v["d_gates"], v["gates"], v["d_out"]
        T_s = d_gates.shape[0]
        seqs = [d_gates, d_gates[..., :H], d_gates[..., H : 2 * H], d_gates[..., 2 * H :], v["dn"]]
        seqs += [gates[..., :H], gates[..., H : 2 * H], d_out if d_out is not None else [None] * T_s]
        if not reverse:  # backward visits the steps in the opposite order to the direction's own
            seqs = [s[::-1] for s in seqs]
        (dh,) = carries
        tmp = work["tmp"][: dh.shape[0]]
        matmul, multiply, add = np.matmul, np.multiply, np.add
        for da, da_r, da_z, d_hn, da_n, r, z, dy in zip(*seqs):
            if dy is not None:
                add(dh, dy, out=dh)  # g_t = dL/dh_t from above + from step t+1
            multiply(da_n, dh, out=da_n)  # dA_n = g (1 - z) (1 - n**2)
            multiply(da_n, r, out=d_hn)  # d(hn) = dA_n * r
            multiply(da_r, da_n, out=da_r)  # dA_r = dA_n * hn * r (1 - r)
            multiply(da_z, dh, out=da_z)  # dA_z = g (h_{t-1} - n) z (1 - z)
            multiply(dh, z, out=dh)  # dh_{t-1} = g z
            matmul(da, w_hh, out=tmp)
            add(dh, tmp, out=dh)  #           + [dA_r, dA_z, d(hn)] W_hh

    @staticmethod
    def to_input_side(v):
        """d_gates: the recurrent side [dA_r, dA_z, d(hn)] -> the input side [dA_r, dA_z, dA_n]."""
        H = v["dn"].shape[1]
        np.copyto(v["d_gates"][:, 2 * H :], v["dn"])

    @staticmethod
    def extra_weight_grads(weights, v) -> tuple:
        return ()


GRU = GRUKind()


def gru_forward(
    x,
    h0,
    weights,
    num_layers,
    bidirectional,
    dropout_masks=None,
    need_cache=True,
    empty=np.empty,
    batch_sizes=None,
):
    """Run a deep (bi)directional GRU with PyTorch's equations (module docstring).

    Args:
        x: (T, N, I) input, time-major; or (T, N) integer token ids; with batch_sizes,
            packed rows (R, I) or (R,) ids.
        h0: (L*D, N, H) initial states, or None for zeros.
        weights: L*D tuples (w_ih (3H, I_l), w_hh (3H, H), b_ih (3H,) or None, b_hh (3H,) or None).
        num_layers, bidirectional, dropout_masks, need_cache, empty, batch_sizes: as `recurrent_forward`.

    Returns:
        out (T, N, D*H) (packed: (R, D*H)), h_n (L*D, N, H), cache for `gru_backward` (or None).
    """
    out, (h_n,), cache = recurrent_forward(
        GRU,
        x,
        (h0,),
        weights,
        num_layers,
        bidirectional,
        dropout_masks=dropout_masks,
        need_cache=need_cache,
        empty=empty,
        batch_sizes=batch_sizes,
    )
    return out, h_n, cache


def gru_backward(d_out, d_h_n, cache):
    """BPTT of `gru_forward`: returns dx (None for token ids), dh0 (L*D, N, H) and the L*D weight-gradient tuples."""
    dx, (dh0,), dweights = recurrent_backward(d_out, (d_h_n,), cache)
    return dx, dh0, dweights
