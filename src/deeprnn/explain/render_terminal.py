"""Blocks as aligned terminal text, coloured with ANSI codes when asked to.

Widths are display widths: a CJK character takes two columns, so Chinese tables align.
"""

from __future__ import annotations

import os
import unicodedata
from typing import TextIO

from .blocks import Block, CheckLine, Heading, Para, Picture, Pre, Table

__all__ = ["render_terminal", "use_color", "display_width"]

BOLD, DIM, RESET = "\x1b[1m", "\x1b[2m", "\x1b[0m"
CYAN, GREEN, RED, YELLOW = "\x1b[36m", "\x1b[32m", "\x1b[31m", "\x1b[33m"


def use_color(color: bool | None, stream: TextIO | None) -> bool:
    """color=True/False wins; None means: only on a TTY, and never when NO_COLOR is set."""
    if color is not None:
        return bool(color)
    if os.environ.get("NO_COLOR"):
        return False
    return bool(stream is not None and hasattr(stream, "isatty") and stream.isatty())


def display_width(s: str) -> int:
    """Columns `s` takes in a terminal (wide East Asian characters count twice)."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in s)


def _pad(s: str, width: int) -> str:
    return s + " " * (width - display_width(s))


def _wrap(text: str, width: int, indent: str = "", first: str | None = None) -> list[str]:
    """Greedy wrap by display width; breaks at spaces, or anywhere inside CJK text.

    `first` replaces `indent` on the first line (e.g. a bullet).
    """
    lines, cur = [], indent if first is None else first
    for token in _tokens(text):
        if display_width(cur) + display_width(token) > width and cur.strip():
            lines.append(cur.rstrip())
            cur = indent + token.lstrip()
        else:
            cur += token
    if cur.strip():
        lines.append(cur.rstrip())
    return lines


def _tokens(text: str) -> list[str]:
    """Words with their leading space, and single wide characters."""
    out: list[str] = []
    word = ""
    for ch in text:
        if unicodedata.east_asian_width(ch) in "WF":
            if word:
                out.append(word)
                word = ""
            out.append(ch)
        elif ch == " ":
            if word:
                out.append(word)
            word = " "
        else:
            word += ch
    if word:
        out.append(word)
    return out


def render_terminal(blocks: list[Block], color: bool = False, width: int = 100) -> str:
    """Plain or ANSI-coloured text from the report blocks, tables fitted to width columns."""

    def paint(s: str, *codes: str) -> str:
        return "".join(codes) + s + RESET if color else s

    out: list[str] = []
    for i, b in enumerate(blocks):
        if isinstance(b, Heading):
            if b.level == 1:
                out += [paint(b.text, BOLD), paint("=" * display_width(b.text), BOLD)]
            elif b.level == 2:
                out += ["", paint(b.text, BOLD, CYAN), paint("─" * display_width(b.text), CYAN)]
            else:
                out += ["", paint(b.text, BOLD, YELLOW)]
        elif isinstance(b, Para):
            lines = _wrap(b.text, width, "    ", first="  · ") if b.note else _wrap(b.text, width)
            out += [paint(ln, DIM) if b.note else ln for ln in lines]
        elif isinstance(b, Table):
            cols = len(b.header)
            widths = [max(display_width(r[i]) for r in [b.header, *b.rows]) for i in range(cols)]
            head = "  ".join(_pad(h, w) for h, w in zip(b.header, widths)).rstrip()
            out += [paint(head, BOLD), "  ".join("─" * w for w in widths)]
            out += ["  ".join(_pad(c, w) for c, w in zip(r, widths)).rstrip() for r in b.rows]
        elif isinstance(b, Pre):
            for ln in b.lines:
                out.append(paint(ln, BOLD) if ln and not ln.startswith(" ") else ln)
        elif isinstance(b, CheckLine):
            word = paint(b.ok_word, BOLD, GREEN) if b.ok else paint(b.fail_word, BOLD, RED)
            out.append(f"  {'✓' if b.ok else '✗'} {b.text}  {word}")
        elif isinstance(b, Picture):
            out += [f"  [PNG] {b.path}", *_wrap(b.caption, width, "        ")]
        following = blocks[i + 1] if i + 1 < len(blocks) else None
        if not isinstance(b, Heading) and not (isinstance(b, CheckLine) and isinstance(following, CheckLine)):
            out.append("")
    return "\n".join(out).rstrip() + "\n"
