"""deeprnn.explain: implement recurrent networks from scratch and explain every step.

``explain(...)`` walks through an Elman RNN's, an LSTM's or a GRU's forward pass (and, with
backward=True, BPTT) layer by layer, direction by direction, time step by time step and gate
by gate, with the actual numbers, checks them against ``nn.RNN`` / ``nn.LSTM`` / ``nn.GRU``,
and renders the result for the terminal, Markdown or HTML, in English or Chinese, with
optional pictures.
"""

import sys
import types

from .api import FORMATS as FORMATS
from .api import Report as Report
from .api import explain as explain
from .bptt import LOSSES as LOSSES
from .config import MODES as MODES
from .config import ExplainConfig as ExplainConfig
from .examples import EXAMPLES as EXAMPLES
from .messages import LANGS as LANGS
from .problem import load_model as load_model

__all__ = [
    "explain",
    "ExplainConfig",
    "Report",
    "EXAMPLES",
    "FORMATS",
    "LANGS",
    "LOSSES",
    "MODES",
    "load_model",
]


class _CallableModule(types.ModuleType):
    """``deeprnn.explain(...)`` calls `explain`; ``deeprnn.explain.X`` is still the package."""

    def __call__(self, *args, **kwargs):  # noqa: ANN002, ANN003
        return explain(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
