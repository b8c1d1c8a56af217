"""nn.Module bookkeeping: registration, state_dict round trips, load errors, modes, dtype casts."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import deeprnn
from deeprnn import nn


class Two(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.rnn = nn.RNN(3, 4, 2)
        self.cell = nn.RNNCell(4, 4)
        self.scale = nn.Parameter(deeprnn.ones(1))


class TorchTwo(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.rnn = torch.nn.RNN(3, 4, 2)
        self.cell = torch.nn.RNNCell(4, 4)
        self.scale = torch.nn.Parameter(torch.ones(1))


def test_named_parameters_are_dotted_and_ordered_as_torch() -> None:
    names = [n for n, _ in Two().named_parameters()]
    assert names == [n for n, _ in TorchTwo().named_parameters()]
    assert list(Two().state_dict()) == list(TorchTwo().state_dict())


def test_state_dict_round_trip_from_numpy_and_torch() -> None:
    a, b = nn.RNN(3, 4, 2, bidirectional=True), nn.RNN(3, 4, 2, bidirectional=True)
    b.load_state_dict({k: v.numpy() for k, v in a.state_dict().items()})
    assert all(np.array_equal(p.detach().numpy(), q.detach().numpy()) for p, q in zip(a.parameters(), b.parameters()))
    ref = torch.nn.RNN(3, 4, 2, bidirectional=True)
    b.load_state_dict(ref.state_dict())
    for name, p in b.named_parameters():
        np.testing.assert_array_equal(p.detach().numpy(), ref.state_dict()[name].numpy())


def test_state_dict_shares_data_but_not_graph() -> None:
    m = nn.RNNCell(2, 3)
    sd = m.state_dict()
    assert not sd["weight_ih"].requires_grad
    assert sd["weight_ih"].detach().numpy() is m.weight_ih.detach().numpy()


def test_load_state_dict_errors_change_nothing() -> None:
    m = nn.RNN(3, 4)
    before = [p.detach().numpy().copy() for p in m.parameters()]
    good = {k: np.ones_like(v.detach().numpy()) for k, v in m.state_dict().items()}
    bad_shape = dict(good, weight_ih_l0=np.ones((5, 3)))
    with pytest.raises(
        RuntimeError,
        match=r"size mismatch for weight_ih_l0: copying a param with shape "
        r"torch.Size\(\[5, 3\]\) from checkpoint, the shape in current model is "
        r"torch.Size\(\[4, 3\]\)",
    ):
        m.load_state_dict(bad_shape)
    missing = {k: v for k, v in good.items() if k != "bias_hh_l0"}
    with pytest.raises(RuntimeError, match='Missing key\\(s\\) in state_dict: "bias_hh_l0"'):
        m.load_state_dict(missing)
    with pytest.raises(RuntimeError, match='Unexpected key\\(s\\) in state_dict: "foo"'):
        m.load_state_dict(dict(good, foo=np.zeros(1)))
    assert all(np.array_equal(a, p.detach().numpy()) for a, p in zip(before, m.parameters()))
    result = m.load_state_dict(missing, strict=False)
    assert result.missing_keys == ["bias_hh_l0"]


def test_load_casts_to_parameter_dtype() -> None:
    m = nn.RNNCell(2, 3)
    m.load_state_dict({k: v.detach().numpy().astype(np.float64) for k, v in m.state_dict().items()})
    assert m.weight_ih.dtype == np.float32


def test_train_eval_zero_grad_and_double() -> None:
    m = Two()
    assert m.training and m.rnn.training
    m.eval()
    assert not m.training and not m.rnn.training and not m.cell.training
    m.train()
    out, _ = m.rnn(deeprnn.randn(2, 1, 3))
    out.sum().backward()
    assert m.rnn.weight_ih_l0.grad is not None
    m.zero_grad()
    assert all(p.grad is None for p in m.parameters())
    m.double()
    assert all(p.dtype == np.float64 for p in m.parameters())
    out, _ = m.rnn(deeprnn.randn(2, 1, 3, dtype=deeprnn.float64))
    assert out.dtype == np.float64
    m.float()
    assert all(p.dtype == np.float32 for p in m.parameters())


def test_assigning_a_tensor_to_a_parameter_slot_is_an_error() -> None:
    m = nn.RNNCell(2, 3)
    with pytest.raises(
        TypeError,
        match=r"cannot assign 'torch.FloatTensor' as parameter 'weight_ih' \(torch.nn.Parameter or None expected\)",
    ):
        m.weight_ih = deeprnn.zeros(3, 2)


def test_missing_attribute_message() -> None:
    with pytest.raises(AttributeError, match="'RNN' object has no attribute 'nope'"):
        nn.RNN(2, 2).nope  # noqa: B018


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_a_parameter_is_a_c_contiguous_copy_on_a_64_byte_boundary(dtype) -> None:
    """Whatever the source's layout: the compiled loops read W_hh's rows with 64-byte vector loads."""
    for src in (np.arange(12, dtype=dtype).reshape(3, 4), np.arange(800 * 200, dtype=dtype).reshape(200, 800).T):
        p = nn.Parameter(src)
        assert p._data.ctypes.data % 64 == 0 and p._data.flags.c_contiguous and p._data.dtype == dtype
        assert not np.shares_memory(p._data, src)
        np.testing.assert_array_equal(p._data, src)
    assert all(q._data.ctypes.data % 64 == 0 for q in nn.LSTM(5, 7, num_layers=2).parameters())
