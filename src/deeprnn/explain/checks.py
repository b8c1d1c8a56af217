"""The numbers the trace must agree with: the real nn.RNN's forward pass and its gradients.

`run_module` calls the module (the fused kernels behind one autograd node) on the same
input, h0 and weights; the comparisons return the largest absolute differences.
`relations` states and verifies how output and h_n relate for every layer and direction.
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
]


def _from_time_major(a: np.ndarray, problem: Problem) -> np.ndarray:
    """(T, N, F) -> the module's layout."""
    if not problem.batched:
        return a[:, 0, :]
    return a.transpose(1, 0, 2) if problem.model.batch_first else a


@dataclass
class ModuleRun:
    """What nn.RNN itself returns (module layout) and, after backward, its gradients."""

    output: np.ndarray
    h_n: np.ndarray
    grads: dict[str, np.ndarray] = field(default_factory=dict)
    d_input: np.ndarray | None = None
    d_h0: np.ndarray | None = None


def run_module(problem: Problem, loss: str | None = None) -> ModuleRun:
    """Forward with nn.RNN and, for a named loss (see bptt.py), its backward through autograd.

    The module validates the input and h0 first, so a bad shape raises the module's own error:
    call this before tracing.
    """
    model = problem.model
    seed = None
    model.zero_grad()
    x = tensor(problem.input, requires_grad=loss is not None)
    hx = None if problem.h0 is None else tensor(problem.h0, requires_grad=loss is not None)
    out, h_n = model(x, hx)
    run = ModuleRun(out._data.copy(), h_n._data.copy())
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
    return run


@dataclass
class Check:
    """One comparison: what against what, and the largest absolute difference."""

    what: str
    diff: float
    tol: float = 1e-10

    @property
    def ok(self) -> bool:
        return bool(self.diff <= self.tol)


def _maxdiff(a: np.ndarray, b: np.ndarray) -> float:
    assert a.shape == b.shape, (a.shape, b.shape)
    return float(np.max(np.abs(a - b))) if a.size else 0.0


def forward_checks(trace: ForwardTrace, problem: Problem, run: ModuleRun) -> list[Check]:
    """The trace's output and h_n against the module's."""
    hn = trace.h_n if problem.batched else trace.h_n[:, 0, :]
    return [
        Check("output", _maxdiff(_from_time_major(trace.output, problem), run.output)),
        Check("h_n", _maxdiff(hn, run.h_n)),
    ]


@dataclass
class Relation:
    """h_n[k] equals a slice of some layer's output; `where` says which (module's indexing)."""

    layer: int
    direction: int
    k: int
    where: str  # e.g. 'output[-1, :, :5]'
    in_output: bool  # True: the slice is part of the returned output (last layer)
    diff: float


def relations(trace: ForwardTrace, problem: Problem, run: ModuleRun) -> list[Relation]:
    """For every layer-direction, where its final state h_n[k] appears, verified numerically.

    forward:  h_n[k] = that layer's h at the last time step  (output[-1] for the last layer)
    reverse:  h_n[k] = that layer's h at the first time step (output[0], second half)
    """
    H = problem.model.hidden_size
    D = problem.num_dirs
    L = problem.model.num_layers
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
            rels.append(Relation(layer, d, k, where, in_out, _maxdiff(sl, hn_k)))
    return rels


def backward_checks(bt: BackwardTrace, problem: Problem, run: ModuleRun) -> list[Check]:
    """Every gradient of the backward trace against the module's autograd gradients."""
    checks = []
    names = problem.model._flat_weights_names
    per = 4 if problem.model.bias else 2
    for k, grads in enumerate(bt.grads):
        for name, g in zip(names[k * per : (k + 1) * per], grads[:per]):
            checks.append(Check(f"d{name}", _maxdiff(g, run.grads[name])))
    checks.append(Check("d_input", _maxdiff(_from_time_major(bt.dx, problem), run.d_input)))
    if run.d_h0 is not None:
        dh0 = bt.dh0 if problem.batched else bt.dh0[:, 0, :]
        checks.append(Check("d_h0", _maxdiff(dh0, run.d_h0)))
    return checks
