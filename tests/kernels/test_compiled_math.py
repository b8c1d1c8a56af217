"""The compiled loops' tanh and sigmoid (kernels/compiled/_math.py) against float64 references.

float32 tanh is the 13/6-degree rational interpolant of Eigen and XLA.  Measured once over EVERY
float32 in [0, 12] (1.09e9 values; tanh is odd and the code symmetric): at most 4.90 ulps from the
exact tanh (at x = 5.126039), where 0.5 would be correctly rounded.  This test samples every 997th
float32 of that range, plus dense neighbourhoods of the worst point, the clamp at +-7.90531110763549805
and the switch to tanh(x) = x below 4e-4, and holds the error to 5 ulps.

float32 sigmoid is 1/2 + tanh(x/2)/2: at most 1.7e-7 from the exact value (measured over the same
values and their negatives), an absolute bound: for sigma(x) << 1 its relative error grows (1e-4
at sigma = 2e-3), well inside the 1e-5 tolerance that the oracle scales to a tensor's largest entry.
float64 uses libm's tanh and exp: within 1e-15 of NumPy's.
"""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("numba")

from deeprnn.kernels.compiled._math import sigmoid_array, tanh_array  # noqa: E402

CLAMP = np.float32(7.90531110763549805)


def _neighbourhood(x, n):
    """The n float32 values on either side of x (bit patterns), and x."""
    bits = np.float32(x).view(np.int32)
    return np.arange(bits - n, bits + n + 1, dtype=np.int32).view(np.float32)


def _grid():
    lo, hi = np.float32(0).view(np.int32), np.float32(12).view(np.int32)
    sampled = np.arange(lo, hi, 997, dtype=np.int32).view(np.float32)
    dense = [_neighbourhood(v, 20000) for v in (np.float32(5.126039), CLAMP, np.float32(4e-4))]
    x = np.concatenate([sampled, *dense, np.array([np.finfo(np.float32).max, 30.0, 1e-30, 1e-45], np.float32)])
    return np.concatenate([x, -x])


def _ulps(ours, exact):
    return np.abs(ours.astype(np.float64) - exact) / np.spacing(exact.astype(np.float32)).astype(np.float64)


def test_float32_tanh_within_5_ulps():
    x = _grid()
    y = np.empty_like(x)
    tanh_array(x, y)
    ulps = _ulps(y, np.tanh(x.astype(np.float64)))
    assert ulps.max() <= 5.0, f"{ulps.max():.2f} ulps at x = {x[np.argmax(ulps)]!r}"
    assert ulps.max() > 1.0  # the interpolant, not a correctly rounded tanh, is under test


def test_float32_tanh_edges():
    x = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, CLAMP, -CLAMP, 100.0, 3e-4], np.float32)
    y = np.empty_like(x)
    tanh_array(x, y)
    assert y[0] == 0 and not np.signbit(y[0]) and y[1] == 0 and np.signbit(y[1])
    assert y[2] == 1 and y[3] == -1 and np.isnan(y[4])  # NaN passes through: a diverging loss stays visible
    assert y[5] == 1 and y[6] == -1 and y[7] == 1  # +-1 from the clamp on, where float32 tanh rounds to 1
    assert y[8] == np.float32(3e-4)  # tanh(x) = x below 4e-4


def test_float32_sigmoid_absolute_error():
    x = _grid()
    y = np.empty_like(x)
    sigmoid_array(x, y)
    with np.errstate(over="ignore"):
        exact = 1.0 / (1.0 + np.exp(-x.astype(np.float64)))
    err = np.abs(y - exact)
    assert err.max() <= 1.7e-7, f"{err.max():.3g} at x = {x[np.argmax(err)]!r}"
    assert np.all((y >= 0) & (y <= 1))
    z = np.array([np.nan, np.inf, -np.inf], np.float32)
    sigmoid_array(z, y[:3])
    assert np.isnan(y[0]) and y[1] == 1 and y[2] == 0


def test_float64_is_libm():
    x = np.concatenate([np.linspace(-40, 40, 100001), [0.0, 1e-300, -1e-300]])
    y = np.empty_like(x)
    tanh_array(x, y)
    np.testing.assert_allclose(y, np.tanh(x), rtol=1e-15, atol=0)
    sigmoid_array(x, y)
    np.testing.assert_allclose(y, 1.0 / (1.0 + np.exp(-x)), rtol=1e-15, atol=0)
