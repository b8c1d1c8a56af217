"""deeprnn.utils: ``deeprnn.utils.data`` is ``torch.utils.data`` (datasets, samplers, DataLoader)."""

from . import data as data

__all__ = ["data"]
