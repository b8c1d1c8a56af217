"""Central finite differences in float64, with no torch: the backward is the derivative of the forward."""

from __future__ import annotations

import numpy as np
import pytest
from _kernels_helpers import make_weights, naive_preactivations, rng_for

from deeprnn.kernels import rnn_backward, rnn_cell_backward, rnn_cell_forward, rnn_forward

EPS = 1e-6
KINK_MARGIN = 1e-3  # relu problems are redrawn until every pre-activation is at least this far from 0


def _fd_check(loss, analytic, arrays, label):
    """Compare analytic gradients with central differences of `loss` for every entry of `arrays`."""
    for name, arr, grad in zip(label, arrays, analytic):
        num = np.empty_like(arr)
        for idx in np.ndindex(arr.shape):
            keep = arr[idx]
            arr[idx] = keep + EPS
            up = loss()
            arr[idx] = keep - EPS
            down = loss()
            arr[idx] = keep
            num[idx] = (up - down) / (2 * EPS)
        scale = max(1.0, float(np.abs(num).max(initial=0.0)))
        np.testing.assert_allclose(grad, num, rtol=1e-6, atol=1e-6 * scale, err_msg=name)


def _draw_stack(key, T, N, I, H, L, D, nl, with_masks):
    rng = rng_for(*key)
    for _ in range(100):
        weights = make_weights(rng, I, H, L, D, True, np.float64, scale=0.8)
        x = rng.standard_normal((T, N, I))
        h0 = rng.standard_normal((L * D, N, H))
        masks = [(rng.random((T, N, D * H)) >= 0.3) / 0.7 for _ in range(L - 1)] if with_masks else None
        pre = naive_preactivations(x, h0, weights, nl, L, D, masks)
        if nl == "tanh" or np.abs(pre).min() > KINK_MARGIN:
            return rng, weights, x, h0, masks
    raise AssertionError("could not draw a relu problem away from the kink")


@pytest.mark.parametrize("nl", ["tanh", "relu"])
@pytest.mark.parametrize("L,bi,with_masks", [(1, False, False), (2, True, False), (3, False, True), (2, True, True)])
def test_stack_gradients_match_finite_differences(L, bi, with_masks, nl):
    T, N, I, H = 4, 2, 3, 3
    D = 2 if bi else 1
    rng, weights, x, h0, masks = _draw_stack(("fd", L, bi, with_masks, nl), T, N, I, H, L, D, nl, with_masks)
    r_out = rng.standard_normal((T, N, D * H))
    r_hn = rng.standard_normal((L * D, N, H))

    def loss():
        out, h_n, _ = rnn_forward(x, h0, weights, nl, L, bi, dropout_masks=masks, need_cache=False)
        return float(np.sum(out * r_out) + np.sum(h_n * r_hn))

    _, _, cache = rnn_forward(x, h0, weights, nl, L, bi, dropout_masks=masks)
    dx, dh0, dweights = rnn_backward(r_out, r_hn, cache)
    arrays, grads, labels = [x, h0], [dx, dh0], ["dx", "dh0"]
    for k, (w, g) in enumerate(zip(weights, dweights)):
        for name, a, b in zip(("dw_ih", "dw_hh", "db_ih", "db_hh"), w, g):
            arrays.append(a)
            grads.append(b)
            labels.append(f"{name}[{k}]")
    _fd_check(loss, grads, arrays, labels)


@pytest.mark.parametrize("nl", ["tanh", "relu"])
@pytest.mark.parametrize("bias", [True, False])
def test_cell_gradients_match_finite_differences(nl, bias):
    rng = rng_for("fd-cell", nl, bias)
    N, I, H = 3, 4, 5
    for _ in range(100):
        ((w_ih, w_hh, b_ih, b_hh),) = make_weights(rng, I, H, 1, 1, bias, np.float64, scale=0.8)
        x = rng.standard_normal((N, I))
        h = rng.standard_normal((N, H))
        a = x @ w_ih.T + h @ w_hh.T + ((b_ih + b_hh) if bias else 0.0)
        if nl == "tanh" or np.abs(a).min() > KINK_MARGIN:
            break
    g = rng.standard_normal((N, H))

    def loss():
        return float(np.sum(rnn_cell_forward(x, h, w_ih, w_hh, b_ih, b_hh, nl)[0] * g))

    _, cache = rnn_cell_forward(x, h, w_ih, w_hh, b_ih, b_hh, nl)
    dx, dh, dw_ih, dw_hh, db_ih, db_hh = rnn_cell_backward(g, cache)
    arrays, grads = [x, h, w_ih, w_hh], [dx, dh, dw_ih, dw_hh]
    if bias:
        arrays += [b_ih, b_hh]
        grads += [db_ih, db_hh]
    _fd_check(loss, grads, arrays, ["dx", "dh", "dw_ih", "dw_hh", "db_ih", "db_hh"])


