"""Training against PyTorch: the same steps (Adam, clipping, lr decay, carried state) give the same weights."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import deeprnn
from deeprnn.data import BPTTBatches, Vocab, train_val_split
from deeprnn.models import ModelConfig, RNNLanguageModel, TrainConfig
from deeprnn.models.trainer import train
from oracle import assert_close

from ._texts import ENGLISH
from ._twin import torch_twin


def _torch_training(
    twin,
    batches: BPTTBatches,
    iters: int,
    lr: float,
    clip: float,
    decay: float,
    every: int,
    optimizer: str,
):
    params = list(twin.parameters())
    opt = {
        "adam": lambda: torch.optim.Adam(params, lr=lr),
        "rmsprop": lambda: torch.optim.RMSprop(params, lr=lr, alpha=0.95),
    }[optimizer]()
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=every, gamma=decay)
    V = twin.vocab_size
    h = None
    for _ in range(iters):
        step = batches.next_batch()
        if step.reset:
            h = None
        logits, h_n = twin(torch.from_numpy(step.x), h)
        loss = torch.nn.functional.cross_entropy(logits.reshape(-1, V), torch.from_numpy(step.y.reshape(-1)))
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, clip)
        opt.step()
        sched.step()
        h = tuple(s.detach() for s in h_n) if isinstance(h_n, tuple) else h_n.detach()
    return twin


@pytest.mark.parametrize("kind,optimizer", [("rnn", "adam"), ("rnn", "rmsprop"), ("lstm", "adam"), ("gru", "rmsprop")])
def test_train_matches_a_torch_loop(tmp_path, kind, optimizer):
    text = ENGLISH[:900]
    H, L, T, N, seed, iters = (
        16,
        2,
        10,
        4,
        11,
        25,
    )  # 810 training chars: 20 batches/epoch, so one reset
    cfg = TrainConfig(
        model=ModelConfig(hidden_size=H, num_layers=L, kind=kind),
        seq_len=T,
        batch_size=N,
        lr=5e-3,
        optimizer=optimizer,
        grad_clip=0.5,
        lr_decay=0.7,
        lr_decay_every=7,
        iters=iters,
        eval_every=1000,
        sample_every=1000,
        checkpoint_dir=None,
        val_fraction=0.1,
        seed=seed,
        dtype="float64",
    )
    ours = train(cfg, text, quiet=True).model

    vocab = Vocab.from_text(text, "char")
    init = RNNLanguageModel(
        len(vocab), H, L, dtype=np.float64, generator=deeprnn.Generator(seed), kind=kind
    )  # train()'s draws
    train_ids, _ = train_val_split(vocab.encode_text(text), 0.1)
    twin = _torch_training(torch_twin(init), BPTTBatches(train_ids, N, T), iters, 5e-3, 0.5, 0.7, 7, optimizer)
    t_params = dict(twin.named_parameters())
    for name, p in ours.named_parameters():
        assert_close(p, t_params[name], what=name)
