"""Checking a checkpoint's contents before any of it is used: a checkpoint is data, never instructions.

A crafted (or corrupted) file must fail with one message naming what is wrong, before it
allocates anything by its own say-so or puts an impossible value into a run.  So:

- the model config must describe exactly the parameter arrays that the file holds (same
  names, same shapes), checked by arithmetic before any model is built: a config that claims
  hidden_size 10**6 or num_layers 10**7 is refused at once, not allocated or looped over;
- the training state (optimiser, scheduler, data position, hidden state, counters, history)
  must have the structure and the types that a fresh run of the same configuration has, with
  finite numbers in range.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .checkpoint import Checkpoint, CheckpointError, short

__all__ = ["check_model_arrays", "check_structure", "check_counters", "check_optimizer_state"]


def _fail(ckpt: Checkpoint, what: str) -> CheckpointError:
    return CheckpointError(f"checkpoint {str(ckpt.path)!r}: {what}")


def check_model_arrays(ckpt: Checkpoint, expected_count: int, expected_shapes: Any) -> dict[str, np.ndarray]:
    """The model's arrays, checked against the config's parameter names and shapes.

    ``expected_count`` is the number of parameter arrays the config describes (arithmetic,
    checked first, so an absurd num_layers never gets as far as listing its names);
    ``expected_shapes()`` then gives ``{name: shape}``.
    """
    state = ckpt.model_state()
    if expected_count != len(state):
        raise _fail(
            ckpt, f"the model config describes {expected_count:,} parameter arrays, the file holds {len(state)}"
        )
    shapes: dict[str, tuple[int, ...]] = expected_shapes()
    missing = sorted(set(shapes) - set(state))
    if missing:
        raise _fail(ckpt, f"parameters {missing[:5]} of the model config are not in the file")
    wrong = [f"{k}: {state[k].shape}, config says {shape}" for k, shape in shapes.items() if state[k].shape != shape]
    if wrong:
        raise _fail(ckpt, f"parameter shapes do not match the model config ({'; '.join(wrong[:3])})")
    dtypes = sorted({str(v.dtype) for v in state.values()})
    if len(dtypes) != 1 or dtypes[0] not in ("float32", "float64"):
        raise _fail(ckpt, f"parameters have dtypes {dtypes}, expected all float32 or all float64")
    bad = [k for k, v in state.items() if not np.isfinite(v).all()]
    if bad:
        raise _fail(ckpt, f"parameters contain NaN or inf: {bad[:5]}")
    return state


def _number(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


def check_structure(ckpt: Checkpoint, what: str, template: Any, value: Any, path: str = "") -> None:
    """``value`` has ``template``'s structure: the same dict keys, list lengths and kinds of leaf.

    Numbers match numbers (int or float, finite; an int stays an int), booleans booleans,
    strings strings, None None, arrays arrays of the same shape with finite values.
    """
    where = f"{what}{path}"
    if isinstance(template, dict):
        if not isinstance(value, dict):
            raise _fail(ckpt, f"{where} is {type(value).__name__}, expected a dict")
        if set(map(str, value)) != set(map(str, template)):
            extra, lost = (
                sorted(set(map(str, value)) - set(map(str, template))),
                sorted(set(map(str, template)) - set(map(str, value))),
            )
            raise _fail(ckpt, f"{where} has unexpected keys {short(extra)} or lacks {short(lost)}")
        by_str = {str(k): v for k, v in value.items()}
        for k, t in template.items():
            check_structure(ckpt, what, t, by_str[str(k)], f"{path}[{k!r}]")
    elif isinstance(template, (list, tuple)):
        if not isinstance(value, (list, tuple)) or len(value) != len(template):
            raise _fail(ckpt, f"{where} is {short(value)}, expected a list of {len(template)}")
        for i, (t, v) in enumerate(zip(template, value)):
            check_structure(ckpt, what, t, v, f"{path}[{i}]")
    elif isinstance(template, bool) or template is None or isinstance(template, str):
        if type(value) is not type(template):
            raise _fail(ckpt, f"{where} is {short(value)}, expected {type(template).__name__}")
    elif isinstance(template, int):
        if not isinstance(value, int) or isinstance(value, bool):
            raise _fail(ckpt, f"{where} is {short(value)}, expected an integer")
    elif isinstance(template, float):
        if not _number(value):
            raise _fail(ckpt, f"{where} is {short(value)}, expected a finite number")
    elif isinstance(template, np.ndarray) or hasattr(template, "_data"):
        t = template._data if hasattr(template, "_data") else template
        v = value._data if hasattr(value, "_data") else value
        if not isinstance(v, np.ndarray) or v.shape != t.shape or not np.isfinite(v).all():
            raise _fail(ckpt, f"{where} is not a finite array of shape {t.shape}")


def check_optimizer_state(ckpt: Checkpoint, state: Any, template: dict[str, Any], shapes: list[tuple]) -> None:
    """The optimiser's state dict: param_groups as the fresh optimiser's, per-parameter state
    of the parameters' shapes (``shapes``, in order), finite, with an integer step >= 0."""
    if not isinstance(state, dict) or set(state) != {"state", "param_groups"}:
        raise _fail(ckpt, "optimizer state must be a dict of 'state' and 'param_groups'")
    check_structure(ckpt, "optimizer param_groups", template["param_groups"], state["param_groups"])
    for group in state["param_groups"]:
        if not group["lr"] > 0:
            raise _fail(ckpt, f"optimizer learning rate {short(group['lr'])} is not > 0")
    per_param = state["state"]
    if not isinstance(per_param, dict):
        raise _fail(ckpt, "optimizer per-parameter state must be a dict")
    for key, values in per_param.items():
        try:
            i = int(key)
        except (TypeError, ValueError):
            i = -1
        if not 0 <= i < len(shapes) or not isinstance(values, dict):
            raise _fail(ckpt, f"optimizer state for parameter {short(key)}: no such parameter")
        for name, v in values.items():
            arr = v._data if hasattr(v, "_data") else v
            if name == "step":
                step = arr.reshape(-1)[0].item() if isinstance(arr, np.ndarray) and arr.size == 1 else arr
                if not _number(step) or step < 0 or step != int(step):
                    raise _fail(ckpt, f"optimizer step of parameter {i} is {short(arr)}, expected a count >= 0")
            elif isinstance(arr, np.ndarray):
                if arr.shape != shapes[i] or not np.issubdtype(arr.dtype, np.floating) or not np.isfinite(arr).all():
                    raise _fail(ckpt, f"optimizer state {name!r} of parameter {i} is not finite of shape {shapes[i]}")
            elif not (_number(arr) or arr is None or isinstance(arr, bool)):
                raise _fail(ckpt, f"optimizer state {name!r} of parameter {i} is {short(arr)}")


def check_counters(ckpt: Checkpoint, meta: dict[str, Any]) -> None:
    """iteration and tokens are integers >= 0; elapsed a finite number >= 0; best_val None or finite."""
    for key in ("iteration", "tokens"):
        v = meta.get(key, 0)
        if not isinstance(v, int) or isinstance(v, bool) or v < 0:
            raise _fail(ckpt, f"{key} is {short(v)}, expected an integer >= 0")
    elapsed = meta.get("elapsed", 0.0)
    if not _number(elapsed) or elapsed < 0:
        raise _fail(ckpt, f"elapsed is {short(elapsed)}, expected a number of seconds >= 0")
    best = meta.get("best_val")
    if best is not None and not _number(best):
        raise _fail(ckpt, f"best_val is {short(best)}, expected a finite loss or null")
