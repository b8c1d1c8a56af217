"""A randomised differential test of nn.RNN, nn.LSTM and nn.GRU against torch, 200 configurations per kind.

Each configuration is drawn from a fixed seed: num_layers 1-4, bidirectional, batch_first, bias,
tanh/relu (RNN), proj_size (LSTM), eval-mode dropout, batched or unbatched input, initial
states given or not, batch 0-8, sequence length 1-6, input and hidden sizes 1-6.  The weights,
inputs and upstream gradients are float32 numbers, so that both dtypes see the same problem:

    float64: deeprnn against torch float64, at 1e-10 (oracle.assert_close);
    float32: deeprnn against the float64 answer, by the oracle's one rule for ill-conditioned
             float32 cases (oracle.assert_problem_close_to_exact), since random tiny hidden
             sizes and deep stacks are exactly those cases.

Forward (output and every final state) and every gradient (input, initial states, parameters).
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

import deeprnn
from oracle import assert_close, assert_problem_close_to_exact

PER_KIND = 200
SEED = 20261201


def _draw(kind: str, rng: np.random.Generator) -> dict:
    H = int(rng.integers(1, 7))
    cfg = {
        "kind": kind,
        "L": int(rng.integers(1, 5)),
        "bi": bool(rng.integers(2)),
        "bf": bool(rng.integers(2)),
        "bias": bool(rng.integers(2)),
        "batched": bool(rng.random() < 0.8),
        "given": bool(rng.integers(2)),
        "N": int(rng.integers(0, 9)),
        "T": int(rng.integers(1, 7)),
        "I": int(rng.integers(1, 7)),
        "H": H,
        "dropout": float(rng.choice([0.0, 0.3, 0.9])),
        "nl": str(rng.choice(["tanh", "relu"])) if kind == "RNN" else None,
        "proj": int(rng.integers(1, H)) if (kind == "LSTM" and H > 1 and rng.random() < 0.4) else 0,
        "seed": int(rng.integers(2**31)),
    }
    if not cfg["batched"]:
        cfg["N"] = 1
    return cfg


def _configs() -> list[dict]:
    rng = np.random.default_rng(SEED)
    return [_draw(kind, rng) for kind in ("RNN", "LSTM", "GRU") for _ in range(PER_KIND)]


CONFIGS = _configs()


def _id(c: dict) -> str:
    extra = f"-{c['nl']}" if c["nl"] else (f"-proj{c['proj']}" if c["proj"] else "")
    return (
        f"{c['kind']}{extra}-L{c['L']}{'-bi' if c['bi'] else ''}{'-bf' if c['bf'] else ''}"
        f"{'' if c['bias'] else '-nobias'}{'' if c['batched'] else '-unbatched'}{'-h0' if c['given'] else ''}"
        f"-N{c['N']}-T{c['T']}-I{c['I']}-H{c['H']}-p{c['dropout']}"
    )


def _kwargs(c: dict) -> dict:
    kw = dict(num_layers=c["L"], bias=c["bias"], batch_first=c["bf"], dropout=c["dropout"], bidirectional=c["bi"])
    if c["nl"]:
        kw["nonlinearity"] = c["nl"]
    if c["proj"]:
        kw["proj_size"] = c["proj"]
    return kw


def _run(lib, module, c: dict, x, states, r_out, r_states):
    """Output, final states and every gradient of sum(out * r_out) + sum(state_n * r_state)."""
    xt = lib.tensor(x, requires_grad=True)
    st = [lib.tensor(s, requires_grad=True) for s in states] if c["given"] else []
    hx = None if not c["given"] else (tuple(st) if c["kind"] == "LSTM" else st[0])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch's oneDNN notice for projections
        out, final = module(xt, hx)
    final = list(final) if c["kind"] == "LSTM" else [final]
    loss = (out * lib.tensor(r_out)).sum()
    for f, r in zip(final, r_states):
        loss = loss + (f * lib.tensor(r)).sum()
    loss.backward()
    grads = [xt.grad] + [s.grad for s in st] + [p.grad for p in module.parameters()]
    return [out, *final, *grads]


@pytest.mark.parametrize("c", CONFIGS, ids=[_id(c) for c in CONFIGS])
def test_random_configuration_matches_torch(c: dict) -> None:
    torch.manual_seed(c["seed"])
    rng = np.random.default_rng(c["seed"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # dropout with one layer: torch's (and deeprnn's) UserWarning
        ref32 = getattr(torch.nn, c["kind"])(c["I"], c["H"], **_kwargs(c))
        ref64 = getattr(torch.nn, c["kind"])(c["I"], c["H"], dtype=torch.float64, **_kwargs(c))
        ours32 = getattr(deeprnn.nn, c["kind"])(c["I"], c["H"], **_kwargs(c))
        ours64 = getattr(deeprnn.nn, c["kind"])(c["I"], c["H"], dtype=np.float64, **_kwargs(c))
    state = ref32.state_dict()  # float32 weights; the float64 modules hold the same numbers
    for m in (ref64, ours32, ours64):
        m.load_state_dict(state)
    for m in (ref32, ref64, ours32, ours64):
        m.eval()  # dropout between layers is off in eval mode, in both libraries
    T, N, I, H, L = c["T"], c["N"], c["I"], c["H"], c["L"]
    D = 2 if c["bi"] else 1
    S = c["proj"] or H
    x_shape = ((N, T, I) if c["bf"] else (T, N, I)) if c["batched"] else (T, I)
    state_shapes = [(L * D, N, S)] + ([(L * D, N, H)] if c["kind"] == "LSTM" else [])
    if not c["batched"]:
        state_shapes = [(a, b) for a, _, b in state_shapes]
    out_shape = ((N, T, D * S) if c["bf"] else (T, N, D * S)) if c["batched"] else (T, D * S)
    f32 = np.float32
    x = rng.standard_normal(x_shape).astype(f32)
    states = [rng.standard_normal(s).astype(f32) for s in state_shapes]
    r_out = rng.standard_normal(out_shape).astype(f32)
    r_states = [rng.standard_normal(s).astype(f32) for s in state_shapes]
    f64 = [a.astype(np.float64) for a in (x, *states, r_out, *r_states)]
    k = len(states)
    x64, states64, r_out64, r_states64 = f64[0], f64[1 : 1 + k], f64[1 + k], f64[2 + k :]

    t32 = _run(torch, ref32, c, x, states, r_out, r_states)
    t64 = _run(torch, ref64, c, x64, states64, r_out64, r_states64)
    d32 = _run(deeprnn, ours32, c, x, states, r_out, r_states)
    d64 = _run(deeprnn, ours64, c, x64, states64, r_out64, r_states64)
    names = ["output", "h_n", "c_n"][: 1 + k] + ["d input"] + [f"d state{i}" for i in range(k if c["given"] else 0)]
    names += [f"d {n}" for n, _ in ours64.named_parameters()]
    assert len(names) == len(t64) == len(d64)
    for name, a, b in zip(names, d64, t64):
        assert_close(a, b, np.float64, name)
    assert_problem_close_to_exact(d32, t32, t64, names)
