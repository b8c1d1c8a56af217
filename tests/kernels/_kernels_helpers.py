"""Shared helpers for the kernel tests: random problems and a torch oracle.

Imported by the test modules of this folder (pytest puts the folder on sys.path);
the name is unique across the test tree so it cannot clash with other folders'.
"""

from __future__ import annotations

import zlib

import numpy as np

from oracle import assert_close  # noqa: F401  re-exported: every parity test uses the one oracle


def rng_for(*key) -> np.random.Generator:
    """A generator seeded from the test's parameters, stable across runs and processes."""
    return np.random.default_rng(zlib.crc32(repr(key).encode()))


def make_weights(rng, input_size, hidden, num_layers, num_dirs, bias, dtype, scale=None):
    """L*D tuples (w_ih, w_hh, b_ih, b_hh) in PyTorch's order, drawn like nn.RNN's init."""
    k = 1.0 / np.sqrt(hidden) if scale is None else scale
    weights = []
    for layer in range(num_layers):
        in_l = input_size if layer == 0 else num_dirs * hidden
        for _ in range(num_dirs):
            w_ih = rng.uniform(-k, k, (hidden, in_l)).astype(dtype)
            w_hh = rng.uniform(-k, k, (hidden, hidden)).astype(dtype)
            b_ih = rng.uniform(-k, k, hidden).astype(dtype) if bias else None
            b_hh = rng.uniform(-k, k, hidden).astype(dtype) if bias else None
            weights.append((w_ih, w_hh, b_ih, b_hh))
    return weights


def make_kind_weights(rng, mode, input_size, hidden, num_layers, num_dirs, bias, dtype, proj=0, scale=None):
    """L*D kernel weight tuples for a torch mode ('RNN_TANH', 'LSTM', 'GRU', ...), drawn like torch's init.

    LSTM with proj > 0 gets w_hr (proj, hidden) last and h of proj features.
    """
    gates = {"LSTM": 4, "GRU": 3}.get(mode, 1)
    k = 1.0 / np.sqrt(hidden) if scale is None else scale
    S = proj or hidden
    weights = []
    for layer in range(num_layers):
        in_l = input_size if layer == 0 else num_dirs * S
        for _ in range(num_dirs):
            w = [
                rng.uniform(-k, k, (gates * hidden, in_l)).astype(dtype),
                rng.uniform(-k, k, (gates * hidden, S)).astype(dtype),
                rng.uniform(-k, k, gates * hidden).astype(dtype) if bias else None,
                rng.uniform(-k, k, gates * hidden).astype(dtype) if bias else None,
            ]
            if proj:
                w.append(rng.uniform(-k, k, (proj, hidden)).astype(dtype))
            weights.append(tuple(w))
    return weights


def torch_module_for(mode, input_size, hidden, num_layers, num_dirs, bias, dtype, proj=0):
    """The torch module of a mode holding nothing yet (fill it with `load_kernel_weights`)."""
    import warnings

    import torch

    tdt = torch.float64 if np.dtype(dtype) == np.float64 else torch.float32
    kw = dict(bias=bias, bidirectional=num_dirs == 2, dtype=tdt)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "LSTM with projections is not supported with oneDNN"
        if mode == "LSTM":
            return torch.nn.LSTM(input_size, hidden, num_layers, proj_size=proj, **kw)
        if mode == "GRU":
            return torch.nn.GRU(input_size, hidden, num_layers, **kw)
        return torch.nn.RNN(input_size, hidden, num_layers, nonlinearity=mode[4:].lower(), **kw)


def load_kernel_weights(module, weights):
    """Copy kernel weight tuples into a torch module, in its parameters' order."""
    import torch

    flat = [w for group in weights for w in group if w is not None]
    params = list(module.parameters())
    assert len(flat) == len(params)
    with torch.no_grad():
        for p, w in zip(params, flat):
            p.copy_(torch.from_numpy(w))


def kernel_grads_of(module, weights):
    """The torch module's parameter gradients as NumPy, in the layout of the kernels' dweights."""
    grads = iter([p.grad.numpy() for p in module.parameters()])
    return [tuple(None if w is None else next(grads) for w in group) for group in weights]


