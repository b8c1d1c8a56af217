"""Every code listing in the seeds runs with only its imports changed, and behaves as the text says.

The chapter 1 and 2 listings are replayed with real torch on the same random draws and
their losses must agree; the text's own claims (the loss falls to the values shown, the
shapes printed) are checked too.
"""

from __future__ import annotations

import contextlib
import io
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

import deeprnn
from oracle import RTOL, assert_close

EXAMPLES = Path(__file__).resolve().parents[1] / "examples" / "seeds"


def source(name: str, lib: str) -> str:
    src = (EXAMPLES / name).read_text(encoding="utf-8")
    if lib == "torch":
        src = src.replace("import deeprnn as torch", "import torch")
        src = src.replace("from deeprnn import autograd", "from torch import autograd")
        src = src.replace("import deeprnn.nn as nn", "import torch.nn as nn")
    return src


def run_listing(
    name: str, lib: str, monkeypatch: pytest.MonkeyPatch, draws: list[np.ndarray] | None = None
) -> tuple[np.ndarray, dict, list[np.ndarray], str]:
    """Run a listing; returns the losses it printed (full precision), its namespace, the
    randn draws (recorded, or replayed from ``draws``) and the printed text. The network
    output ``o`` of every iteration is collected in ``namespace["_outputs"]``."""
    module: Any = deeprnn if lib == "deeprnn" else torch
    module.manual_seed(0)  # the listings draw from the global generator; fix it for reproducibility
    recorded: list[np.ndarray] = []
    real = module.randn
    queue = None if draws is None else list(draws)

    def randn(*size: Any, requires_grad: bool = False, **kw: Any) -> Any:
        if queue is not None:
            return module.tensor(queue.pop(0), requires_grad=requires_grad)
        t = real(*size, requires_grad=requires_grad, **kw)
        recorded.append(np.array(t.detach().numpy()))
        return t

    monkeypatch.setattr(module, "randn", randn)
    losses: list[float] = []
    outputs: list[np.ndarray] = []
    text = io.StringIO()

    def capture(*args: Any, **kw: Any) -> None:
        if args and isinstance(args[0], str) and args[0] == "err = ":
            losses.append(float(np.asarray(args[1].detach().numpy(), dtype=np.float64).sum()))
            outputs.append(np.array(ns["o"].detach().numpy()))
        print(*args, **kw, file=text)

    ns: dict = {"print": capture, "__name__": "__main__", "_outputs": outputs}
    with contextlib.redirect_stdout(text):
        exec(compile(source(name, lib), name, "exec"), ns)  # noqa: S102 - the seed listing itself
    return np.array(losses), ns, recorded if queue is None else list(draws), text.getvalue()


def assert_losses_follow_outputs(ours: np.ndarray, ref: np.ndarray, o_ref: np.ndarray, dtype: Any) -> None:
    """The losses agree as far as the outputs do.

    err = sum((o - y)^2), so an output discrepancy |do| <= rtol * max|o| moves err by at most
    2 * ||o - y|| * sqrt(n) * |do| to first order; on top of that err itself is held to rtol.
    While the residual is large this is the plain relative tolerance.
    """
    rtol = RTOL[np.dtype(dtype)]
    n = o_ref[0].size
    allowed = 2 * np.sqrt(ref) * np.sqrt(n) * rtol * np.abs(o_ref).reshape(len(o_ref), -1).max(axis=1) + rtol * ref
    bad = np.abs(ours - ref) > allowed
    assert not bad.any(), f"losses differ beyond the outputs' tolerance at iterations {np.flatnonzero(bad)[:10]}"
    early = slice(0, 10)
    assert_close(ours[early].astype(dtype), ref[early].astype(dtype), what="the first ten losses")


