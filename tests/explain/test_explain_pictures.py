"""The pictures are valid, non-blank, small PNGs; without matplotlib the error names the extra."""

from __future__ import annotations

import builtins

import numpy as np
import pytest

from deeprnn.explain import ExplainConfig, explain
from deeprnn.explain.pictures import EXPLODE_RADIUS, VANISH_RADIUS, gradient_norm_curves
from deeprnn.explain.problem import make_problem

mpimg = pytest.importorskip("matplotlib.image")


def test_pictures_are_written_and_not_blank(tmp_path):
    rep = explain(ExplainConfig(3, 4, 2, bidirectional=True, seq_len=8), pictures_dir=tmp_path, color=False)
    assert [p.name for p in rep.pictures] == [
        "unrolled.png",
        "hidden_states.png",
        "gradient_norms.png",
    ]
    for p in rep.pictures:
        assert p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert p.stat().st_size < 200_000
        img = mpimg.imread(p)
        assert img.ndim == 3 and img.shape[0] > 100 and img.shape[1] > 100
        assert float(np.var(img[..., :3])) > 1e-3
    assert "[PNG]" in rep.text


def test_gradient_picture_shows_vanishing_and_exploding():
    curves = gradient_norm_curves(make_problem("two-layer"))
    for act in ("tanh", "relu"):
        g = curves[VANISH_RADIUS, act]
        assert g[0] < 1e-6 * g[-1]  # vanishes going back in time
    g = curves[EXPLODE_RADIUS, "relu"]
    assert g[0] > 1e3 * g[-1]  # explodes going back in time


def test_html_embeds_pictures(tmp_path):
    rep = explain("chapter4", fmt="html", pictures_dir=tmp_path)
    assert rep.text.count("data:image/png;base64,") == 3


def test_missing_matplotlib_names_the_extra(tmp_path, monkeypatch):
    real = builtins.__import__

    def fake(name, *a, **k):
        if name.startswith("matplotlib"):
            raise ImportError(name)
        return real(name, *a, **k)

    monkeypatch.setattr(builtins, "__import__", fake)
    with pytest.raises(ImportError, match=r'pip install "deeprnn\[plot\]"'):
        explain("chapter4", pictures_dir=tmp_path / "p")
    assert not (tmp_path / "p").exists()
