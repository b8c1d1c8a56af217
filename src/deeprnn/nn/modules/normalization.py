"""``torch.nn.modules.normalization``: LayerNorm (see deeprnn.nn.normalization)."""

from ..normalization import LayerNorm as LayerNorm

__all__ = ["LayerNorm"]
