"""The parity helper of the layer, loss and functional tests: run the same code in deeprnn and torch.

A test writes its computation once, as ``fn(lib, module, *tensors)`` where ``lib`` is
either ``deeprnn`` or ``torch``. ``check_parity`` builds the module in torch, copies its
weights into the deeprnn one with ``load_state_dict``, feeds both the same inputs (floating
arrays become leaves that require grad), backpropagates the same random output gradient
and compares the output, every input gradient and every parameter gradient with the
project's oracle (``tests/oracle.py``: rtol 1e-10 in float64, 1e-5 in float32).
"""

from __future__ import annotations

import sys
import zlib
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

import deeprnn

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/ holds the shared oracle
from oracle import assert_close  # noqa: E402

__all__ = ["check_parity", "rng_for", "assert_close", "same_error"]


def rng_for(*key: Any) -> np.random.Generator:
    """A generator seeded from the test's parameters, stable across runs and processes."""
    return np.random.default_rng(zlib.crc32(repr(key).encode()))


def _leaf(lib: Any, arr: np.ndarray) -> Any:
    arr = np.asarray(arr)  # a 0-d draw is a NumPy scalar; make it an array so both keep its dtype
    if lib is torch:
        t = torch.tensor(arr)
    else:
        t = deeprnn.tensor(arr)
    if np.issubdtype(arr.dtype, np.floating):
        t.requires_grad_(True)
    return t


def check_parity(
    fn: Callable[..., Any],
    arrays: Sequence[np.ndarray],
    *,
    module: Callable[[Any], Any] | None = None,
    dtype: Any = np.float64,
    seed: Any = 0,
) -> tuple[Any, Any]:
    """Compare ``fn(lib, module, *tensors)`` between deeprnn and torch: value and all gradients.

    Returns the two outputs (deeprnn's, torch's) for further checks.
    """
    outs, ins, mods = {}, {}, {}
    for lib in (torch, deeprnn):
        mod = module(lib) if module is not None else None
        if mod is not None and lib is deeprnn:
            mod.load_state_dict(mods[torch].state_dict())
        tensors = [_leaf(lib, a) for a in arrays]
        outs[lib], ins[lib], mods[lib] = fn(lib, mod, *tensors), tensors, mod
    ours, ref = outs[deeprnn], outs[torch]
    assert_close(ours, ref, dtype, "forward")
    ref_np = ref.detach().numpy()
    if not ref.requires_grad:
        return ours, ref
    upstream = rng_for("upstream", seed, ref_np.shape).standard_normal(ref_np.shape).astype(ref_np.dtype)
    ref.backward(torch.tensor(upstream))
    ours.backward(deeprnn.tensor(upstream))
    for i, (a, b) in enumerate(zip(ins[deeprnn], ins[torch])):
        if b.grad is None:
            assert a.grad is None or not np.any(a.grad.detach().numpy()), f"input {i}: gradient where torch has none"
        else:
            assert a.grad is not None, f"input {i}: no gradient"
            assert_close(a.grad, b.grad, dtype, f"grad of input {i}")
    if module is not None:
        theirs = dict(mods[torch].named_parameters())
        mine = dict(mods[deeprnn].named_parameters())
        assert sorted(mine) == sorted(theirs)
        for name, p in theirs.items():
            if p.grad is None:
                assert mine[name].grad is None, name
            else:
                assert_close(mine[name].grad, p.grad, dtype, f"grad of {name}")
    return ours, ref


def same_error(call: Callable[[Any], Any]) -> tuple[type, str]:
    """Run ``call(lib)`` in both libraries; assert they raise the same class with the same message."""
    caught = {}
    for lib in (torch, deeprnn):
        try:
            call(lib)
        except Exception as err:  # noqa: BLE001 - the class is what we compare
            caught[lib] = err
        else:
            raise AssertionError(f"{lib.__name__} raised nothing")
    ours, ref = caught[deeprnn], caught[torch]
    assert type(ours) is type(ref), f"{type(ours).__name__}: {ours} != {type(ref).__name__}: {ref}"
    assert str(ours) == str(ref)
    return type(ours), str(ours)