# ---- every kind through the shared stack: LSTM (with and without projections), GRU, packed batches ----
KIND_CASES = [
    # (mode, proj, L, bidirectional, dropout masks, batch_sizes or None)
    ("LSTM", 0, 1, False, False, None),
    ("LSTM", 0, 2, True, True, None),
    ("LSTM", 2, 2, True, False, None),
    ("LSTM", 2, 1, False, False, [3, 2, 2, 1]),
    ("LSTM", 0, 2, True, True, [3, 3, 1, 1]),
    ("GRU", 0, 1, False, False, None),
    ("GRU", 0, 2, True, True, None),
    ("GRU", 0, 3, False, False, None),
    ("GRU", 0, 2, True, False, [3, 2, 2, 1]),
    ("RNN_TANH", 0, 2, True, True, [3, 2, 1, 1]),
]


@pytest.mark.parametrize("mode,proj,L,bi,with_masks,batch_sizes", KIND_CASES)
def test_every_kind_matches_finite_differences(mode, proj, L, bi, with_masks, batch_sizes):
    """dx, every initial state and every weight of recurrent_backward against central differences."""
    from _kernels_helpers import make_kind_weights

    from deeprnn.kernels import KINDS, recurrent_backward, recurrent_forward

    kind = KINDS[mode]
    rng = rng_for("fd-kind", mode, proj, L, bi, with_masks, batch_sizes)
    T, N, I, H = 4, 3, 3, 3
    D = 2 if bi else 1
    S = proj or H
    weights = make_kind_weights(rng, mode, I, H, L, D, True, np.float64, proj=proj, scale=0.8)
    R = T * N if batch_sizes is None else sum(batch_sizes)
    x = rng.standard_normal((T, N, I) if batch_sizes is None else (R, I))
    widths = kind.state_widths(H, S)
    state0 = tuple(rng.standard_normal((L * D, N, w)) for w in widths)
    out_shape = (T, N, D * S) if batch_sizes is None else (R, D * S)
    masks = [(rng.random(out_shape) >= 0.3) / 0.7 for _ in range(L - 1)] if with_masks else None
    bs = None if batch_sizes is None else np.array(batch_sizes)
    r_out = rng.standard_normal(out_shape)
    r_n = [rng.standard_normal(s.shape) for s in state0]

    def loss():
        out, state_n, _ = recurrent_forward(kind, x, state0, weights, L, bi, masks, need_cache=False, batch_sizes=bs)
        return float(np.sum(out * r_out) + sum(np.sum(s * r) for s, r in zip(state_n, r_n)))

    _, _, cache = recurrent_forward(kind, x, state0, weights, L, bi, masks, batch_sizes=bs)
    dx, d_state0, dweights = recurrent_backward(r_out, tuple(r_n), cache)
    arrays, grads, labels = [x, *state0], [dx, *d_state0], ["dx"] + [f"d state0[{i}]" for i in range(len(state0))]
    names = ("dw_ih", "dw_hh", "db_ih", "db_hh", "dw_hr")
    for k, (w, g) in enumerate(zip(weights, dweights)):
        assert len(g) == len(w)
        for name, a, b in zip(names, w, g):
            arrays.append(a)
            grads.append(b)
            labels.append(f"{name}[{k}]")
    _fd_check(loss, grads, arrays, labels)


@pytest.mark.parametrize("mode", ["LSTM", "GRU"])
@pytest.mark.parametrize("bias", [True, False])
def test_lstm_gru_cells_match_finite_differences(mode, bias):
    from _kernels_helpers import make_kind_weights

    from deeprnn.kernels import gru_cell_backward, gru_cell_forward, lstm_cell_backward, lstm_cell_forward

    rng = rng_for("fd-cell-kind", mode, bias)
    N, I, H = 3, 4, 5
    ((w_ih, w_hh, b_ih, b_hh),) = make_kind_weights(rng, mode, I, H, 1, 1, bias, np.float64, scale=0.8)
    x = rng.standard_normal((N, I))
    h = rng.standard_normal((N, H))
    c = rng.standard_normal((N, H))
    gh, gc = rng.standard_normal((N, H)), rng.standard_normal((N, H))
    if mode == "LSTM":

        def loss():
            h2, c2, _ = lstm_cell_forward(x, h, c, w_ih, w_hh, b_ih, b_hh)
            return float(np.sum(h2 * gh) + np.sum(c2 * gc))

        _, _, cache = lstm_cell_forward(x, h, c, w_ih, w_hh, b_ih, b_hh)
        dx, dh, dc, dw_ih, dw_hh, db_ih, db_hh = lstm_cell_backward(gh, gc, cache)
        arrays, grads = [x, h, c, w_ih, w_hh], [dx, dh, dc, dw_ih, dw_hh]
    else:

        def loss():
            return float(np.sum(gru_cell_forward(x, h, w_ih, w_hh, b_ih, b_hh)[0] * gh))

        _, cache = gru_cell_forward(x, h, w_ih, w_hh, b_ih, b_hh)
        dx, dh, dw_ih, dw_hh, db_ih, db_hh = gru_cell_backward(gh, cache)
        arrays, grads = [x, h, w_ih, w_hh], [dx, dh, dw_ih, dw_hh]
    if bias:
        arrays += [b_ih, b_hh]
        grads += [db_ih, db_hh]
    else:
        assert db_ih is None and db_hh is None
    _fd_check(loss, grads, arrays, [f"grad {i}" for i in range(len(arrays))])
