"""``torch.nn.modules.sparse``: Embedding (see deeprnn.nn.embedding)."""

from ..embedding import Embedding as Embedding

__all__ = ["Embedding"]
