"""``torch.nn.modules.module``: the Module base class (see deeprnn.nn.module)."""

from ..module import Module as Module

__all__ = ["Module"]
