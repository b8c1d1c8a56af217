"""Look up the report's text by language and key."""

from __future__ import annotations

from .text_en import MESSAGES as EN
from .text_zh import MESSAGES as ZH

__all__ = ["LANGS", "Messages"]

LANGS = {"en": EN, "zh": ZH}


class Messages:
    """``msg('key', **values)``: the text of `key` in one language, formatted.

    ``mod`` fills the ``{mod}`` of every message: the module explained ('nn.RNN', 'nn.LSTM', 'nn.GRU').
    """

    def __init__(self, lang: str, mod: str = "nn.RNN") -> None:
        if lang not in LANGS:
            raise ValueError(f"lang must be one of {sorted(LANGS)}, got {lang!r}")
        self.lang = lang
        self.mod = mod
        self._table = LANGS[lang]

    def __call__(self, key: str, **values: object) -> str:
        return self._table[key].format(**{"mod": self.mod, **values})

    def cols(self, key: str) -> list[str]:
        """A table header stored as 'a|b|c'."""
        return self._table[key].split("|")
