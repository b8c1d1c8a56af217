"""``deeprnn.backends``: the switches programs set on torch's backends (cudnn, mps); no effect on the CPU."""

from . import cudnn as cudnn
from . import mps as mps

__all__ = ["cudnn", "mps"]
