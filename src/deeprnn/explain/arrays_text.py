"""Numbers as short text: vectors and matrices shortened with … when they are large."""

from __future__ import annotations

import numpy as np

__all__ = ["fmt_num", "fmt_vec", "fmt_matrix", "fmt_shape"]


def fmt_num(v: float) -> str:
    """Fixed 4 decimals, scientific when tiny or huge; a sign column so columns align."""
    v = float(v)
    if v != 0 and (abs(v) >= 1e4 or abs(v) < 1e-4):
        return f"{v:10.3e}"
    return f"{v:7.4f}"


def _pick(n: int, max_n: int) -> tuple[list[int], int | None]:
    """Indices to show out of n, and where to put the ellipsis (None: nothing left out)."""
    if n <= max_n + 1:  # leaving out a single item saves nothing
        return list(range(n)), None
    head = (max_n + 1) // 2
    tail = max_n - head
    return list(range(head)) + list(range(n - tail, n)), head


def fmt_vec(v: np.ndarray, max_cols: int = 6) -> str:
    """'[ 0.1234, -0.5678, …,  0.9101]' for a 1-D array."""
    v = np.asarray(v).reshape(-1)
    idx, cut = _pick(v.size, max_cols)
    parts = [fmt_num(v[i]) for i in idx]
    if cut is not None:
        parts.insert(cut, "…")
    return "[" + ", ".join(parts) + "]"


def fmt_matrix(m: np.ndarray, max_rows: int = 4, max_cols: int = 6) -> list[str]:
    """One line per shown row; a '⋮ (k more rows)' line where rows are left out."""
    m = np.asarray(m)
    if m.ndim == 1:
        return [fmt_vec(m, max_cols)]
    idx, cut = _pick(m.shape[0], max_rows)
    lines = [fmt_vec(m[i], max_cols) for i in idx]
    if cut is not None:
        lines.insert(cut, f" ⋮  ({m.shape[0] - len(idx)} more rows)")
    return lines


def fmt_shape(shape: tuple[int, ...]) -> str:
    """(4, 2, 5) with a trailing comma only for 1-tuples, as Python prints them."""
    return "(" + ", ".join(str(s) for s in shape) + ("," if len(shape) == 1 else "") + ")"
