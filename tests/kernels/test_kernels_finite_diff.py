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