@pytest.mark.parametrize("name", ["ch1_simplest_rnn.py", "ch2_multi_io_rnn.py"])
def test_training_listing_matches_torch_in_float32(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """float32, as written: the network output of all 299 iterations agrees to 1e-5.

    Chapter 2's loss is a sum of squared residuals o - y of outputs near 100, so once the
    residual is small its digits are set by float32's resolution of o (ulp(100) = 7.6e-6),
    not by the maths; see ``assert_losses_follow_outputs``."""
    ours, ns, draws, _ = run_listing(name, "deeprnn", monkeypatch)
    ref, ref_ns, _, _ = run_listing(name, "torch", monkeypatch, draws)
    assert len(ours) == len(ref) == 299
    assert ns["err"].detach().numpy().dtype == np.float32
    o_ours, o_ref = np.array(ns["_outputs"]), np.array(ref_ns["_outputs"])
    assert_close(o_ours, o_ref, what="outputs of every iteration")
    assert_losses_follow_outputs(ours, ref, o_ref, np.float32)


@pytest.mark.parametrize("name", ["ch1_simplest_rnn.py", "ch2_multi_io_rnn.py"])
def test_training_listing_matches_torch_in_float64(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """With float64 as both libraries' default dtype: outputs agree to 1e-10, losses while conditioned."""
    monkeypatch.setattr(deeprnn.autograd.dtypes, "_default", {"dtype": np.dtype(np.float64)})
    prev = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        ours, ns, draws, _ = run_listing(name, "deeprnn", monkeypatch)
        ref, ref_ns, _, _ = run_listing(name, "torch", monkeypatch, draws)
    finally:
        torch.set_default_dtype(prev)
    assert ns["err"].detach().numpy().dtype == np.float64
    assert len(ours) == len(ref) == 299
    o_ours, o_ref = np.array(ns["_outputs"]), np.array(ref_ns["_outputs"])
    assert_close(o_ours, o_ref, what="outputs of every iteration")
    assert_losses_follow_outputs(ours, ref, o_ref, np.float64)


def test_chapter1_loss_falls_as_the_text_shows(monkeypatch: pytest.MonkeyPatch) -> None:
    e, _, _, text = run_listing("ch1_simplest_rnn.py", "deeprnn", monkeypatch)
    assert text.splitlines()[0].startswith("err =  tensor([0.") and "grad_fn=<PowBackward0>" in text
    # Whatever h_{t-1} the listing draws, the first loss is at least (1 - tanh(0.9))^2 = 0.08.
    assert e[0] > 0.08 and e[-1] < e[0] / 5 and np.all(np.diff(e[5:]) <= 1e-6)
    assert e[-1] == pytest.approx(0.0158, abs=0.0002)  # the text ends at 0.0158


def test_chapter2_loss_falls_as_the_text_shows(monkeypatch: pytest.MonkeyPatch) -> None:
    e, _, _, text = run_listing("ch2_multi_io_rnn.py", "deeprnn", monkeypatch)
    assert "grad_fn=<SumBackward0>" in text.splitlines()[0]
    assert e[0] > 1e4  # the text starts at 40127.1875
    assert e[-1] < 1e-6  # and ends at 3.3528e-08


def test_chapter4_shapes(monkeypatch: pytest.MonkeyPatch) -> None:
    _, ns, _, _ = run_listing("ch4_pytorch_rnn.py", "deeprnn", monkeypatch)
    assert tuple(ns["output"].shape) == (4, 5, 2)
    assert tuple(ns["hn"].shape) == (1, 5, 2)
    np.testing.assert_array_equal(ns["output"].detach().numpy()[-1], ns["hn"].detach().numpy()[0])


@pytest.mark.parametrize(
    "name, out_shape, batch_first",
    [("multilayer_time_major.py", (4, 2, 5), False), ("multilayer_batch_first.py", (2, 4, 5), True)],
)
def test_multilayer_listings(name: str, out_shape: tuple, batch_first: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    _, ns, _, text = run_listing(name, "deeprnn", monkeypatch)
    in_shape = (4, 2, 3) if not batch_first else (2, 4, 3)
    assert f"Input shape: torch.Size({list(in_shape)})" in text
    assert "h0 shape: torch.Size([2, 2, 5])" in text
    assert f"Output shape: torch.Size({list(out_shape)})" in text
    assert "hn shape: torch.Size([2, 2, 5])" in text
    out, hn = ns["output"].detach().numpy(), ns["hn"].detach().numpy()
    last = out[-1] if not batch_first else out[:, -1]
    np.testing.assert_array_equal(last, hn[1])  # output's last step is the top layer's h_n
    # The same network in torch, with the same weights, gives the same numbers.
    ref = torch.nn.RNN(3, 5, 2, batch_first=batch_first)
    ref.load_state_dict({k: torch.tensor(v.detach().numpy()) for k, v in ns["rnn"].state_dict().items()})
    r_out, r_hn = ref(torch.tensor(ns["input_data"].detach().numpy()), torch.zeros(2, 2, 5))
    assert_close(out, r_out, what="output")
    assert_close(hn, r_hn, what="h_n")
