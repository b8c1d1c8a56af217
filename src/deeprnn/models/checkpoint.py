"""Checkpoints: one NumPy ``.npz`` file, no pickle, written atomically, validated on load.

Layout of the archive (every entry a plain array; ``np.load(..., allow_pickle=False)`` reads it):

    __meta__            uint8 (B,)  UTF-8 JSON: format name and version, deeprnn version,
                                    model and train config, vocab, optimiser/scheduler state
                                    (non-array part), RNG states, data position, iteration,
                                    loss history
    model/<name>        the model's state dict (``rnn.weight_ih_l0``, ``head.weight``, ...)
    optim/<path>        the optimiser's arrays (Adam's moments, ...), referenced from the JSON
    hidden              (L, N, H) the hidden state h carried into the next training batch
    cell                (L, N, H) the LSTM's cell state c, carried beside h (LSTM only)

Format versions: 2 records the kind of cell (``model_config["kind"]``: rnn, lstm or gru) and the
LSTM's cell state; 1 was written before deeprnn had LSTM and GRU, and is read as an Elman RNN.

Saving writes a temporary file in the target directory, flushes and fsyncs it, then
``os.replace``s it over the target: a reader sees the old file or the new one, never half
of one, whatever happens mid-write (crash, Ctrl-C, full disk).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..autograd.tensor import Tensor
from ..fileio import NpzError, atomic_write, read_npz
from ..memory import check_memory

__all__ = [
    "FORMAT",
    "FORMAT_VERSION",
    "READABLE_VERSIONS",
    "CheckpointError",
    "Checkpoint",
    "save_checkpoint",
    "load_checkpoint",
    "resolve_checkpoint_path",
    "flatten_state",
    "unflatten_state",
]

FORMAT = "deeprnn-lm-checkpoint"
FORMAT_VERSION = 2
READABLE_VERSIONS = (1, 2)  # 1: before LSTM/GRU, no 'kind' in the model config (an RNN)
META_KEY = "__meta__"
REQUIRED_META = (
    "format",
    "format_version",
    "deeprnn_version",
    "model_config",
    "vocab",
    "iteration",
)


def short(value: Any, limit: int = 60) -> str:
    """``repr(value)``, cut to ``limit`` characters: a crafted file's strings are not echoed whole."""
    r = repr(value)
    return r if len(r) <= limit else r[: limit - 3] + "..."


class CheckpointError(ValueError):
    """A checkpoint that cannot be used; the message names the file and what is wrong."""


@dataclass
class Checkpoint:
    """A loaded checkpoint: its JSON metadata and its arrays, keyed as in the archive."""

    path: Path
    meta: dict[str, Any]
    arrays: dict[str, np.ndarray]

    def model_state(self) -> dict[str, np.ndarray]:
        return {k[len("model/") :]: v for k, v in self.arrays.items() if k.startswith("model/")}


def resolve_checkpoint_path(path: str | os.PathLike[str]) -> Path:
    """A directory means its ``latest.npz``; a file is itself."""
    p = Path(path)
    if p.is_dir():
        return p / "latest.npz"
    return p


# ---- nested states (optimiser, scheduler) <-> JSON + arrays ----------------------------------
def flatten_state(obj: Any, prefix: str, arrays: dict[str, np.ndarray]) -> Any:
    """Turn a nested state (dicts, lists, tuples, numbers, arrays, Tensors) into JSON-safe data.

    Arrays go into ``arrays`` under ``prefix/<path>`` and are replaced by a reference; tuples,
    Tensors and dicts with non-string keys are tagged so ``unflatten_state`` restores them.
    """
    if isinstance(obj, Tensor):
        key = f"{prefix}"
        arrays[key] = np.array(obj._data, copy=True)
        return {"__tensor__": key}
    if isinstance(obj, np.ndarray):
        arrays[prefix] = np.array(obj, copy=True)
        return {"__array__": prefix}
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, dict):
        if all(isinstance(k, str) for k in obj):
            return {"__dict__": {k: flatten_state(v, f"{prefix}/{k}", arrays) for k, v in obj.items()}}
        return {
            "__items__": [
                [
                    flatten_state(k, f"{prefix}/k{i}", arrays),
                    flatten_state(v, f"{prefix}/{i}", arrays),
                ]
                for i, (k, v) in enumerate(obj.items())
            ]
        }
    if isinstance(obj, tuple):
        return {"__tuple__": [flatten_state(v, f"{prefix}/{i}", arrays) for i, v in enumerate(obj)]}
    if isinstance(obj, list):
        return [flatten_state(v, f"{prefix}/{i}", arrays) for i, v in enumerate(obj)]
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return obj
    raise TypeError(f"cannot store a {type(obj).__name__} in a checkpoint (at {prefix})")


