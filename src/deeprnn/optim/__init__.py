"""deeprnn.optim: optimisers (SGD, Adagrad, RMSprop, Adam, AdamW, Adadelta, LBFGS) and learning-rate schedules.

They follow ``torch.optim``'s update rules, signatures and state_dict layout, and update
``p.data`` in place from ``p.grad.data``.
"""

from . import lr_scheduler as lr_scheduler

# issue 12: Adadelta and LBFGS
from .adadelta import Adadelta as Adadelta  # noqa: E402
from .adagrad import Adagrad as Adagrad
from .adam import Adam as Adam
from .adamw import AdamW as AdamW
from .lbfgs import LBFGS as LBFGS  # noqa: E402
from .optimizer import Optimizer as Optimizer
from .rmsprop import RMSprop as RMSprop
from .sgd import SGD as SGD

__all__ = ["Optimizer", "SGD", "Adagrad", "RMSprop", "Adam", "AdamW", "lr_scheduler"]
__all__ += ["Adadelta", "LBFGS"]
