"""A recurrent weight replaced by a plain attribute (the weight-norm pattern: del, then set) is the one forward uses."""

import pytest
import torch

import deeprnn
from oracle import assert_close


@pytest.mark.parametrize("kind", ["RNN", "LSTM", "GRU"])
def test_a_weight_set_as_an_attribute_is_used(kind):
    torch.manual_seed(0)
    ref = getattr(torch.nn, kind)(3, 4)
    ours = getattr(deeprnn.nn, kind)(3, 4)
    ours.load_state_dict({k: deeprnn.tensor(v.detach().numpy()) for k, v in ref.state_dict().items()})
    w = torch.randn(*ref.weight_hh_l0.shape)
    del ref.weight_hh_l0
    ref.weight_hh_l0 = w
    del ours.weight_hh_l0
    ours.weight_hh_l0 = deeprnn.tensor(w.numpy())
    assert "weight_hh_l0" not in dict(ours.named_parameters())
    x = torch.randn(5, 2, 3)
    assert_close(ours(deeprnn.tensor(x.numpy()))[0], ref(x)[0])
