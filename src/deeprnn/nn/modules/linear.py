"""``torch.nn.modules.linear``: Linear and Identity (see deeprnn.nn.linear)."""

from ..linear import Identity as Identity
from ..linear import Linear as Linear

__all__ = ["Identity", "Linear"]
