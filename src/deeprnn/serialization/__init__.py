"""``deeprnn.serialization``: torch's ``.pt`` file format, read and written safely (``torch.serialization``).

``deeprnn.save`` / ``deeprnn.load`` are ``save`` / ``load`` here. Files go both ways between
torch and deeprnn with no conversion: ``model.load_state_dict(deeprnn.load("torch_saved.pt"))``.
Loading is weights-only by default: an allow-list unpickler, see ``allowlist.py``.
"""

from .allowlist import add_safe_globals as add_safe_globals
from .allowlist import clear_safe_globals as clear_safe_globals
from .allowlist import get_safe_globals as get_safe_globals
from .allowlist import safe_globals as safe_globals
from .api import DEFAULT_PROTOCOL as DEFAULT_PROTOCOL
from .api import get_unsafe_globals_in_checkpoint as get_unsafe_globals_in_checkpoint
from .api import load as load
from .api import save as save

__all__ = [
    "DEFAULT_PROTOCOL",
    "add_safe_globals",
    "clear_safe_globals",
    "get_safe_globals",
    "get_unsafe_globals_in_checkpoint",
    "load",
    "safe_globals",
    "save",
]
