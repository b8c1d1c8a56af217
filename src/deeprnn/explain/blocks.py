"""The pieces a report is made of, already in the reader's language; renderers only lay them out."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

__all__ = ["Heading", "Para", "Table", "Pre", "CheckLine", "Picture", "Block"]


@dataclass
class Heading:
    """A heading: level 1 title, 2 section, 3 sub-section."""

    level: int  # 1 title, 2 section, 3 sub-section
    text: str


@dataclass
class Para:
    """A paragraph; note=True marks an aside."""

    text: str
    note: bool = False  # an aside (printed dimmer / as a quote)


@dataclass
class Table:
    """A table: header cells and rows of cells, all strings."""

    header: list[str]
    rows: list[list[str]]


@dataclass
class Pre:
    """Preformatted lines: equations with their numbers. `label_width` aligns 'label = value'."""

    lines: list[str]


@dataclass
class CheckLine:
    """One check with its largest difference and whether it passed."""

    text: str
    diff: float
    ok: bool
    ok_word: str
    fail_word: str


@dataclass
class Picture:
    """A PNG written beside the report, with its caption."""

    path: Path
    caption: str


Block = Heading | Para | Table | Pre | CheckLine | Picture
