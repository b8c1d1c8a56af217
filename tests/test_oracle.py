"""The oracle's own rules can fail: tolerances scaled to the tensor, non-finite entries, the float32 rule."""

from __future__ import annotations

import numpy as np
import pytest

from oracle import ILL_CONDITIONED_FACTOR, assert_close, assert_problem_close_to_exact


def test_tolerance_is_relative_to_the_tensor_scale() -> None:
    ref = np.array([10.0, 1e-9], dtype=np.float32)
    assert_close(ref + np.float32(5e-5), ref, np.float32)  # 5e-5 is within 1e-5 of the scale 10
    with pytest.raises(AssertionError):
        assert_close(ref + np.float32(5e-4), ref, np.float32)
    with pytest.raises(AssertionError):
        assert_close(ref.astype(np.float64) * (1 + 1e-9), ref.astype(np.float64), np.float64)


def test_non_finite_entries_must_match_and_do_not_set_the_scale() -> None:
    ref = np.array([np.nan, np.inf, 1.0, 2.0])
    assert_close(ref.copy(), ref, np.float64)
    with pytest.raises(AssertionError):
        assert_close(np.array([np.nan, np.inf, 1.0, 2.0 + 1e-6]), ref, np.float64)  # NaN/inf do not widen the scale
    with pytest.raises(AssertionError):
        assert_close(np.array([0.0, np.inf, 1.0, 2.0]), ref, np.float64)
    with pytest.raises(AssertionError):
        assert_close(np.array([np.nan, -np.inf, 1.0, 2.0]), ref, np.float64)


def test_float32_rule_against_the_exact_answer() -> None:
    exact = [np.array([1.0, -0.5]), np.array([2e-3, 1.0])]
    torch32 = [(e + 1e-3 * np.array([1, -1]) * (i == 1)).astype(np.float32) for i, e in enumerate(exact)]
    fine = [e.astype(np.float32) for e in exact]
    assert_problem_close_to_exact(fine, torch32, exact, ["a", "b"])  # within 1e-5 of the exact answer
    near_torch = [exact[0].astype(np.float32), (exact[1] + 2e-3).astype(np.float32)]  # 2x torch's worst error
    assert_problem_close_to_exact(near_torch, torch32, exact, ["a", "b"])
    far = [exact[0].astype(np.float32), (exact[1] + 2 * ILL_CONDITIONED_FACTOR * 1e-3).astype(np.float32)]
    with pytest.raises(AssertionError, match="above 8 x torch-float32's worst"):
        assert_problem_close_to_exact(far, torch32, exact, ["a", "b"])
    with pytest.raises(AssertionError):  # a well-conditioned problem where torch is exact leaves no room
        assert_problem_close_to_exact(near_torch, fine, exact, ["a", "b"])
