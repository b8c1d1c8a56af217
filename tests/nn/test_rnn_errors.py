"""Bad input to RNN and RNNCell: PyTorch's exception class and a message naming expected and received.

Each case also checks that nothing changed: the parameters are untouched after the error.
"""

from __future__ import annotations

import numpy as np
import pytest

import deeprnn
from deeprnn import nn


@pytest.fixture
def rnn() -> nn.RNN:
    return nn.RNN(3, 4, 2)


def params(m: nn.Module) -> list[np.ndarray]:
    return [p.detach().numpy().copy() for p in m.parameters()]


def unchanged(m: nn.Module, before: list[np.ndarray]) -> bool:
    return all(np.array_equal(a, p.detach().numpy()) for a, p in zip(before, m.parameters()))


@pytest.mark.parametrize("shape, got", [((2, 3, 4, 3), "4D"), ((3,), "1D")])
def test_wrong_number_of_dimensions(rnn: nn.RNN, shape: tuple, got: str) -> None:
    with pytest.raises(ValueError, match=f"RNN: Expected input to be 2D or 3D, got {got} tensor instead"):
        rnn(deeprnn.randn(*shape))


def test_feature_size_differs(rnn: nn.RNN) -> None:
    with pytest.raises(RuntimeError, match="input.size\\(-1\\) must be equal to input_size. Expected 3, got 7"):
        rnn(deeprnn.randn(5, 2, 7))


@pytest.mark.parametrize("h_shape", [(1, 2, 4), (2, 3, 4), (2, 2, 5)])
def test_h0_wrong_shape_or_batch(rnn: nn.RNN, h_shape: tuple) -> None:
    before = params(rnn)
    with pytest.raises(
        RuntimeError, match=rf"Expected hidden size \(2, 2, 4\), got \[{', '.join(map(str, h_shape))}\]"
    ):
        rnn(deeprnn.randn(5, 2, 3), deeprnn.randn(*h_shape))
    assert unchanged(rnn, before)


def test_h0_wrong_batch_with_batch_first() -> None:
    rnn = nn.RNN(3, 4, 1, batch_first=True)
    with pytest.raises(RuntimeError, match=r"Expected hidden size \(1, 6, 4\), got \[1, 5, 4\]"):
        rnn(deeprnn.randn(6, 5, 3), deeprnn.randn(1, 5, 4))


def test_h0_dims_must_match_batched_or_unbatched(rnn: nn.RNN) -> None:
    with pytest.raises(RuntimeError, match="For batched 3-D input, hx should also be 3-D but got 2-D tensor"):
        rnn(deeprnn.randn(5, 2, 3), deeprnn.randn(2, 4))
    with pytest.raises(RuntimeError, match="For unbatched 2-D input, hx should also be 2-D but got 3-D tensor"):
        rnn(deeprnn.randn(5, 3), deeprnn.randn(2, 1, 4))


@pytest.mark.parametrize("cls", [nn.RNN, nn.RNNCell])
def test_unknown_nonlinearity(cls: type) -> None:
    with pytest.raises(ValueError, match="Unknown nonlinearity 'sigmoid'. Select from 'tanh' or 'relu'."):
        cls(3, 4, nonlinearity="sigmoid")


@pytest.mark.parametrize("p", [1.5, -0.1, "0.5", True])
def test_dropout_outside_unit_interval(p: object) -> None:
    with pytest.raises(ValueError, match=r"dropout should be a number in range \[0, 1\].*got"):
        nn.RNN(3, 4, 2, dropout=p)


def test_dropout_with_one_layer_warns_like_torch() -> None:
    with pytest.warns(UserWarning, match="non-zero dropout expects num_layers greater than 1"):
        nn.RNN(3, 4, 1, dropout=0.5)


@pytest.mark.parametrize(
    "kw, msg",
    [
        (dict(num_layers=0), "num_layers must be greater than zero, got 0"),
        (dict(hidden_size=0), "hidden_size must be greater than zero, got 0"),
        (dict(hidden_size=-3), "hidden_size must be greater than zero, got -3"),
        (dict(input_size=0), "input_size must be greater than zero, got 0"),
    ],
)
def test_sizes_below_one(kw: dict, msg: str) -> None:
    args = dict(input_size=3, hidden_size=4, num_layers=1) | kw
    with pytest.raises(ValueError, match=msg):
        nn.RNN(**args)


def test_sizes_of_wrong_type() -> None:
    with pytest.raises(TypeError, match="hidden_size should be of type int, got: float"):
        nn.RNN(3, 4.0)
    with pytest.raises(TypeError, match="input_size should be of type int, got: str"):
        nn.RNNCell("3", 4)


def test_cell_sizes_below_one() -> None:
    with pytest.raises(ValueError, match="hidden_size must be greater than zero, got 0"):
        nn.RNNCell(3, 0)


def test_mixed_dtypes(rnn: nn.RNN) -> None:
    x64 = deeprnn.randn(5, 2, 3, dtype=deeprnn.float64)
    with pytest.raises(ValueError, match=r"RNN input dtype \(float64\) does not match weight dtype \(float32\)"):
        rnn(x64)
    with pytest.raises(ValueError, match=r"RNN hx dtype \(float64\) does not match weight dtype \(float32\)"):
        rnn(deeprnn.randn(5, 2, 3), deeprnn.randn(2, 2, 4, dtype=deeprnn.float64))
    with pytest.raises(ValueError, match=r"RNN input dtype \(int64\) does not match weight dtype \(float32\)"):
        rnn(deeprnn.ones(5, 2, 3, dtype=deeprnn.int64))


def test_sequence_of_length_zero(rnn: nn.RNN) -> None:
    with pytest.raises(RuntimeError, match="Expected sequence length to be larger than 0 in RNN"):
        rnn(deeprnn.randn(0, 2, 3))
    with pytest.raises(RuntimeError, match="Expected sequence length to be larger than 0 in RNN"):
        nn.RNN(3, 4, batch_first=True)(deeprnn.randn(2, 0, 3))


def test_input_must_be_a_tensor(rnn: nn.RNN) -> None:
    with pytest.raises(TypeError, match="input must be a deeprnn.Tensor, got ndarray"):
        rnn(np.zeros((5, 2, 3), dtype=np.float32))


def test_cell_errors() -> None:
    cell = nn.RNNCell(3, 4)
    with pytest.raises(ValueError, match="RNNCell: Expected input to be 1D or 2D, got 3D instead"):
        cell(deeprnn.randn(2, 3, 3))
    with pytest.raises(RuntimeError, match="input has inconsistent input_size: got 5 expected 3"):
        cell(deeprnn.randn(2, 5))
    with pytest.raises(RuntimeError, match=r"Expected hidden size \(2, 4\), got \[3, 4\]"):
        cell(deeprnn.randn(2, 3), deeprnn.randn(3, 4))
    with pytest.raises(RuntimeError, match=r"Expected hidden size \(2, 4\), got \[4\]"):
        cell(deeprnn.randn(2, 3), deeprnn.randn(4))
    with pytest.raises(ValueError, match=r"RNNCell input dtype \(float64\) does not match weight dtype \(float32\)"):
        cell(deeprnn.randn(2, 3, dtype=deeprnn.float64))


def test_cell_empty_batch_is_valid() -> None:
    out = nn.RNNCell(3, 4)(deeprnn.randn(0, 3))
    assert tuple(out.shape) == (0, 4)
