"""Where the compiled loops are cached: deeprnn's own directory, so a read-only install still caches."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

pytest.importorskip("numba")

CODE = (
    "import numpy as np\n"
    "from deeprnn.kernels.compiled._math import tanh_array\n"
    "tanh_array(np.zeros(3), np.empty(3))\n"
    "from deeprnn.kernels.compiled._jit import cache_dir\n"
    "print(cache_dir())\n"
)


def _run(env_updates):
    env = {k: v for k, v in os.environ.items() if k not in ("NUMBA_CACHE_DIR", "XDG_CACHE_HOME")}
    env.update(env_updates)
    out = subprocess.run([sys.executable, "-c", CODE], capture_output=True, text=True, env=env, check=True)
    return out.stdout.strip()


def test_cache_under_the_user_cache_dir(tmp_path):
    where = _run({"XDG_CACHE_HOME": str(tmp_path)})
    assert os.path.dirname(where) == str(tmp_path / "deeprnn" / "numba")
    assert any(name.endswith(".nbi") for _, _, files in os.walk(where) for name in files)  # numba's index files


def test_cache_under_numba_cache_dir_when_set(tmp_path):
    where = _run({"NUMBA_CACHE_DIR": str(tmp_path), "XDG_CACHE_HOME": str(tmp_path / "unused")})
    assert os.path.dirname(where) == str(tmp_path) and os.path.basename(where).startswith("deeprnn-")
    assert any(name.endswith(".nbi") for _, _, files in os.walk(where) for name in files)
    assert not (tmp_path / "unused").exists()
