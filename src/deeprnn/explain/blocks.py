"""The pieces a report is made of, already in the reader's language; renderers only lay them out."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

__all__ = ["Heading", "Para", "Table", "Pre", "CheckLine", "Picture", "Block"]


@dataclass
class Heading:
    level: int  # 1 title, 2 section, 3 sub-section
    text: str


@dataclass
class Para:
    text: str
    note: bool = False  # an aside (printed dimmer / as a quote)


@dataclass
class Table:
    header: list[str]
    rows: list[list[str]]


@dataclass
class Pre:
    """Preformatted lines: equations with their numbers. `label_width` aligns 'label = value'."""

    lines: list[str]


@dataclass
class CheckLine:
    text: str
    diff: float
    ok: bool
    ok_word: str
    fail_word: str


@dataclass
class Picture:
    path: Path
    caption: str


Block = Heading | Para | Table | Pre | CheckLine | Picture
