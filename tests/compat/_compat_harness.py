"""Run a PyTorch program unchanged under deeprnn and under torch, from the same random draws.

A program is a plain script written for PyTorch (``import torch``, ``from torch.utils.data import
DataLoader``, ...). For deeprnn, only its import lines change: ``torch`` becomes ``deeprnn`` (``import
torch`` becomes ``import deeprnn as torch``). Both runs then draw every random number from one NumPy
generator seeded alike: the harness routes ``randn``, ``rand``, ``randint``, ``randperm`` and the in-place
fillers ``Tensor.uniform_`` / ``Tensor.normal_`` (which torch's layer initialisation ends in; deeprnn's
``nn.init.uniform_`` / ``normal_`` likewise) of the library under test to it, and seeds Python's
``random`` and NumPy's global generator. So the two runs
start from the same weights and see the same data, and the numbers they print can be compared.

A program reports what it computed in module-level variables (``losses``, ...) that the test reads.
"""

from __future__ import annotations

import contextlib
import io
import os
import random
import re
from pathlib import Path
from typing import Any

import numpy as np

import deeprnn

PROGRAMS = Path(__file__).resolve().parent / "programs"
_IMPORT = re.compile(r"^(\s*)(import|from)\s+torch\b")


def to_deeprnn(source: str) -> str:
    """The program with its import lines moved from torch to deeprnn, and nothing else changed."""
    out = []
    for line in source.splitlines():
        m = _IMPORT.match(line)
        if m:
            if re.match(r"^\s*import torch\s*$", line):
                line = f"{m.group(1)}import deeprnn as torch"
            else:
                line = re.sub(r"\btorch\b", "deeprnn", line, count=1)
        out.append(line)
    return "\n".join(out) + "\n"


class SharedDraws:
    """One NumPy generator behind every random draw of the library under test."""

    def __init__(self, lib: Any, seed: int) -> None:
        self.lib = lib
        self.rng = np.random.default_rng(seed)

    def _dtype(self, kw: dict) -> Any:
        return kw.get("dtype") or self.lib.get_default_dtype()

    def _size(self, size: tuple) -> tuple:
        if len(size) == 1 and isinstance(size[0], (tuple, list)) or (len(size) == 1 and hasattr(size[0], "__len__")):
            size = tuple(size[0])
        return tuple(int(s) for s in size)

    def _tensor(self, values: np.ndarray, dtype: Any, requires_grad: bool = False) -> Any:
        t = self.lib.from_numpy(np.ascontiguousarray(values)).to(dtype)
        return t.requires_grad_(True) if requires_grad else t

    def randn(self, *size: Any, generator: Any = None, requires_grad: bool = False, **kw: Any) -> Any:
        return self._tensor(self.rng.standard_normal(self._size(size)), self._dtype(kw), requires_grad)

    def rand(self, *size: Any, generator: Any = None, requires_grad: bool = False, **kw: Any) -> Any:
        return self._tensor(self.rng.random(self._size(size)), self._dtype(kw), requires_grad)

    def randint(self, *args: Any, generator: Any = None, **kw: Any) -> Any:
        low, high, size = (0, args[0], args[1]) if len(args) == 2 else args
        values = self.rng.integers(low, high, tuple(size))
        return self._tensor(values, kw.get("dtype") or self.lib.int64)

    def randperm(self, n: int, generator: Any = None, **kw: Any) -> Any:
        return self._tensor(self.rng.permutation(int(n)), kw.get("dtype") or self.lib.int64)

    def fill(self, draw: Any) -> Any:
        lib = self.lib

        def filler(tensor: Any, *args: Any, generator: Any = None, **kw: Any) -> Any:
            values = draw(tuple(tensor.shape), *args[:2], **kw)  # a third positional argument is a generator
            with lib.no_grad():
                tensor.copy_(lib.from_numpy(np.ascontiguousarray(values)))
            return tensor

        return filler

    def install(self, monkeypatch: Any) -> None:
        lib = self.lib
        for name in ("randn", "rand", "randint", "randperm"):
            monkeypatch.setattr(lib, name, getattr(self, name), raising=False)
        uniform = self.fill(lambda shape, a=0.0, b=1.0: self.rng.uniform(a, b, shape))
        normal = self.fill(lambda shape, mean=0.0, std=1.0: self.rng.normal(mean, std, shape))
        monkeypatch.setattr(lib.Tensor, "uniform_", uniform)
        monkeypatch.setattr(lib.Tensor, "normal_", normal)
        if lib is deeprnn:  # deeprnn's nn.init draws from its generator itself instead of ending in Tensor.uniform_
            monkeypatch.setattr(lib.nn.init, "uniform_", uniform)
            monkeypatch.setattr(lib.nn.init, "normal_", normal)
            # Samplers and random_split call randperm from its own module, as torch's call torch.randperm.
            monkeypatch.setattr(lib.autograd.torch_functions, "randperm", self.randperm)
        else:  # torch's random_split binds randperm at import (its samplers look torch.randperm up)
            import torch.utils.data.dataset

            monkeypatch.setattr(torch.utils.data.dataset, "randperm", self.randperm)
        monkeypatch.setattr(lib, "manual_seed", self.manual_seed)

    def manual_seed(self, seed: int) -> None:
        """A program's ``torch.manual_seed(s)`` restarts the shared stream from s, in both libraries alike."""
        self.rng = np.random.default_rng(int(seed))


def run_program(name: str, lib: Any, monkeypatch: Any, tmp_path: Path, seed: int = 0) -> tuple[dict, str]:
    """Run programs/NAME with ``lib`` (deeprnn or torch); returns its namespace and what it printed."""
    source = (PROGRAMS / name).read_text(encoding="utf-8")
    if lib is deeprnn:
        source = to_deeprnn(source)
    lib.manual_seed(seed)  # what the library draws outside the shared stream (e.g. torch's dropout) is seeded too
    SharedDraws(lib, seed).install(monkeypatch)
    random.seed(seed)
    np.random.seed(seed)
    out = io.StringIO()
    ns: dict = {"__name__": "__main__", "__file__": str(PROGRAMS / name)}
    cwd = os.getcwd()
    os.chdir(tmp_path)  # programs write their checkpoints into the working directory
    try:
        with contextlib.redirect_stdout(out):
            exec(compile(source, name, "exec"), ns)  # noqa: S102 - the program under test
    finally:
        os.chdir(cwd)
    return ns, out.getvalue()
