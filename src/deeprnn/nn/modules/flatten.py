"""``torch.nn.modules.flatten``: Flatten and Unflatten (see deeprnn.nn.flatten)."""

from ..flatten import Flatten as Flatten
from ..flatten import Unflatten as Unflatten

__all__ = ["Flatten", "Unflatten"]
