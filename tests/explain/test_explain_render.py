"""Reports render in both languages and the three formats; colour follows the rules."""

from __future__ import annotations

import io
from html.parser import HTMLParser

import pytest

from deeprnn.explain import ExplainConfig, explain

VOID = {"meta", "img", "br", "hr", "link", "input"}


class _Balance(HTMLParser):
    def __init__(self):
        super().__init__()
        self.stack, self.errors, self.text = [], [], []

    def handle_starttag(self, tag, attrs):
        if tag not in VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag):
        if not self.stack or self.stack.pop() != tag:
            self.errors.append(tag)

    def handle_data(self, data):
        self.text.append(data)


def test_chinese_uses_the_seed_terms():
    text = explain("two-layer", lang="zh", backward=True, color=False).text
    for term in (
        "隐层",
        "权重矩阵",
        "偏差",
        "时间步",
        "样本特征数",
        "隐层神经元状态量特征数",
        "序列长度",
        "batch 的长度",
    ):
        assert term in text, term
    assert "双向" in explain(ExplainConfig(bidirectional=True), lang="zh", color=False).text


def test_english_terminal_has_every_section_and_equation():
    text = explain(ExplainConfig(2, 3, 2, bidirectional=True), backward=True, color=False).text
    for part in (
        "h_t = tanh(W_ih x_t + b_ih + W_hh h_(t-1) + b_hh)",
        "weight_ih_l1_reverse",
        "(3, 6)",
        "Layer 1, reverse direction",
        "output[0, :, 3:6]",
        "largest |trace − nn.RNN| in output",
        "dL/dh_",
        "act'(a_",
        "d_input",
    ):
        assert part in text, part
    assert "\x1b[" not in text


def test_colour_rules(monkeypatch):
    monkeypatch.delenv("NO_COLOR", raising=False)
    assert "\x1b[" in explain("chapter4", color=True).text
    buf = io.StringIO()  # not a TTY
    explain("chapter4", out=buf)
    assert "\x1b[" not in buf.getvalue() and buf.getvalue().startswith("Explaining")

    class Tty(io.StringIO):
        def isatty(self):
            return True

    tty = Tty()
    explain("chapter4", out=tty)
    assert "\x1b[" in tty.getvalue()
    monkeypatch.setenv("NO_COLOR", "1")
    tty = Tty()
    explain("chapter4", out=tty)
    assert "\x1b[" not in tty.getvalue()


def test_markdown_report(tmp_path):
    out = tmp_path / "r.md"
    rep = explain("two-layer-batch-first", fmt="markdown", backward=True, out=out)
    md = out.read_text(encoding="utf-8")
    assert md == rep.text and md.startswith("# ")
    assert "| weight_ih_l0 | (5, 3) |" in md and "```text" in md and md.count("```") % 2 == 0


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_html_report_is_balanced_and_has_equations(tmp_path, lang):
    out = tmp_path / "r.html"
    explain(ExplainConfig(3, 4, 2, bidirectional=True), fmt="html", lang=lang, backward=True, out=out)
    html = out.read_text(encoding="utf-8")
    p = _Balance()
    p.feed(html)
    p.close()
    assert not p.errors and not p.stack
    text = "".join(p.text)
    assert "h_t = tanh(W_ih x_t + b_ih + W_hh h_(t-1) + b_hh)" in text
    assert "h_t = tanh(W_ih x_t + b_ih + W_hh h_(t+1) + b_hh)" in text
    assert html.startswith("<!DOCTYPE html>") and f'lang="{"zh-CN" if lang == "zh" else "en"}"' in html


def test_max_steps_shortens_but_checks_everything():
    rep = explain(ExplainConfig(2, 3, 1, seq_len=20), max_steps=4, color=False)
    assert "16 time steps left out" in rep.text and "time step t = 20" in rep.text
    assert "time step t = 10 " not in rep.text and rep.ok


def test_large_tensors_are_shortened():
    text = explain(ExplainConfig(12, 16, 1, batch_size=5), color=False).text
    assert "…" in text and "⋮" in text
    assert max(len(line) for line in text.splitlines() if line.startswith("  h_1 = tanh(a_1)")) < 110


def test_both_languages_have_the_same_messages():
    from deeprnn.explain.text_en import MESSAGES as EN
    from deeprnn.explain.text_zh import MESSAGES as ZH

    assert EN.keys() == ZH.keys()
    for k in EN:  # the same placeholders, so every key formats in both languages
        assert sorted(__import__("re").findall(r"{(\w+)}", EN[k])) == sorted(
            __import__("re").findall(r"{(\w+)}", ZH[k])
        ), k


def test_the_package_itself_is_callable():
    import deeprnn.explain as ex

    assert ex("chapter4", color=False).ok
