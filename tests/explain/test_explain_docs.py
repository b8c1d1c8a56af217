"""The sample reports in docs/explain are what tools/explain_docs.py writes today (text; the
pictures are compared by name only), so a change to the explainer cannot leave them stale.

The largest differences between the trace and the module (check lines, the relations table)
are rounding, and differ with the kernel backend and BLAS: they are compared as placeholders.
"""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest

from deeprnn.explain import explain

ROOT = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("explain_docs", ROOT / "tools" / "explain_docs.py")
docs = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(docs)


_DIFF = re.compile(r"\d\.\d+e[-+]\d+")


def _normal(text: str) -> str:
    """The report with the rounding differences of its checks replaced by '<diff>'."""
    lines = []
    for line in text.rstrip().splitlines():
        if "✓" in line or "✗" in line or line.lstrip("| ").startswith("h_n["):
            line = _DIFF.sub("<diff>", line)
        lines.append(line)
    return "\n".join(lines)


@pytest.mark.parametrize("report", docs.REPORTS, ids=[r[2] for r in docs.REPORTS])
def test_docs_are_current(report):
    name, lang, file, pictures, fmt = report
    committed = (docs.DOCS / file).read_text(encoding="utf-8")
    fresh = explain(name, lang=lang, fmt=fmt, backward=True, color=False).text  # without the pictures
    if pictures is None:
        assert _normal(committed) == _normal(fresh), f"docs/explain/{file} is stale: run python tools/explain_docs.py"
        return
    text, sep, pics = committed.partition("\n## 9. ")
    assert sep, f"docs/explain/{file} has no pictures section"
    assert _normal(text) == _normal(fresh), f"docs/explain/{file} is stale: run python tools/explain_docs.py"
    for png in ("unrolled.png", "hidden_states.png", "gradient_norms.png"):
        assert f"]({pictures}/{png})" in pics and (docs.DOCS / pictures / png).is_file()


def test_readme_lists_every_report():
    readme = (docs.DOCS / "README.md").read_text(encoding="utf-8")
    for _, _, file, _, _ in docs.REPORTS:
        assert f"({file})" in readme, file
