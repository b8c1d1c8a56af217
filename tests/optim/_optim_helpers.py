"""Shared helpers of the optimiser tests: one trajectory run identically in deeprnn and torch.

``run_trajectory(lib, ...)`` creates parameters from the same initial arrays, and at each
step sets every gradient (but the last parameter's, which stays None so that skipping is
tested) from the same deterministic, non-linear function of the current parameter values,
then calls ``optimizer.step()``. Both libraries therefore see identical gradient sequences
as long as their updates agree.
"""

from __future__ import annotations

import io
import json
import zlib
from typing import Any

import numpy as np
import torch

import deeprnn

SHAPES = [(4, 3), (4,), (2, 2, 2), (3,)]


def rng_for(*key: Any) -> np.random.Generator:
    return np.random.default_rng(zlib.crc32(repr(key).encode()))


def initial_arrays(dtype: Any, key: Any = 0) -> list[np.ndarray]:
    rng = rng_for("init", key)
    return [rng.standard_normal(s).astype(dtype) for s in SHAPES]


def gradient(p: np.ndarray, k: int, i: int) -> np.ndarray:
    """dL/dp of a fixed non-linear loss at step k (same arithmetic for both libraries)."""
    rng = rng_for("coef", i, p.shape)
    a = rng.uniform(0.5, 2.0, p.shape).astype(p.dtype)
    c = rng.standard_normal(p.shape).astype(p.dtype)
    return 2 * a * p + c * np.asarray(np.sin(k + 1.0), dtype=p.dtype) + np.asarray(0.1, dtype=p.dtype) * p**3


def make_params(lib: Any, arrays: list[np.ndarray]) -> list[Any]:
    if lib is torch:
        return [torch.nn.Parameter(torch.tensor(a)) for a in arrays]
    return [deeprnn.nn.Parameter(a) for a in arrays]


def data_of(p: Any) -> np.ndarray:
    return p.detach().numpy().copy() if isinstance(p, torch.Tensor) else p.detach().numpy().copy()


def set_grads(lib: Any, params: list[Any], k: int) -> None:
    for i, p in enumerate(params[:-1]):
        g = gradient(data_of(p), k, i)
        p.grad = torch.tensor(g) if lib is torch else deeprnn.tensor(g)


def run_steps(lib: Any, opt: Any, params: list[Any], start: int, stop: int, sched: Any = None) -> None:
    for k in range(start, stop):
        opt.zero_grad()
        set_grads(lib, params, k)
        opt.step()
        if sched is not None:
            sched.step()


def build(lib: Any, name: str, params: list[Any], kwargs: dict[str, Any], groups: bool = False) -> Any:
    cls = getattr(lib.optim, name)
    if groups:
        return cls([{"params": params[:2]}, {"params": params[2:], "lr": 0.05}], **kwargs)
    return cls(params, **kwargs)


def to_json_npz(state: dict[str, Any]) -> tuple[str, bytes]:
    """Save a state_dict as JSON text plus an npz archive of its arrays (what a checkpoint does)."""
    arrays: dict[str, np.ndarray] = {}

    def strip(v: Any, path: str) -> Any:
        if isinstance(v, np.ndarray):
            arrays[path] = v
            return {"__npz__": path}
        if isinstance(v, dict):
            return {str(k): strip(x, f"{path}/{k}") for k, x in v.items()}
        if isinstance(v, list):
            return [strip(x, f"{path}/{i}") for i, x in enumerate(v)]
        assert v is None or isinstance(v, (bool, int, float, str)), f"{path}: {type(v).__name__} in state_dict"
        return v

    text = json.dumps(strip(state, ""))
    buf = io.BytesIO()
    np.savez(buf, **{k.replace("/", "|"): a for k, a in arrays.items()})
    return text, buf.getvalue()


def from_json_npz(text: str, blob: bytes) -> dict[str, Any]:
    arrays = np.load(io.BytesIO(blob))

    def fill(v: Any) -> Any:
        if isinstance(v, dict):
            if set(v) == {"__npz__"}:
                return arrays[v["__npz__"].replace("/", "|")]
            return {k: fill(x) for k, x in v.items()}
        if isinstance(v, list):
            return [fill(x) for x in v]
        return v

    return fill(json.loads(text))
