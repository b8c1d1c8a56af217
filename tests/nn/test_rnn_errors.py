"""Bad input to RNN, LSTM, GRU and their cells: torch's exception class and message, checked against torch.

Each case is written once against a library ``lib`` (torch or deeprnn, whose API is the
same) and run in both: the exception classes must be the same and the messages equal,
with ``torch.`` spelled ``deeprnn.``.  The parameters must be untouched after the error.
The few places where deeprnn deliberately differs are tested on their own at the end.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable

import numpy as np
import pytest
import torch

import deeprnn


def _modules(lib, kind, *args, **kwargs):
    return getattr(lib.nn, kind)(*args, **kwargs)


def _r(lib, *shape, dtype=None):
    return lib.randn(*shape, dtype=dtype if dtype is not None else lib.float32)


# (id, case): case(lib) must raise.  `m(lib)` builds the module under test.
CONSTRUCTION: list[tuple[str, Callable]] = []
for _kind in ("RNN", "LSTM", "GRU"):
    CONSTRUCTION += [
        (f"{_kind}-dropout-1.5", lambda lib, k=_kind: _modules(lib, k, 3, 4, 2, dropout=1.5)),
        (f"{_kind}-dropout-neg", lambda lib, k=_kind: _modules(lib, k, 3, 4, 2, dropout=-0.1)),
        (f"{_kind}-dropout-str", lambda lib, k=_kind: _modules(lib, k, 3, 4, 2, dropout="0.5")),
        (f"{_kind}-dropout-bool", lambda lib, k=_kind: _modules(lib, k, 3, 4, 2, dropout=True)),
        (f"{_kind}-hidden-0", lambda lib, k=_kind: _modules(lib, k, 3, 0)),
        (f"{_kind}-hidden-neg", lambda lib, k=_kind: _modules(lib, k, 3, -3)),
        (f"{_kind}-input-0", lambda lib, k=_kind: _modules(lib, k, 0, 3)),
        (f"{_kind}-layers-0", lambda lib, k=_kind: _modules(lib, k, 3, 4, 0)),
        (f"{_kind}-layers-neg", lambda lib, k=_kind: _modules(lib, k, 3, 4, -1)),
        (f"{_kind}-layers-float", lambda lib, k=_kind: _modules(lib, k, 3, 4, 2.0)),
        (f"{_kind}-layers-str", lambda lib, k=_kind: _modules(lib, k, 3, 4, "2")),
        (f"{_kind}-hidden-float", lambda lib, k=_kind: _modules(lib, k, 3, 4.0)),
        (f"{_kind}-input-str", lambda lib, k=_kind: _modules(lib, k, "3", 4)),
        (f"{_kind}-bias-int", lambda lib, k=_kind: _modules(lib, k, 3, 4, bias=1)),
        (f"{_kind}-batch_first-int", lambda lib, k=_kind: _modules(lib, k, 3, 4, batch_first=1)),
        (f"{_kind}-unknown-kwarg", lambda lib, k=_kind: _modules(lib, k, 3, 4, foo=1)),
    ]
CONSTRUCTION += [
    ("RNN-proj_size", lambda lib: lib.nn.RNN(3, 4, proj_size=2)),
    ("RNN-proj_size-0", lambda lib: lib.nn.RNN(3, 4, proj_size=0)),
    ("GRU-proj_size", lambda lib: lib.nn.GRU(3, 4, proj_size=2)),
    ("RNN-nonlinearity", lambda lib: lib.nn.RNN(3, 4, nonlinearity="sigmoid")),
    ("RNN-nonlinearity-positional", lambda lib: lib.nn.RNN(3, 4, 1, "gelu")),
    ("LSTM-nonlinearity", lambda lib: lib.nn.LSTM(3, 4, nonlinearity="tanh")),
    ("LSTM-proj-equal-hidden", lambda lib: lib.nn.LSTM(3, 4, proj_size=4)),
    ("LSTM-proj-larger", lambda lib: lib.nn.LSTM(3, 4, proj_size=9)),
    ("LSTM-proj-negative", lambda lib: lib.nn.LSTM(3, 4, proj_size=-1)),
    ("LSTM-proj-float", lambda lib: lib.nn.LSTM(3, 4, proj_size=2.0)),
    ("LSTM-proj-bool", lambda lib: lib.nn.LSTM(3, 4, proj_size=True)),
    ("LSTM-proj-str", lambda lib: lib.nn.LSTM(3, 4, proj_size="1")),
]
for _cell in ("RNNCell", "LSTMCell", "GRUCell"):
    CONSTRUCTION += [
        (f"{_cell}-hidden-neg", lambda lib, c=_cell: getattr(lib.nn, c)(3, -1)),
        (f"{_cell}-input-neg", lambda lib, c=_cell: getattr(lib.nn, c)(-2, 4)),
        (f"{_cell}-hidden-float", lambda lib, c=_cell: getattr(lib.nn, c)(3, 4.0)),
        (f"{_cell}-input-str", lambda lib, c=_cell: getattr(lib.nn, c)("3", 4)),
        (f"{_cell}-hidden-str", lambda lib, c=_cell: getattr(lib.nn, c)(3, "4")),
        (f"{_cell}-hidden-None", lambda lib, c=_cell: getattr(lib.nn, c)(3, None)),
    ]


def _rnn(lib, kind="RNN", **kw):
    return getattr(lib.nn, kind)(3, 4, 2, **kw)


FORWARD: list[tuple[str, Callable]] = []
for _kind in ("RNN", "LSTM", "GRU"):
    FORWARD += [
        (f"{_kind}-4D", lambda lib, k=_kind: _rnn(lib, k)(_r(lib, 2, 3, 4, 3))),
        (f"{_kind}-1D", lambda lib, k=_kind: _rnn(lib, k)(_r(lib, 3))),
        (f"{_kind}-features", lambda lib, k=_kind: _rnn(lib, k)(_r(lib, 5, 2, 7))),
        (f"{_kind}-features-unbatched", lambda lib, k=_kind: _rnn(lib, k)(_r(lib, 5, 7))),
        (f"{_kind}-length-0", lambda lib, k=_kind: _rnn(lib, k)(_r(lib, 0, 2, 3))),
        (f"{_kind}-length-0-batch_first", lambda lib, k=_kind: _rnn(lib, k, batch_first=True)(_r(lib, 2, 0, 3))),
        (f"{_kind}-length-0-unbatched", lambda lib, k=_kind: _rnn(lib, k)(_r(lib, 0, 3))),
        (f"{_kind}-input-float64", lambda lib, k=_kind: _rnn(lib, k)(_r(lib, 5, 2, 3, dtype=lib.float64))),
        (f"{_kind}-input-int", lambda lib, k=_kind: _rnn(lib, k)(lib.ones(5, 2, 3, dtype=lib.int64))),
        (f"{_kind}-input-float32-model-64", lambda lib, k=_kind: _rnn(lib, k, dtype=lib.float64)(_r(lib, 5, 2, 3))),
    ]
for _kind in ("RNN", "GRU"):
    FORWARD += [
        (f"{_kind}-hx-2D", lambda lib, k=_kind: _rnn(lib, k)(_r(lib, 5, 2, 3), _r(lib, 2, 4))),
        (f"{_kind}-hx-3D-unbatched", lambda lib, k=_kind: _rnn(lib, k)(_r(lib, 5, 3), _r(lib, 2, 1, 4))),
        (f"{_kind}-hx-layers", lambda lib, k=_kind: _rnn(lib, k)(_r(lib, 5, 2, 3), _r(lib, 1, 2, 4))),
        (f"{_kind}-hx-batch", lambda lib, k=_kind: _rnn(lib, k)(_r(lib, 5, 2, 3), _r(lib, 2, 3, 4))),
        (f"{_kind}-hx-features", lambda lib, k=_kind: _rnn(lib, k)(_r(lib, 5, 2, 3), _r(lib, 2, 2, 5))),
        (f"{_kind}-hx-unbatched-size", lambda lib, k=_kind: _rnn(lib, k)(_r(lib, 5, 3), _r(lib, 1, 4))),
        (
            f"{_kind}-hx-batch_first",
            lambda lib, k=_kind: _rnn(lib, k, batch_first=True)(_r(lib, 6, 5, 3), _r(lib, 2, 5, 4)),
        ),
        (
            f"{_kind}-hx-float64",
            lambda lib, k=_kind: _rnn(lib, k)(_r(lib, 5, 2, 3), _r(lib, 2, 2, 4, dtype=lib.float64)),
        ),
        (f"{_kind}-hx-int", lambda lib, k=_kind: _rnn(lib, k)(_r(lib, 5, 2, 3), lib.zeros(2, 2, 4, dtype=lib.int64))),
        (
            f"{_kind}-hx-float32-model-64",
            lambda lib, k=_kind: _rnn(lib, k, dtype=lib.float64)(_r(lib, 5, 2, 3, dtype=lib.float64), _r(lib, 2, 2, 4)),
        ),
        (f"{_kind}-hx-size-before-length", lambda lib, k=_kind: _rnn(lib, k)(_r(lib, 0, 2, 3), _r(lib, 1, 2, 4))),
        (
            f"{_kind}-length-before-hx-dtype",
            lambda lib, k=_kind: _rnn(lib, k)(_r(lib, 0, 2, 3), _r(lib, 2, 2, 4, dtype=lib.float64)),
        ),
        (
            f"{_kind}-input-dtype-before-hx-size",
            lambda lib, k=_kind: _rnn(lib, k)(_r(lib, 5, 2, 3, dtype=lib.float64), _r(lib, 1, 2, 4)),
        ),
    ]


def _lstm(lib, **kw):
    return lib.nn.LSTM(3, 4, 2, **kw)


FORWARD += [
    ("LSTM-hx-2D-cx-3D", lambda lib: _lstm(lib)(_r(lib, 5, 2, 3), (_r(lib, 2, 4), _r(lib, 2, 2, 4)))),
    ("LSTM-hx-3D-cx-2D", lambda lib: _lstm(lib)(_r(lib, 5, 2, 3), (_r(lib, 2, 2, 4), _r(lib, 2, 4)))),
    ("LSTM-unbatched-3D-states", lambda lib: _lstm(lib)(_r(lib, 5, 3), (_r(lib, 2, 1, 4), _r(lib, 2, 4)))),
    ("LSTM-h0-layers", lambda lib: _lstm(lib)(_r(lib, 5, 2, 3), (_r(lib, 1, 2, 4), _r(lib, 2, 2, 4)))),
    ("LSTM-h0-batch", lambda lib: _lstm(lib)(_r(lib, 5, 2, 3), (_r(lib, 2, 3, 4), _r(lib, 2, 2, 4)))),
    ("LSTM-c0-batch", lambda lib: _lstm(lib)(_r(lib, 5, 2, 3), (_r(lib, 2, 2, 4), _r(lib, 2, 3, 4)))),
    ("LSTM-c0-features", lambda lib: _lstm(lib)(_r(lib, 5, 2, 3), (_r(lib, 2, 2, 4), _r(lib, 2, 2, 5)))),
    ("LSTM-unbatched-size", lambda lib: _lstm(lib)(_r(lib, 5, 3), (_r(lib, 1, 4), _r(lib, 2, 4)))),
    (
        "LSTM-batch_first-size",
        lambda lib: _lstm(lib, batch_first=True)(_r(lib, 6, 5, 3), (_r(lib, 2, 5, 4), _r(lib, 2, 6, 4))),
    ),
    ("LSTM-hx-a-tensor", lambda lib: _lstm(lib)(_r(lib, 5, 2, 3), _r(lib, 2, 2, 4))),
    ("LSTM-hx-1-tuple", lambda lib: _lstm(lib)(_r(lib, 5, 2, 3), (_r(lib, 2, 2, 4),))),
    ("LSTM-hx-3-tuple", lambda lib: _lstm(lib)(_r(lib, 5, 2, 3), (_r(lib, 2, 2, 4),) * 3)),
    ("LSTM-hx-3-tuple-length-0", lambda lib: _lstm(lib)(_r(lib, 0, 2, 3), (_r(lib, 2, 2, 4),) * 3)),
    ("LSTM-hx-3-tuple-wrong-size", lambda lib: _lstm(lib)(_r(lib, 5, 2, 3), (_r(lib, 1, 2, 4),) * 3)),
    (
        "LSTM-proj-h0-features",
        lambda lib: _lstm(lib, proj_size=2)(_r(lib, 5, 2, 3), (_r(lib, 2, 2, 4), _r(lib, 2, 2, 4))),
    ),
    (
        "LSTM-proj-c0-features",
        lambda lib: _lstm(lib, proj_size=2)(_r(lib, 5, 2, 3), (_r(lib, 2, 2, 2), _r(lib, 2, 2, 2))),
    ),
    (
        "LSTM-h0-float32-model-64",
        lambda lib: _lstm(lib, dtype=lib.float64)(
            _r(lib, 5, 2, 3, dtype=lib.float64), (_r(lib, 2, 2, 4), _r(lib, 2, 2, 4, dtype=lib.float64))
        ),
    ),
]
for _cell, _state in (("RNNCell", "h"), ("GRUCell", "h"), ("LSTMCell", "hc")):

    def _hx(lib, *shape, state=_state, dtype=None):
        one = _r(lib, *shape, dtype=dtype) if shape else lib.tensor(1.0)
        return one if state == "h" else (one, _r(lib, *shape) if shape else lib.tensor(1.0))

    FORWARD += [
        (f"{_cell}-3D", lambda lib, c=_cell: getattr(lib.nn, c)(3, 4)(_r(lib, 2, 3, 3))),
        (f"{_cell}-0D", lambda lib, c=_cell: getattr(lib.nn, c)(3, 4)(lib.tensor(1.0))),
        (f"{_cell}-features", lambda lib, c=_cell: getattr(lib.nn, c)(3, 4)(_r(lib, 2, 5))),
        (f"{_cell}-features-1D", lambda lib, c=_cell: getattr(lib.nn, c)(3, 4)(_r(lib, 5))),
        (f"{_cell}-input-float64", lambda lib, c=_cell: getattr(lib.nn, c)(3, 4)(_r(lib, 2, 3, dtype=lib.float64))),
        (f"{_cell}-input-int", lambda lib, c=_cell: getattr(lib.nn, c)(3, 4)(lib.ones(2, 3, dtype=lib.int64))),
        (
            f"{_cell}-features-before-dtype",
            lambda lib, c=_cell: getattr(lib.nn, c)(3, 4)(lib.ones(2, 5, dtype=lib.int64)),
        ),
        (f"{_cell}-hidden-batch", lambda lib, c=_cell, h=_hx: getattr(lib.nn, c)(3, 4)(_r(lib, 2, 3), h(lib, 3, 4))),
        (f"{_cell}-hidden-size", lambda lib, c=_cell, h=_hx: getattr(lib.nn, c)(3, 4)(_r(lib, 2, 3), h(lib, 2, 5))),
        (f"{_cell}-hidden-1D-batched", lambda lib, c=_cell, h=_hx: getattr(lib.nn, c)(3, 4)(_r(lib, 2, 3), h(lib, 4))),
        (
            f"{_cell}-hidden-1D-same-batch",
            lambda lib, c=_cell, h=_hx: getattr(lib.nn, c)(3, 4)(_r(lib, 4, 3), h(lib, 4)),
        ),
        (
            f"{_cell}-hidden-2D-unbatched",
            lambda lib, c=_cell, h=_hx: getattr(lib.nn, c)(3, 4)(_r(lib, 3), h(lib, 1, 4)),
        ),
        (f"{_cell}-hidden-3D", lambda lib, c=_cell, h=_hx: getattr(lib.nn, c)(3, 4)(_r(lib, 2, 3), h(lib, 1, 2, 4))),
        (f"{_cell}-hidden-0D", lambda lib, c=_cell, h=_hx: getattr(lib.nn, c)(3, 4)(_r(lib, 2, 3), h(lib))),
        (
            f"{_cell}-hidden-float64",
            lambda lib, c=_cell, h=_hx: getattr(lib.nn, c)(3, 4)(_r(lib, 2, 3), h(lib, 2, 4, dtype=lib.float64)),
        ),
    ]
FORWARD += [
    ("LSTMCell-c-batch", lambda lib: lib.nn.LSTMCell(3, 4)(_r(lib, 2, 3), (_r(lib, 2, 4), _r(lib, 3, 4)))),
    ("LSTMCell-c-size", lambda lib: lib.nn.LSTMCell(3, 4)(_r(lib, 2, 3), (_r(lib, 2, 4), _r(lib, 2, 5)))),
    ("LSTMCell-c-3D", lambda lib: lib.nn.LSTMCell(3, 4)(_r(lib, 2, 3), (_r(lib, 2, 4), _r(lib, 1, 2, 4)))),
    ("LSTMCell-hx-1-tuple", lambda lib: lib.nn.LSTMCell(3, 4)(_r(lib, 2, 3), (_r(lib, 2, 4),))),
    ("LSTMCell-hx-3-tuple", lambda lib: lib.nn.LSTMCell(3, 4)(_r(lib, 2, 3), (_r(lib, 2, 4),) * 3)),
    ("LSTMCell-hx-1-tuple-unbatched", lambda lib: lib.nn.LSTMCell(3, 4)(_r(lib, 3), (_r(lib, 4),))),
    ("RNNCell-gelu-at-forward", lambda lib: lib.nn.RNNCell(3, 4, nonlinearity="gelu")(_r(lib, 2, 3))),
    ("RNNCell-gelu-before-sizes", lambda lib: lib.nn.RNNCell(3, 4, nonlinearity="gelu")(_r(lib, 2, 5))),
    ("RNNCell-gelu-after-dims", lambda lib: lib.nn.RNNCell(3, 4, nonlinearity="gelu")(_r(lib, 2, 3, 3))),
    ("RNNCell-TANH", lambda lib: lib.nn.RNNCell(3, 4, nonlinearity="TANH")(_r(lib, 2, 3))),
]


def _outcome(lib, case: Callable) -> tuple[str, str]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch's own UserWarnings (oneDNN, projections) are not the point
        try:
            case(lib)
        except Exception as err:  # noqa: BLE001 - the class is what is compared
            return type(err).__name__, str(err).split("\n")[0]
    return "no error", ""


@pytest.mark.parametrize("case", [c for _, c in CONSTRUCTION + FORWARD], ids=[i for i, _ in CONSTRUCTION + FORWARD])
def test_error_class_and_message_as_torch(case: Callable) -> None:
    expected = _outcome(torch, case)
    assert expected[0] != "no error", "torch accepts this case: it does not belong in the table"
    got = _outcome(deeprnn, case)
    assert got[0] == expected[0], f"class: {got} vs torch {expected}"
    assert got[1] == expected[1].replace("torch.", "deeprnn."), f"message: {got[1]!r} vs torch {expected[1]!r}"


@pytest.mark.parametrize("kind", ["RNN", "LSTM", "GRU"])
def test_a_failed_call_changes_nothing(kind: str) -> None:
    m = getattr(deeprnn.nn, kind)(3, 4, 2)
    before = [p.detach().numpy().copy() for p in m.parameters()]
    with pytest.raises(RuntimeError):
        m(deeprnn.randn(5, 2, 3), deeprnn.randn(5, 2, 4) if kind != "LSTM" else (deeprnn.randn(1, 2, 4),) * 2)
    assert all(np.array_equal(a, p.detach().numpy()) for a, p in zip(before, m.parameters()))
    assert all(p.grad is None for p in m.parameters())


@pytest.mark.parametrize("kind", ["RNN", "LSTM", "GRU"])
def test_dropout_with_one_layer_warns_as_torch(kind: str) -> None:
    with pytest.warns(UserWarning) as ours:
        getattr(deeprnn.nn, kind)(3, 4, 1, dropout=0.5)
    with pytest.warns(UserWarning) as theirs:
        getattr(torch.nn, kind)(3, 4, 1, dropout=0.5)
    assert [str(w.message) for w in ours] == [str(w.message) for w in theirs]


@pytest.mark.parametrize("ok", ["cell-sizes-zero", "bias-int-cell", "bidirectional-int", "bool-sizes", "empty-batch"])
def test_accepted_as_torch_accepts(ok: str) -> None:
    """What torch accepts is accepted too (no stricter checks than torch's)."""
    for lib in (torch, deeprnn):
        if ok == "cell-sizes-zero":
            assert tuple(lib.nn.LSTMCell(0, 4).weight_ih.shape) == (16, 0)
            assert tuple(lib.nn.GRUCell(3, 0).weight_hh.shape) == (0, 0)
        elif ok == "bias-int-cell":
            assert lib.nn.RNNCell(3, 4, bias=0).bias_ih is None
        elif ok == "bidirectional-int":
            assert lib.nn.GRU(3, 4, bidirectional=1).weight_ih_l0_reverse.shape[0] == 12
        elif ok == "bool-sizes":
            assert lib.nn.LSTM(True, 4, True).weight_ih_l0.shape[1] == 1
        else:
            out, (h, c) = lib.nn.LSTM(3, 4, 2)(lib.randn(5, 0, 3))
            assert tuple(out.shape) == (5, 0, 4) and tuple(h.shape) == tuple(c.shape) == (2, 0, 4)


# ---- where deeprnn deliberately differs from torch --------------------------------------------
@pytest.mark.parametrize("kind", ["RNN", "LSTM", "GRU"])
def test_a_non_tensor_input_is_a_type_error(kind: str) -> None:
    """torch fails on ``.dim()`` with an AttributeError; deeprnn names what it expected."""
    with pytest.raises(TypeError, match="input must be a deeprnn.Tensor, got ndarray"):
        getattr(deeprnn.nn, kind)(3, 4)(np.zeros((5, 2, 3), dtype=np.float32))
    with pytest.raises(TypeError, match="input must be a deeprnn.Tensor, got list"):
        deeprnn.nn.GRUCell(3, 4)([[1.0, 2.0, 3.0]])


def test_non_tensor_states_are_type_errors() -> None:
    with pytest.raises(TypeError, match="hx must be a deeprnn.Tensor, got tuple"):
        deeprnn.nn.GRU(3, 4)(deeprnn.randn(5, 2, 3), (deeprnn.randn(1, 2, 4),))
    with pytest.raises(TypeError, match=r"hx\[1\] must be a deeprnn.Tensor, got NoneType"):
        deeprnn.nn.LSTM(3, 4)(deeprnn.randn(5, 2, 3), (deeprnn.randn(1, 2, 4), None))
    with pytest.raises(TypeError, match=r"hx\[1\] must be a deeprnn.Tensor, got NoneType"):
        deeprnn.nn.LSTMCell(3, 4)(deeprnn.randn(2, 3), (deeprnn.randn(2, 4), None))


@pytest.mark.parametrize("model_dtype", [np.float32, np.float64])
def test_cell_state_of_another_dtype_is_refused(model_dtype: type) -> None:
    """torch's LSTM refuses a c_0 of another dtype on its default CPU path ("get_mkldnn_dtype: unsupported
    data type"), accepts it on others and promotes c (so the next product fails); deeprnn refuses it
    at once, with the message torch's generic path gives for h_0."""
    other = deeprnn.float64 if model_dtype == np.float32 else deeprnn.float32
    m = deeprnn.nn.LSTM(3, 4, dtype=model_dtype)
    x = deeprnn.randn(5, 2, 3, dtype=model_dtype)
    mine, theirs = ("Double", "Float") if model_dtype == np.float32 else ("Float", "Double")
    msg = f"mat1 and mat2 must have the same dtype, but got {mine} and {theirs}"
    with pytest.raises(RuntimeError, match=msg):
        m(x, (deeprnn.randn(1, 2, 4, dtype=model_dtype), deeprnn.randn(1, 2, 4, dtype=other)))
    cell = deeprnn.nn.LSTMCell(3, 4, dtype=model_dtype)
    with pytest.raises(RuntimeError, match=msg):
        cell(
            deeprnn.randn(2, 3, dtype=model_dtype),
            (deeprnn.randn(2, 4, dtype=model_dtype), deeprnn.randn(2, 4, dtype=other)),
        )
