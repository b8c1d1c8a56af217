"""``torch.nn.modules.container``: the containers (see deeprnn.nn.container)."""

from ..container import ModuleDict as ModuleDict
from ..container import ModuleList as ModuleList
from ..container import Sequential as Sequential

__all__ = ["Sequential", "ModuleList", "ModuleDict"]
