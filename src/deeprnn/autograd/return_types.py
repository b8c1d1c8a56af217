"""The (values, indices) pairs that max/min/sort/topk/... return, named and printed as torch's."""

from __future__ import annotations

from collections import namedtuple
from typing import Any

__all__ = ["max", "min", "sort", "topk", "median", "kthvalue", "mode", "return_type"]


def return_type(name: str) -> Any:
    """A namedtuple class ``name(values, indices)`` whose repr is torch's ``torch.return_types.<name>(...)``."""
    base = namedtuple(name, ["values", "indices"])  # type: ignore[misc]

    def __repr__(self: Any) -> str:
        return f"torch.return_types.{name}(\nvalues={self.values!r},\nindices={self.indices!r})"

    return type(name, (base,), {"__slots__": (), "__repr__": __repr__, "__module__": "deeprnn.return_types"})


max = return_type("max")  # noqa: A001
min = return_type("min")  # noqa: A001
sort = return_type("sort")
topk = return_type("topk")
median = return_type("median")
kthvalue = return_type("kthvalue")
mode = return_type("mode")
