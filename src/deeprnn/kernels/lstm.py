"""The LSTM (PyTorch's nn.LSTM): its step, the step's derivative, and its entry points.

For each layer, direction and time step (PyTorch's documented equations, gate order i, f, g, o)::

    i_t = sigmoid(W_ii x_t + b_ii + W_hi h_{t-1} + b_hi)
    f_t = sigmoid(W_if x_t + b_if + W_hf h_{t-1} + b_hf)
    g_t = tanh(W_ig x_t + b_ig + W_hg h_{t-1} + b_hg)
    o_t = sigmoid(W_io x_t + b_io + W_ho h_{t-1} + b_ho)
    c_t = f_t * c_{t-1} + i_t * g_t
    h_t = o_t * tanh(c_t)                  with proj_size P > 0:  h_t = (o_t * tanh(c_t)) W_hr^T

W_ih = [W_ii; W_if; W_ig; W_io] (4H, I_l), W_hh likewise (4H, S), W_hr (P, H); h_t has
S = P (or H) features and c_t has H.  The stack (stack.py) computes the four gates' input
parts and both biases for all steps in one product; the loop adds h_{t-1} W_hh^T and does
the gate arithmetic in place, in preallocated buffers.

Backward, with dh_t = dL/dh_t (from above and from step t+1) and dc_t from step t+1:

    dm    = dh_t  (with projections: dm = dh_t W_hr,  dW_hr += dh_t^T m_t, m_t = o_t * tanh(c_t))
    dc_t += dm * o_t * (1 - tanh(c_t)**2)
    dA_i  = dc_t * g_t      * i_t (1 - i_t)
    dA_f  = dc_t * c_{t-1}  * f_t (1 - f_t)
    dA_g  = dc_t * i_t      * (1 - g_t**2)
    dA_o  = dm * tanh(c_t)  * o_t (1 - o_t)
    dc_{t-1} = dc_t * f_t,    dh_{t-1} = dA_t W_hh

The factors that do not depend on the carries are computed for all steps at once
before the loop (`backward_prepare`), so each step is one product and a few ufuncs.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from ._activation import sigmoid_derivative, tanh_derivative
from .stack import recurrent_forward
from .stack_backward import recurrent_backward
from .transposed import transposed

__all__ = ["LSTM", "lstm_forward", "lstm_backward"]


@lru_cache(maxsize=64)
def _gate_scales(H: int, dtype: np.dtype) -> tuple:
    """(scale, offset), each (4H,) read-only, for sigmoid(a) = 0.5 tanh(0.5 a) + 0.5: one tanh over all
    four gates, with i, f, o scaled (0.5, 0.5) and g left as it is (1, 0).  Made once per size and dtype."""
    scale = np.full(4 * H, 0.5, dtype=dtype)
    scale[2 * H : 3 * H] = 1
    offset = np.full(4 * H, 0.5, dtype=dtype)
    offset[2 * H : 3 * H] = 0
    scale.flags.writeable = offset.flags.writeable = False
    return scale, offset


class LSTMKind:
    """Four gates (i, f, g, o), two states (h, c); optional projection of h (proj_size < H)."""

    mode = "LSTM"
    num_gates = 4
    state_names = ("h", "c")
    step_reads = ("gates", "c", "tc", "m", "h")  # the buffers the time loop reads or writes
    step_reads_backward = ("d_gates", "k", "gates", "gh")
    gates_in_h = False
    input_bias_in_loop = False  # the stack adds input_bias to A
    recurrent_grads_differ = False

    def __repr__(self) -> str:
        return self.mode

    @staticmethod
    def state_widths(H: int, S: int) -> tuple[int, ...]:
        return (S, H)

    @staticmethod
    def forward_buffers(H: int, S: int) -> dict:
        # c: the cell states beside their initial rows; tc = tanh(c_t); m = o * tanh(c_t) with projections.
        bufs = {"c": (H, True), "tc": (H, False)}
        if S != H:
            bufs["m"] = (H, False)
        return bufs

    @staticmethod
    def backward_buffers(H: int, S: int) -> dict:
        # k = o (1 - tanh(c)**2) for every step; gh = dL/dh_t, kept for dW_hr with projections.
        return {"k": H, "gh": S} if S != H else {"k": H}

    @staticmethod
    def input_bias(b_ih, b_hh):
        """b_ih + b_hh: both fold into the input projection."""
        if b_ih is None or b_hh is None:
            return b_hh if b_ih is None else b_ih
        return b_ih + b_hh

    @staticmethod
    def forward_constants(weights, contiguous=True):
        w_hh = weights[1]
        H = w_hh.shape[0] // 4
        assert (len(weights) == 5) == (w_hh.shape[1] != H), "proj_size must be smaller than hidden_size"
        scale, offset = _gate_scales(H, w_hh.dtype)
        # copies pay off over many steps, not one; transposed() keeps them while the weights are unchanged.
        # Else .T, a C-level view (np.transpose runs three Python frames).
        whh_t = transposed(w_hh) if contiguous else w_hh.T
        whr_t = None  # (H, P) with projections
        if len(weights) == 5:
            whr_t = transposed(weights[4]) if contiguous else weights[4].T
        return {"whh_t": whh_t, "whr_t": whr_t, "scale": scale, "offset": offset, "H": H}

    @staticmethod
    def forward_work(N, H, S, dtype):
        return {"prod": np.empty((N, 4 * H), dtype=dtype), "ig": np.empty((N, H), dtype=dtype)}

    @staticmethod
    def forward_steps(c, v, prev, reverse, work):
        """Run the LSTM over one segment: v['gates'] (T_s, b, 4H) holds the input parts on entry
        and i, f, g, o on exit; writes h_t, c_t, tanh(c_t) (and m_t) for every step."""
        H = c["H"]
        whh_t, whr_t, scale, offset = c["whh_t"], c["whr_t"], c["scale"], c["offset"]
        gates = v["gates"]
        b = gates.shape[1]
        prod, ig = work["prod"][:b], work["ig"][:b]
        matmul, multiply, add, tanh = np.matmul, np.multiply, np.add, np.tanh
        seqs = [gates, gates[..., :H], gates[..., H : 2 * H], gates[..., 2 * H : 3 * H], gates[..., 3 * H :]]
        seqs += [v["c"], v["tc"], v["h"] if whr_t is None else v["m"], v["h"]]
        if reverse:
            seqs = [s[::-1] for s in seqs]
        h_prev, c_prev = prev
        for a, i, f, g, o, c_t, tc, m, h in zip(*seqs):  # a: (b, 4H) [a_i, a_f, a_g, a_o] of one step
            matmul(h_prev, whh_t, out=prod)  # h_{t-1} W_hh^T
            add(a, prod, out=a)  # a = x_t W_ih^T + b_ih + b_hh + h_{t-1} W_hh^T
            multiply(a, scale, out=a)
            tanh(a, out=a)
            multiply(a, scale, out=a)
            add(a, offset, out=a)  # i, f, o = sigmoid(a_i, a_f, a_o); g = tanh(a_g)
            multiply(f, c_prev, out=c_t)
            multiply(i, g, out=ig)
            add(c_t, ig, out=c_t)  # c_t = f * c_{t-1} + i * g
            tanh(c_t, out=tc)
            multiply(o, tc, out=m)  # h_t = o * tanh(c_t)
            if whr_t is not None:
                matmul(m, whr_t, out=h)  # h_t = (o * tanh(c_t)) W_hr^T
            h_prev, c_prev = h, c_t

    @staticmethod
    def backward_work(N, H, S, dtype):
        work = {"tmp": np.empty((N, H), dtype=dtype)}
        if S != H:
            work["dm"] = np.empty((N, H), dtype=dtype)
        return work

    @staticmethod
    def backward_prepare(weights, v, prev):
        """For every step at once: the factors of dA that do not depend on the carries."""
        H = weights[1].shape[0] // 4
        gates, d = v["gates"], v["d_gates"]  # (R, 4H) each
        i, f, g, o = (gates[:, j * H : (j + 1) * H] for j in range(4))
        di, df, dg, do = (d[:, j * H : (j + 1) * H] for j in range(4))
        _, c_prev = prev  # (R, H)
        tc, k = v["tc"], v["k"]
        sigmoid_derivative(i, out=di)
        di *= g  # g * i (1 - i)           (times dc_t -> dA_i)
        sigmoid_derivative(f, out=df)
        df *= c_prev  # c_{t-1} * f (1 - f)   (times dc_t -> dA_f)
        tanh_derivative(g, out=dg)
        dg *= i  # i * (1 - g**2)          (times dc_t -> dA_g)
        sigmoid_derivative(o, out=do)
        do *= tc  # tanh(c_t) * o (1 - o)  (times dm -> dA_o)
        tanh_derivative(tc, out=k)
        k *= o  # o * (1 - tanh(c_t)**2)   (dc_t += dm * k)

    @staticmethod
    def backward_steps(weights, v, carries, reverse, work):
        """The carries (dh, dc) through one segment; turns v['d_gates'][t] into dA_t in place."""
        w_hh = weights[1]  # (4H, S)
        H = w_hh.shape[0] // 4
        w_hr = weights[4] if len(weights) == 5 else None  # (P, H)
        d_gates, d_out = v["d_gates"], v["d_out"]
        T_s, b = d_gates.shape[:2]
        d_ifg = d_gates[..., : 3 * H].reshape(T_s, b, 3, H)  # a view (the last axis splits in place)
        seqs = [d_gates, d_ifg, d_gates[..., 3 * H :], v["k"], v["gates"][..., H : 2 * H]]
        seqs.append(v["gh"] if w_hr is not None else [None] * T_s)
        seqs.append(d_out if d_out is not None else [None] * T_s)
        if not reverse:  # backward visits the steps in the opposite order to the direction's own
            seqs = [s[::-1] for s in seqs]
        dh, dc = carries  # (b, S), (b, H)
        tmp = work["tmp"][:b]
        dm = work["dm"][:b] if w_hr is not None else dh
        matmul, multiply, add = np.matmul, np.multiply, np.add
        dc3 = dc[:, None, :]
        for da, da_ifg, da_o, k, f, gh, dy in zip(*seqs):
            if dy is not None:
                add(dh, dy, out=dh)  # dh_t = dL/dh_t from above + from step t+1
            if w_hr is not None:
                gh[...] = dh
                matmul(dh, w_hr, out=dm)  # dm = dh_t W_hr
            multiply(dm, k, out=tmp)
            add(dc, tmp, out=dc)  # dc_t += dm * o * (1 - tanh(c_t)**2)
            multiply(da_o, dm, out=da_o)  # dA_o
            multiply(da_ifg, dc3, out=da_ifg)  # dA_i, dA_f, dA_g
            multiply(dc, f, out=dc)  # dc_{t-1} = dc_t * f
            matmul(da, w_hh, out=dh)  # dh_{t-1} = dA_t W_hh

    @staticmethod
    def extra_weight_grads(weights, v) -> tuple:
        if len(weights) != 5:
            return ()
        return (np.matmul(v["gh"].T, v["m"]),)  # (P, H) dW_hr = sum_t dh_t^T m_t


LSTM = LSTMKind()


def lstm_forward(
    x,
    h0,
    c0,
    weights,
    num_layers,
    bidirectional,
    dropout_masks=None,
    need_cache=True,
    empty=np.empty,
    batch_sizes=None,
):
    """Run a deep (bi)directional LSTM with PyTorch's equations (module docstring).

    Args:
        x: (T, N, I) input, time-major; or (T, N) integer token ids; with batch_sizes,
            packed rows (R, I) or (R,) ids.
        h0: (L*D, N, S) and c0: (L*D, N, H) initial states, or None for zeros.
        weights: L*D tuples (w_ih (4H, I_l), w_hh (4H, S), b_ih (4H,) or None, b_hh (4H,) or None),
            plus w_hr (P, H) last when proj_size P > 0 (then S = P).
        num_layers, bidirectional, dropout_masks, need_cache, empty, batch_sizes: as `recurrent_forward`.

    Returns:
        out (T, N, D*S) (packed: (R, D*S)), h_n (L*D, N, S), c_n (L*D, N, H), cache (or None).
    """
    out, (h_n, c_n), cache = recurrent_forward(
        LSTM,
        x,
        (h0, c0),
        weights,
        num_layers,
        bidirectional,
        dropout_masks=dropout_masks,
        need_cache=need_cache,
        empty=empty,
        batch_sizes=batch_sizes,
    )
    return out, h_n, c_n, cache


def lstm_backward(d_out, d_h_n, d_c_n, cache):
    """BPTT of `lstm_forward`: returns dx (None for token ids), dh0, dc0 and the L*D weight-gradient tuples."""
    dx, (dh0, dc0), dweights = recurrent_backward(d_out, (d_h_n, d_c_n), cache)
    return dx, dh0, dc0, dweights