def torch_param_names(num_layers, num_dirs):
    """nn.RNN's parameter name suffixes in the order of the kernels' `weights` list."""
    names = []
    for layer in range(num_layers):
        for d in range(num_dirs):
            names.append(f"l{layer}" + ("_reverse" if d == 1 else ""))
    return names


def load_into_torch_rnn(rnn, weights, num_layers, num_dirs):
    """Copy kernel weights into a torch nn.RNN (or a single-layer one) in place."""
    import torch

    with torch.no_grad():
        for (w_ih, w_hh, b_ih, b_hh), suffix in zip(weights, torch_param_names(num_layers, num_dirs)):
            getattr(rnn, "weight_ih_" + suffix).copy_(torch.from_numpy(w_ih))
            getattr(rnn, "weight_hh_" + suffix).copy_(torch.from_numpy(w_hh))
            if b_ih is not None:
                getattr(rnn, "bias_ih_" + suffix).copy_(torch.from_numpy(b_ih))
                getattr(rnn, "bias_hh_" + suffix).copy_(torch.from_numpy(b_hh))


def torch_grads_of(rnn, num_layers, num_dirs, bias):
    """The .grad of every parameter as NumPy, in the layout of the kernels' dweights."""
    out = []
    for suffix in torch_param_names(num_layers, num_dirs):
        g = [getattr(rnn, "weight_ih_" + suffix).grad, getattr(rnn, "weight_hh_" + suffix).grad]
        if bias:
            g += [getattr(rnn, "bias_ih_" + suffix).grad, getattr(rnn, "bias_hh_" + suffix).grad]
        else:
            g += [None, None]
        out.append(tuple(None if t is None else t.numpy() for t in g))
    return out


def naive_preactivations(x, h0, weights, nonlinearity, num_layers, num_dirs, masks=None):
    """Every pre-activation a_t of a plain per-step NumPy loop (for keeping FD away from relu's kink)."""
    act = np.tanh if nonlinearity == "tanh" else (lambda a: np.maximum(a, 0.0))
    T = x.shape[0]
    layer_in = x
    pre = []
    for layer in range(num_layers):
        outs = []
        for d in range(num_dirs):
            w_ih, w_hh, b_ih, b_hh = weights[layer * num_dirs + d]
            h = h0[layer * num_dirs + d]
            seq = [None] * T
            for t in range(T - 1, -1, -1) if d == 1 else range(T):
                a = layer_in[t] @ w_ih.T + h @ w_hh.T
                if b_ih is not None:
                    a = a + b_ih + b_hh
                pre.append(a)
                h = act(a)
                seq[t] = h
            outs.append(np.stack(seq))
        layer_out = np.concatenate(outs, axis=2)
        layer_in = layer_out * masks[layer] if (masks is not None and layer < num_layers - 1) else layer_out
    return np.concatenate([p.ravel() for p in pre])


def module_values_and_grads(m, lib, x, states, seeds):
    """Run module m of library lib (torch or deeprnn) on x from the initial states, under a random-weighted loss
    (seeds: one array like the output, then one like each final state): the output and final states, and the
    gradients of x, of each initial state and of every parameter."""
    xt = lib.tensor(x, requires_grad=True)
    st = [lib.tensor(s, requires_grad=True) for s in states]
    out, final = m(xt, tuple(st) if len(st) == 2 else st[0])
    final = list(final) if isinstance(final, tuple) else [final]
    loss = (out * lib.tensor(seeds[0])).sum()
    for f, r in zip(final, seeds[1:]):
        loss = loss + (f * lib.tensor(r)).sum()
    loss.backward()
    grads = [xt.grad] + [s.grad for s in st] + [p.grad for _, p in m.named_parameters()]
    return [out, *final], grads


def count_calls(monkeypatch, modules, name):
    """Wrap the function `name` of each module (once per module) in a counter: returns {module name: calls}."""
    calls = {}
    for module in {m.__name__: m for m in modules}.values():
        original = getattr(module, name)

        def counted(*args, _original=original, _name=module.__name__):
            calls[_name] = calls.get(_name, 0) + 1
            return _original(*args)

        monkeypatch.setattr(module, name, counted)
    return calls
