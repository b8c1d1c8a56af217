"""The one helper every parity test uses: compare deeprnn with torch at the project's tolerances.

Tolerances: 1e-5 relative in float32 and 1e-10 in float64. "Relative" is measured
element-wise against the reference value, with an absolute floor of the same relative
size times the reference tensor's largest magnitude, so that entries that happen to be
near zero in a tensor of O(1) values are judged on the tensor's scale.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

import deeprnn

RTOL = {np.dtype(np.float32): 1e-5, np.dtype(np.float64): 1e-10}
TORCH_DTYPE = {np.dtype(np.float32): torch.float32, np.dtype(np.float64): torch.float64}


def to_numpy(x: Any) -> np.ndarray:
    """A NumPy copy of a deeprnn tensor, torch tensor or array."""
    if isinstance(x, deeprnn.Tensor):
        return np.array(x.detach().numpy())
    if isinstance(x, torch.Tensor):
        return x.detach().cpu().numpy().copy()
    return np.asarray(x)


def assert_close(ours: Any, ref: Any, dtype: Any = None, what: str = "") -> None:
    """Assert ``ours`` equals the torch reference ``ref`` within the dtype's tolerance."""
    a, b = to_numpy(ours), to_numpy(ref)
    assert a.shape == b.shape, f"{what}: shape {a.shape} != reference {b.shape}"
    dt = np.dtype(dtype) if dtype is not None else b.dtype
    assert a.dtype == b.dtype, f"{what}: dtype {a.dtype} != reference {b.dtype}"
    rtol = RTOL[dt]
    scale = float(np.abs(b).max()) if b.size else 0.0
    np.testing.assert_allclose(a, b, rtol=rtol, atol=rtol * max(scale, 1e-30), err_msg=what)


def torch_dtype(dtype: Any) -> torch.dtype:
    return TORCH_DTYPE[np.dtype(dtype)]
