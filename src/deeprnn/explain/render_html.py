"""Blocks as one self-contained HTML page: inline CSS, pictures embedded as base64 PNG."""

from __future__ import annotations

import base64
from html import escape

from .blocks import Block, CheckLine, Heading, Para, Picture, Pre, Table

__all__ = ["render_html"]

CSS = """
body { font-family: system-ui, "Noto Sans CJK SC", sans-serif; max-width: 60rem; margin: 2rem auto;
       padding: 0 1rem; line-height: 1.5; color: #222; }
h2 { border-bottom: 1px solid #ccc; margin-top: 2rem; }
table { border-collapse: collapse; margin: 0.5rem 0; }
th, td { border: 1px solid #ccc; padding: 0.2rem 0.5rem; text-align: left; vertical-align: top; }
th { background: #f3f3f3; }
pre { background: #f7f7f7; padding: 0.6rem; overflow-x: auto; font-size: 0.85rem; }
p.note { color: #555; border-left: 3px solid #ccc; padding-left: 0.6rem; }
.check.ok b { color: #176f2c; } .check.fail b { color: #b00020; }
figure img { max-width: 100%; } figcaption { color: #555; font-size: 0.9rem; }
"""


def render_html(blocks: list[Block], lang: str = "en") -> str:
    """A standalone HTML page (UTF-8, inline CSS) from the report blocks."""
    title = next((b.text for b in blocks if isinstance(b, Heading)), "deeprnn explain")
    body: list[str] = []
    for b in blocks:
        if isinstance(b, Heading):
            body.append(f"<h{b.level}>{escape(b.text)}</h{b.level}>")
        elif isinstance(b, Para):
            body.append(f'<p class="note">{escape(b.text)}</p>' if b.note else f"<p>{escape(b.text)}</p>")
        elif isinstance(b, Table):
            head = "".join(f"<th>{escape(h)}</th>" for h in b.header)
            rows = "".join("<tr>" + "".join(f"<td>{escape(c)}</td>" for c in r) + "</tr>" for r in b.rows)
            body.append(f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>")
        elif isinstance(b, Pre):
            body.append('<pre class="equation">' + escape("\n".join(b.lines)) + "</pre>")
        elif isinstance(b, CheckLine):
            cls, word = ("ok", b.ok_word) if b.ok else ("fail", b.fail_word)
            mark = "✓" if b.ok else "✗"
            body.append(f'<p class="check {cls}">{mark} {escape(b.text)} <b>{escape(word)}</b></p>')
        elif isinstance(b, Picture):
            data = base64.b64encode(b.path.read_bytes()).decode("ascii")
            body.append(
                f'<figure><img alt="{escape(b.caption)}" src="data:image/png;base64,{data}">'
                f"<figcaption>{escape(b.caption)}</figcaption></figure>"
            )
    html_lang = "zh-CN" if lang == "zh" else "en"
    return (
        f'<!DOCTYPE html>\n<html lang="{html_lang}">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{escape(title)}</title>\n<style>{CSS}</style>\n</head>\n<body>\n"
        + "\n".join(body)
        + "\n</body>\n</html>\n"
    )
