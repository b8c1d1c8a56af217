"""The numbers the trace must agree with: the real module's (nn.RNN, nn.LSTM or nn.GRU)
forward pass and its gradients.

`run_module` calls the module (the fused kernels behind one autograd node) on the same
input, h0 and weights; the comparisons return the largest absolute differences.
`relations` states and verifies how output and h_n relate for every layer and direction.

Tolerance.  The trace and the module compute the same float64 numbers in different orders
(the trace one step at a time, the kernels with one GEMM over all steps), so they agree to
rounding, not bit for bit.  Each checked entry is a sum of n rounded terms, and a sum of n
terms computed in floating point is off by at most about n * eps * sum|terms| (Higham,
*Accuracy and Stability of Numerical Algorithms*, 2nd ed., section 4.2; eps = 2.2e-16).  So
`tolerance` allows n * eps * max|reference|, the reference's largest entry standing for the
size of its terms, and never less than 1e-10, the absolute tolerance of small reports:

    weight and bias gradients   n = T * N        one term per time step and sample
    output, h_n, c_n, d_input,  n = T * (F + H)   T steps of dot products of F + H terms
    d_h0, d_c0
                                                  (F = the widest layer input: H_in or D*H)

A sum of 32,000 terms of size 1e4 (T = 500, N = 64) may so differ by 7e-8, where a wrong
gradient differs by a fraction of its size.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..autograd.creation import tensor
from .bptt import BackwardTrace, loss_seed
from .problem import Problem
from .trace import ForwardTrace

__all__ = [
    "ModuleRun",
    "run_module",
    "Relation",
    "relations",
    "Check",
    "forward_checks",
    "backward_checks",
    "tolerance",
    "FLOOR",
]

FLOOR = 1e-10
_EPS = float(np.finfo(np.float64).eps)


def tolerance(reference: np.ndarray, terms: int) -> float:
    """The largest difference allowed between two float64 computations of ``reference``,
    each entry a sum of ``terms`` terms (see the module docstring)."""
    scale = float(np.max(np.abs(reference))) if reference.size else 0.0
    return max(FLOOR, terms * _EPS * scale)


def _terms(problem: Problem) -> tuple[int, int]:
    """(terms of a weight-gradient entry, terms of an output or input-gradient entry)."""
    T, N = problem.sizes
    H = problem.model.hidden_size
    F = max(problem.model.input_size, problem.num_dirs * H)
    return T * N, T * (F + H)


def _from_time_major(a: np.ndarray, problem: Problem) -> np.ndarray:
    """(T, N, F) -> the module's layout."""
    if not problem.batched:
        return a[:, 0, :]
    return a.transpose(1, 0, 2) if problem.model.batch_first else a


@dataclass
class ModuleRun:
    """What the module itself returns (module layout) and, after backward, its gradients."""

    output: np.ndarray
    h_n: np.ndarray
    grads: dict[str, np.ndarray] = field(default_factory=dict)
    d_input: np.ndarray | None = None
    d_h0: np.ndarray | None = None
    c_n: np.ndarray | None = None  # LSTM only
    d_c0: np.ndarray | None = None  # LSTM only, when c0 was given


def run_module(problem: Problem, loss: str | None = None) -> ModuleRun:
    """Forward with the module and, for a named loss (see bptt.py), its backward through autograd.

    The module validates the input and h0 first, so a bad shape raises the module's own error:
    call this before tracing.
    """
    model = problem.model
    seed = None
    model.zero_grad()
    x = tensor(problem.input, requires_grad=loss is not None)
    grad = loss is not None
    hx = None if problem.h0 is None else tensor(problem.h0, requires_grad=grad)
    cx = None if problem.c0 is None else tensor(problem.c0, requires_grad=grad)
    if problem.kind == "lstm":
        out, (h_n, c_n) = model(x, None if hx is None else (hx, cx))
    else:
        out, h_n = model(x, hx)
        c_n = None
    run = ModuleRun(out._data.copy(), h_n._data.copy(), c_n=None if c_n is None else c_n._data.copy())
    if loss is not None:
        tm = out._data if problem.batched and not model.batch_first else None
        if tm is None:
            tm = out._data[:, None, :] if not problem.batched else out._data.transpose(1, 0, 2)
        seed = loss_seed(loss, *tm.shape)  # (T, N, D*H) dL/d(output), time-major
        total = (out * tensor(_from_time_major(seed, problem))).sum()
        total.backward()
        run.grads = {name: p.grad._data.copy() for name, p in model.named_parameters()}
        run.d_input = x.grad._data.copy()
        run.d_h0 = None if hx is None else hx.grad._data.copy()
        run.d_c0 = None if cx is None else cx.grad._data.copy()
    return run


