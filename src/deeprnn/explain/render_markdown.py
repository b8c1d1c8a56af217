"""Blocks as a Markdown report: tables, fenced equations, pictures linked by relative path."""

from __future__ import annotations

import os
from pathlib import Path

from .blocks import Block, CheckLine, Heading, Para, Picture, Pre, Table

__all__ = ["render_markdown"]


def _cell(s: str) -> str:
    return s.replace("|", "\\|")


def render_markdown(blocks: list[Block], base_dir: Path | None = None) -> str:
    """`base_dir`: where the report will be written, so picture links are relative to it."""
    out: list[str] = []
    for b in blocks:
        if isinstance(b, Heading):
            out.append("#" * b.level + " " + b.text)
        elif isinstance(b, Para):
            out.append(("> " if b.note else "") + b.text)
        elif isinstance(b, Table):
            out.append("| " + " | ".join(_cell(h) for h in b.header) + " |")
            out.append("|" + "---|" * len(b.header))
            out += ["| " + " | ".join(_cell(c) for c in r) + " |" for r in b.rows]
        elif isinstance(b, Pre):
            out += ["```text", *b.lines, "```"]
        elif isinstance(b, CheckLine):
            out.append(f"- {'✓' if b.ok else '✗'} {b.text} — **{b.ok_word if b.ok else b.fail_word}**")
        elif isinstance(b, Picture):
            link = Path(os.path.relpath(b.path, base_dir)) if base_dir is not None else b.path
            out += [f"![{b.caption}]({link.as_posix()})", "", f"*{b.caption}*"]
        out.append("")
    return "\n".join(out).rstrip() + "\n"
