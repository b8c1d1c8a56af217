"""``torch.nn.modules``: the namespace path of PyTorch's module classes (``nn.modules.rnn.LSTM`` ...).

Only re-exports: each class lives in its own file of ``deeprnn.nn``.
"""

from . import rnn as rnn

__all__ = ["rnn"]
