"""``torch.nn.modules.dropout``: Dropout, Dropout1d and Dropout2d (see deeprnn.nn.dropout)."""

from ..dropout import Dropout as Dropout
from ..dropout import Dropout1d as Dropout1d
from ..dropout import Dropout2d as Dropout2d

__all__ = ["Dropout", "Dropout1d", "Dropout2d"]
