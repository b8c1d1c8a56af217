"""Bad configurations raise what nn.RNN raises: the same exception class and message."""

from __future__ import annotations

import pytest

import deeprnn as dr
from deeprnn.explain import ExplainConfig, explain

BAD = [
    dict(input_size=0),
    dict(hidden_size=-1),
    dict(num_layers=0),
    dict(input_size=2.5),
    dict(num_layers="2"),
    dict(nonlinearity="sigmoid"),
]


@pytest.mark.parametrize("bad", BAD, ids=[next(iter(b)) + "=" + repr(next(iter(b.values()))) for b in BAD])
def test_bad_config_raises_the_module_error(bad):
    args = dict(input_size=3, hidden_size=4, num_layers=1, nonlinearity="tanh") | bad
    with pytest.raises(Exception) as from_module:
        dr.nn.RNN(
            args["input_size"],
            args["hidden_size"],
            args["num_layers"],
            nonlinearity=args["nonlinearity"],
        )
    with pytest.raises(type(from_module.value)) as from_explain:
        explain(ExplainConfig(**args))
    assert str(from_explain.value) == str(from_module.value)


def test_bad_input_shape_raises_the_module_error():
    import numpy as np

    with pytest.raises(RuntimeError, match="input.size\\(-1\\) must be equal to input_size. Expected 3, got 2"):
        explain(ExplainConfig(3, 4, 1), input=np.zeros((4, 2, 2)))
    with pytest.raises(RuntimeError, match="Expected hidden size"):
        explain(ExplainConfig(3, 4, 1), hx=np.zeros((2, 2, 4)))


def test_bad_data_sizes_and_options():
    with pytest.raises(RuntimeError, match="Expected sequence length to be larger than 0 in RNN"):
        explain(ExplainConfig(seq_len=0))
    with pytest.raises(ValueError, match="batch_size must be greater than zero, got 0"):
        explain(ExplainConfig(batch_size=0))
    with pytest.raises(ValueError, match="lang must be one of"):
        explain("two-layer", lang="fr")
    with pytest.raises(ValueError, match="fmt must be one of"):
        explain("two-layer", fmt="pdf")
    with pytest.raises(ValueError, match="unknown example or file 'three-layer'"):
        explain("three-layer")
