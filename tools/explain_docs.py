#!/usr/bin/env python3
"""Regenerate the sample reports of ``deeprnn explain`` in docs/explain/ (README.md there lists them).

    python tools/explain_docs.py            # from the repository root

Each report is the seed's two-layer example (input_size 3, hidden_size 5, 2 layers, the seed's
literal 4x2x3 input, h0 = zeros) with ``backward=True`` (loss = sum(output)): as the Elman RNN
('two-layer'), as an LSTM ('two-layer-lstm') and as a GRU ('two-layer-gru'), in English and
Chinese Markdown with pictures, and the RNN's in the terminal format too.
tests/explain/test_explain_docs.py checks that the committed reports are what this writes.
"""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs" / "explain"
# (example, language, file name, pictures folder under docs/explain or None, format)
REPORTS = [
    ("two-layer", "en", "two-layer.md", "pictures", "markdown"),
    ("two-layer", "zh", "two-layer.zh.md", "pictures", "markdown"),
    ("two-layer", "en", "two-layer.txt", None, "terminal"),
    ("two-layer-lstm", "en", "two-layer-lstm.md", "pictures/lstm", "markdown"),
    ("two-layer-lstm", "zh", "two-layer-lstm.zh.md", "pictures/lstm", "markdown"),
    ("two-layer-gru", "en", "two-layer-gru.md", "pictures/gru", "markdown"),
    ("two-layer-gru", "zh", "two-layer-gru.zh.md", "pictures/gru", "markdown"),
]


def main() -> None:
    from deeprnn.explain import explain

    for name, lang, file, pictures, fmt in REPORTS:
        out = DOCS / file
        explain(
            name,
            lang=lang,
            fmt=fmt,
            backward=True,
            color=False,
            pictures_dir=None if pictures is None else DOCS / pictures,
            out=out,
        )
        print(f"wrote {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
