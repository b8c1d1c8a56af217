"""The trainer's data-parallel side in one process (the mpiexec runs are in tests/distributed)."""

from __future__ import annotations

import numpy as np
import pytest

from deeprnn.distributed import Communicator, SingleProcess
from deeprnn.models import ModelConfig, RNNLanguageModel
from deeprnn.models.parallel import DataParallel, rank_seed


class _Rank(Communicator):
    """Rank ``rank`` of ``size``, for the arithmetic that needs no communication."""

    def __init__(self, rank: int, size: int) -> None:
        self.rank, self.size = rank, size


def _params():
    return list(RNNLanguageModel.from_config(ModelConfig(vocab_size=5, hidden_size=3, num_layers=1)).parameters())


def test_one_process_is_a_no_op():
    par = DataParallel(SingleProcess(), 4, _params())
    assert not par.active and par.streams is None and par.fused is None and par.weight == 1.0
    assert par.reduce(1.25, True, 1) == 1.25
    assert par.stop_agreed(False) is False and par.stop_agreed(True) is True


def test_shares_and_weights_of_an_uneven_batch():
    pars = [DataParallel(_Rank(r, 3), 8, _params()) for r in range(3)]
    assert [p.streams for p in pars] == [slice(0, 3), slice(3, 6), slice(6, 8)]
    assert [p.weight for p in pars] == [3 / 8, 3 / 8, 2 / 8]
    assert sum(p.weight for p in pars) == 1.0


def test_more_processes_than_streams_is_refused_with_the_fix():
    with pytest.raises(ValueError, match="3 processes cannot share a batch of 2 streams: each process needs at least"):
        DataParallel(_Rank(0, 3), 2, _params())


def test_dropout_seeds_differ_by_rank_and_iteration_and_repeat():
    seeds = {rank_seed(7, r, it) for r in (1, 2) for it in (0, 10)}
    assert len(seeds) == 4 and all(0 <= s < 2**128 for s in seeds)
    assert rank_seed(7, 1, 0) == rank_seed(7, 1, 0)
    assert np.uint64(rank_seed(7, 1, 0) & (2**64 - 1)) != np.uint64(rank_seed(8, 1, 0) & (2**64 - 1))