@dataclass
class Check:
    """One comparison: what against what, and the largest absolute difference."""

    what: str
    diff: float
    tol: float = FLOOR

    @property
    def ok(self) -> bool:
        return bool(self.diff <= self.tol)


def _maxdiff(a: np.ndarray, b: np.ndarray) -> float:
    assert a.shape == b.shape, (a.shape, b.shape)
    return float(np.max(np.abs(a - b))) if a.size else 0.0


def forward_checks(trace: ForwardTrace, problem: Problem, run: ModuleRun) -> list[Check]:
    """The trace's output and h_n (and the LSTM's c_n) against the module's."""
    hn = trace.h_n if problem.batched else trace.h_n[:, 0, :]
    n = _terms(problem)[1]
    checks = [
        Check("output", _maxdiff(_from_time_major(trace.output, problem), run.output), tolerance(run.output, n)),
        Check("h_n", _maxdiff(hn, run.h_n), tolerance(run.h_n, n)),
    ]
    if run.c_n is not None:
        c_n = trace.c_n if problem.batched else trace.c_n[:, 0, :]
        checks.append(Check("c_n", _maxdiff(c_n, run.c_n), tolerance(run.c_n, n)))
    return checks


@dataclass
class Relation:
    """h_n[k] equals a slice of some layer's output; `where` says which (module's indexing)."""

    layer: int
    direction: int
    k: int
    where: str  # e.g. 'output[-1, :, :5]'
    in_output: bool  # True: the slice is part of the returned output (last layer)
    diff: float
    tol: float = FLOOR

    @property
    def ok(self) -> bool:
        return bool(self.diff <= self.tol)


def relations(trace: ForwardTrace, problem: Problem, run: ModuleRun) -> list[Relation]:
    """For every layer-direction, where its final state h_n[k] appears, verified numerically.

    forward:  h_n[k] = that layer's h at the last time step  (output[-1] for the last layer)
    reverse:  h_n[k] = that layer's h at the first time step (output[0], second half)
    """
    H = problem.model.hidden_size
    D = problem.num_dirs
    L = problem.model.num_layers
    n = _terms(problem)[1]
    rels = []
    for layer in range(L):
        for d in range(D):
            k = layer * D + d
            i = -1 if d == 0 else 0
            cols = f"{d * H}:{(d + 1) * H}" if D == 2 else ""
            if not problem.batched:
                idx = f"[{i}, {cols}]" if cols else f"[{i}]"
            elif problem.model.batch_first:
                idx = f"[:, {i}, {cols}]" if cols else f"[:, {i}]"
            else:
                idx = f"[{i}, :, {cols}]" if cols else f"[{i}]"
            hn_k = run.h_n[k]
            if layer == L - 1:
                y = run.output  # the module's own output: the claim is about what it returns
                where, in_out = "output" + idx, True
            else:
                y = _from_time_major(trace.layer_outputs[layer], problem)
                where, in_out = f"layer{layer}_output" + idx, False
            if not problem.batched:
                sl = y[i, d * H : (d + 1) * H]
            elif problem.model.batch_first:
                sl = y[:, i, d * H : (d + 1) * H]
            else:
                sl = y[i, :, d * H : (d + 1) * H]
            rels.append(Relation(layer, d, k, where, in_out, _maxdiff(sl, hn_k), tolerance(hn_k, n)))
    return rels


def backward_checks(bt: BackwardTrace, problem: Problem, run: ModuleRun) -> list[Check]:
    """Every gradient of the backward trace against the module's autograd gradients."""
    checks = []
    names = problem.model._flat_weights_names
    per = 4 if problem.model.bias else 2
    n_weight, n_input = _terms(problem)
    for k, grads in enumerate(bt.grads):
        for name, g in zip(names[k * per : (k + 1) * per], grads[:per]):
            ref = run.grads[name]
            checks.append(Check(f"d{name}", _maxdiff(g, ref), tolerance(ref, n_weight)))
    dx = _from_time_major(bt.dx, problem)
    checks.append(Check("d_input", _maxdiff(dx, run.d_input), tolerance(run.d_input, n_input)))
    if run.d_h0 is not None:
        dh0 = bt.dh0 if problem.batched else bt.dh0[:, 0, :]
        checks.append(Check("d_h0", _maxdiff(dh0, run.d_h0), tolerance(run.d_h0, n_input)))
    if run.d_c0 is not None:
        dc0 = bt.dc0 if problem.batched else bt.dc0[:, 0, :]
        checks.append(Check("d_c0", _maxdiff(dc0, run.d_c0), tolerance(run.d_c0, n_input)))
    return checks
