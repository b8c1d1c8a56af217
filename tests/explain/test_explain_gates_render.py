"""LSTM and GRU reports: every mode x language x forward/backward renders in the three formats,
with each gate's equation, shape and numbers, the gate blocks of the stacked weights, the
cell state (LSTM), and the BPTT through the gates; the seed's terms in Chinese."""

from __future__ import annotations

import itertools
from html.parser import HTMLParser

import pytest

from deeprnn.explain import ExplainConfig, explain
from deeprnn.explain.render_html import render_html
from deeprnn.explain.render_markdown import render_markdown

VOID = {"meta", "img", "br", "hr", "link", "input"}

# Written out from PyTorch's documented equations (torch.nn.LSTM / torch.nn.GRU), not from our output.
FORWARD = {
    "lstm": [
        "i_t = sigmoid(W_ii x_t + b_ii + W_hi h_(t-1) + b_hi)",
        "f_t = sigmoid(W_if x_t + b_if + W_hf h_(t-1) + b_hf)",
        "g_t = tanh(W_ig x_t + b_ig + W_hg h_(t-1) + b_hg)",
        "o_t = sigmoid(W_io x_t + b_io + W_ho h_(t-1) + b_ho)",
        "c_t = f_t ⊙ c_(t-1) + i_t ⊙ g_t",
        "h_t = o_t ⊙ tanh(c_t)",
        "f_1 = sigmoid(W_if x_1 + b_if + W_hf h_0 + b_hf)",
        "c_1 = f_1 ⊙ c_0 + i_1 ⊙ g_1",
        "c_0 = c0[0]",
        "weight_ih_l0[0:4] = W_ii (4, 3)",
        "weight_ih_l0[4:8] = W_if (4, 3)",
        "weight_hh_l0[12:16] = W_ho (4, 4)",
        "(16, 3)",
        "c_n",
    ],
    "gru": [
        "n_t = tanh(W_in x_t + b_in + r_t ⊙ (W_hn h_(t-1) + b_hn))",
        "h_t = (1 − z_t) ⊙ n_t + z_t ⊙ h_(t-1)",
        "r_1 = sigmoid(W_ir x_1 + b_ir + W_hr h_0 + b_hr)",
        "n_1 = tanh(W_in x_1 + b_in + r_1 ⊙ (W_hn h_0 + b_hn))",
        "weight_ih_l0[8:12] = W_in (4, 3)",
        "weight_hh_l0[0:4] = W_hr (4, 4)",
        "(12, 3)",
    ],
}
BACKWARD = {
    "lstm": ["dL/dc_", "da_f", "dc_0 = dc ⊙ f_1", "df_1", "dc ⊙ f_t"],
    "gru": ["da_r", "dr_1", "r_1 ⊙ da_n", "dL/dh_1 ⊙ z_1", "dr = da_n ⊙ (W_hn h_prev + b_hn)"],
}
WORDS = {
    ("lstm", "en"): ["input gate", "forget gate", "output gate", "cell state", "candidate", "Explaining an LSTM"],
    ("gru", "en"): ["reset gate", "update gate", "candidate", "Explaining a GRU"],
    ("lstm", "zh"): ["遗忘门", "输入门", "输出门", "细胞状态", "候选状态", "隐层", "时间步"],
    ("gru", "zh"): ["重置门", "更新门", "候选状态", "隐层", "时间步"],
}
CASES = list(itertools.product(["lstm", "gru"], ["en", "zh"], [False, True]))


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


@pytest.mark.parametrize(
    "kind, lang, backward", CASES, ids=[f"{k}-{lang}-{'bwd' if b else 'fwd'}" for k, lang, b in CASES]
)
def test_every_mode_language_and_direction_renders_in_every_format(kind, lang, backward, tmp_path):
    cfg = ExplainConfig(3, 4, 2, bidirectional=True, seq_len=3, batch_size=2, mode=kind)
    rep = explain(cfg, lang=lang, backward=backward, color=False)
    assert rep.ok
    md, html = render_markdown(rep.blocks), render_html(rep.blocks, lang=lang)
    p = _Balance()
    p.feed(html)
    p.close()
    assert not p.errors and not p.stack
    html_text = "".join(p.text)
    assert md.count("```") % 2 == 0
    expected = FORWARD[kind] + (BACKWARD[kind] if backward else []) + WORDS[kind, lang]
    for text in (rep.text, md, html_text):
        for part in expected:
            assert part in text, (part, kind, lang)
    if not backward:
        assert "da_" not in rep.text
    # through explain's own fmt and out, as the CLI writes it
    out = tmp_path / "r.md"
    explain(cfg, lang=lang, backward=backward, fmt="markdown", out=out)
    assert out.read_text(encoding="utf-8") == md


def test_lstm_report_names_the_module_and_its_cell_state_checks():
    text = explain(ExplainConfig(2, 3, 1, mode="lstm"), color=False).text
    assert "largest |trace − nn.LSTM| in c_n" in text and "nn.RNN" not in text
    text = explain(ExplainConfig(2, 3, 1, mode="gru"), backward=True, color=False).text
    assert "largest |trace − nn.GRU| in dweight_hh_l0" in text and "c_n" not in text


def test_gate_numbers_in_the_report_are_the_trace_numbers():
    """The printed forget gate of step 1 is sigmoid of the printed pre-activation (4 decimals)."""
    import numpy as np

    rep = explain(ExplainConfig(2, 3, 1, seq_len=2, batch_size=1, mode="lstm"), color=False, seed=3)
    lines = rep.text.splitlines()
    pre = next(ln for ln in lines if ln.strip().startswith("= a_f"))
    val = next(ln for ln in lines if ln.strip().startswith("f_1 = sigmoid(a_f)"))
    a = np.array([float(v) for v in pre.split("[")[1].rstrip("]").split(",")])
    f = np.array([float(v) for v in val.split("[")[1].rstrip("]").split(",")])
    assert np.allclose(f, 1 / (1 + np.exp(-a)), atol=2e-4)


def test_max_steps_shortens_gate_reports_but_checks_everything():
    rep = explain(ExplainConfig(2, 3, 1, seq_len=12, mode="gru"), max_steps=4, backward=True, color=False)
    assert "8 time steps left out" in rep.text and "time step t = 12" in rep.text and rep.ok
    assert "time step t = 6 " not in rep.text