def unflatten_state(obj: Any, arrays: dict[str, np.ndarray]) -> Any:
    """Inverse of :func:`flatten_state`."""
    if isinstance(obj, list):
        return [unflatten_state(v, arrays) for v in obj]
    if isinstance(obj, dict):
        if "__tensor__" in obj:
            return Tensor._wrap(np.array(arrays[obj["__tensor__"]], copy=True))
        if "__array__" in obj:
            return np.array(arrays[obj["__array__"]], copy=True)
        if "__tuple__" in obj:
            return tuple(unflatten_state(v, arrays) for v in obj["__tuple__"])
        if "__items__" in obj:
            return {unflatten_state(k, arrays): unflatten_state(v, arrays) for k, v in obj["__items__"]}
        if "__dict__" in obj:
            return {k: unflatten_state(v, arrays) for k, v in obj["__dict__"].items()}
        raise KeyError(f"untagged dict in a stored state: keys {sorted(obj)}")
    return obj


# ---- save ----------------------------------------------------------------------------------
def _write_npz(fh: Any, arrays: dict[str, np.ndarray]) -> None:
    np.savez(fh, **arrays)


def save_checkpoint(path: str | os.PathLike[str], meta: dict[str, Any], arrays: dict[str, np.ndarray]) -> Path:
    """Write ``meta`` (JSON-safe) and ``arrays`` to ``path`` atomically; returns the path.

    ``meta`` gets ``format`` and ``format_version`` filled in.  No object arrays allowed.
    """
    path = Path(path)
    meta = {"format": FORMAT, "format_version": FORMAT_VERSION, **meta}
    payload = dict(arrays)
    for k, a in payload.items():
        if not isinstance(a, np.ndarray) or a.dtype == object:
            raise TypeError(f"checkpoint entry {k!r} must be a numeric ndarray, got {type(a).__name__}")
    payload[META_KEY] = np.frombuffer(json.dumps(meta).encode("utf-8"), dtype=np.uint8)
    atomic_write(path, lambda fh: _write_npz(fh, payload))
    return path


# ---- load ----------------------------------------------------------------------------------
def load_checkpoint(path: str | os.PathLike[str]) -> Checkpoint:
    """Read and validate a checkpoint (a ``.npz`` file or a directory holding ``latest.npz``).

    Raises:
        CheckpointError: missing file, not a deeprnn checkpoint, corrupt or truncated
            archive, other format version, or inconsistent contents.
    """
    p = resolve_checkpoint_path(path)

    def fail(what: str) -> CheckpointError:
        return CheckpointError(f"checkpoint {str(p)!r}: {what}")

    if not p.exists():
        where = f" (no latest.npz in directory {str(path)!r})" if Path(path).is_dir() else ""
        raise fail(f"file not found{where}")
    if p.is_dir():
        raise fail("is a directory, expected a .npz file")
    try:
        arrays = read_npz(p, check_size=lambda n: check_memory(n, f"checkpoint {str(p)!r}"))
    except NpzError as e:
        raise fail(str(e)) from None
    if META_KEY not in arrays:
        raise fail(f"not a deeprnn checkpoint: no {META_KEY!r} entry (entries: {short(sorted(arrays)[:8], 200)})")
    raw = arrays.pop(META_KEY)
    if raw.dtype != np.uint8 or raw.ndim != 1:
        raise fail(
            f"metadata {META_KEY!r} is a {raw.dtype} array of shape {raw.shape}, expected UTF-8 bytes (uint8, 1-D)"
        )
    try:
        meta = json.loads(raw.tobytes().decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, ValueError, RecursionError) as e:
        raise fail(f"metadata is not valid JSON: {type(e).__name__}: {str(e)[:200]}") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        got = meta.get("format") if isinstance(meta, dict) else type(meta).__name__
        raise fail(f"not a deeprnn language-model checkpoint (format {short(got)}, expected {FORMAT!r})")
    version = meta.get("format_version")
    if isinstance(version, bool) or version not in READABLE_VERSIONS:
        readable = " and ".join(map(str, READABLE_VERSIONS))
        raise fail(
            f"checkpoint format version {short(version)} is not supported by this "
            f"deeprnn (reads versions {readable}); it was written by deeprnn "
            f"{short(meta.get('deeprnn_version', '?'), 30)}"
        )
    missing = [k for k in REQUIRED_META if k not in meta]
    if missing:
        raise fail(f"metadata lacks {missing}")
    return Checkpoint(p, meta, arrays)
