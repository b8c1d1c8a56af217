"""``torch.nn.modules.batchnorm``: BatchNorm1d and BatchNorm2d (see deeprnn.nn.normalization)."""

from ..normalization import BatchNorm1d as BatchNorm1d
from ..normalization import BatchNorm2d as BatchNorm2d
from ..normalization import _BatchNorm as _BatchNorm

__all__ = ["BatchNorm1d", "BatchNorm2d"]
