"""``device``: where a tensor lives. deeprnn runs on the CPU only, as a CPU-only build of torch.

``device("cpu")``, ``device("cuda:0")`` and ``device("cuda", 0)`` can be made (programs
build them before asking ``cuda.is_available()``), but moving a tensor anywhere other than
the CPU raises torch's error on a build without CUDA.
"""

from __future__ import annotations

from typing import Any

__all__ = ["device", "as_device", "check_device", "CUDA_MESSAGE"]

CUDA_MESSAGE = "Torch not compiled with CUDA enabled"
_TYPES = (
    "cpu, cuda, ipu, xpu, mkldnn, opengl, opencl, ideep, hip, ve, fpga, maia, xla, lazy, vulkan, mps, meta, "
    "hpu, mtia, privateuseone"
)


class device:  # noqa: N801 - PyTorch's name
    """A device description: ``type`` ('cpu', 'cuda', ...) and an optional ``index``."""

    __slots__ = ("type", "index")

    def __init__(self, type: Any, index: int | None = None) -> None:  # noqa: A002 - PyTorch's name
        if isinstance(type, device):
            self.type, self.index = type.type, type.index
            return
        if not isinstance(type, str):
            raise TypeError(f"device(): argument 'type' must be str, not {type.__class__.__name__}")
        name, _, idx = type.partition(":")
        if name not in _TYPES.split(", "):
            raise RuntimeError(f"Expected one of {_TYPES} device type at start of device string: {type}")
        if idx:
            if index is not None:
                raise RuntimeError(
                    f"type (string) must not include an index because index was passed explicitly: {type}"
                )
            if not idx.isdigit():
                raise RuntimeError(f"Invalid device string: '{type}'")
            index = int(idx)
        if index is not None and index < 0:
            raise RuntimeError(f"Device index must not be negative, got {index}")
        self.type, self.index = name, index

    def __eq__(self, other: object) -> bool:
        return isinstance(other, device) and (self.type, self.index) == (other.type, other.index)

    def __hash__(self) -> int:
        return hash((self.type, self.index))

    def __repr__(self) -> str:
        return (
            f"device(type='{self.type}')" if self.index is None else f"device(type='{self.type}', index={self.index})"
        )

    def __str__(self) -> str:
        return self.type if self.index is None else f"{self.type}:{self.index}"


def as_device(spec: Any) -> device:
    """A ``device`` from a device, a string such as 'cpu' or 'cuda:0', or an accelerator index."""
    if isinstance(spec, device):
        return spec
    if isinstance(spec, int) and not isinstance(spec, bool):
        raise RuntimeError("Cannot access accelerator device when none is available.")
    return device(spec)


def check_device(spec: Any) -> None:
    """Raise torch's CPU-only-build error unless ``spec`` (None, a string or a device) is the CPU."""
    if spec is None:
        return
    d = as_device(spec)
    if d.type == "cuda":
        raise AssertionError(CUDA_MESSAGE)
    if d.type != "cpu":
        raise RuntimeError(f"deeprnn runs on the CPU only: device '{d}' is not available")
