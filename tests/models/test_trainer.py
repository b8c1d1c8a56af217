"""The training loop: learning, exact resume, Ctrl-C, NaN, and Chinese text at both levels."""

from __future__ import annotations

import numpy as np
import pytest

from deeprnn.models import ModelConfig, TrainConfig, load_checkpoint
from deeprnn.models.state import model_from_checkpoint
from deeprnn.models.trainer import NonFiniteLossError, TrainingInterrupted, train

from ._texts import CHINESE, ENGLISH


def _config(tmp_path, **kw) -> TrainConfig:
    base = dict(
        model=ModelConfig(hidden_size=24, num_layers=2, dropout=0.1),
        seq_len=12,
        batch_size=4,
        lr=3e-3,
        iters=30,
        eval_every=10,
        eval_batches=4,
        sample_every=10_000,
        checkpoint_every=10,
        checkpoint_dir=str(tmp_path / "ck"),
        val_fraction=0.1,
        seed=7,
    )
    base.update(kw)
    return TrainConfig(**base)


def _interrupt_at(n):
    def callback(it, info):
        if it == n:
            raise KeyboardInterrupt

    return callback


@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
def test_loss_falls_and_checkpoint_and_plot_are_written(tmp_path, kind):
    model = ModelConfig(hidden_size=24, num_layers=2, dropout=0.1, kind=kind)
    lr = 3e-3 if kind == "rnn" else 1e-2  # gated cells start slower: 80 steps at 3e-3 drop the loss by ~0.4
    result = train(_config(tmp_path, iters=80, eval_every=20, model=model, lr=lr), ENGLISH, quiet=True)
    h = result.history
    assert np.mean(h.train_loss[-10:]) < np.mean(h.train_loss[:5]) - 0.5
    assert h.val_loss[-1] < h.val_loss[0]
    ck = tmp_path / "ck"
    assert {"latest.npz", "best.npz", "loss.png"} <= {p.name for p in ck.iterdir()}
    assert (ck / "loss.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    ckpt = load_checkpoint(ck)
    assert ckpt.meta["iteration"] == 80 and ckpt.meta["model_config"]["kind"] == kind
    assert ("cell" in ckpt.arrays) == (kind == "lstm") and ckpt.arrays["hidden"].shape == (2, 4, 24)
    loaded = model_from_checkpoint(ckpt)
    assert loaded.kind == kind
    text = loaded.sample("the ", 50, seed=0)
    assert text.startswith("the ") and len(text) == 54
    assert text == result.model.sample("the ", 50, seed=0)  # the checkpoint holds the trained model


def _full_state(path):
    c = load_checkpoint(path)
    return c.meta, c.arrays


@pytest.mark.parametrize("kind,optimizer", [("rnn", "adam"), ("rnn", "rmsprop"), ("lstm", "adam"), ("gru", "adam")])
def test_interrupt_and_resume_is_bit_identical(tmp_path, kind, optimizer):
    """Interrupted and resumed, a run ends bit for bit where it would have: the weights, the optimiser,
    the carried state (h, and the LSTM's c), the dropout masks' generator and the losses."""
    model = ModelConfig(hidden_size=24, num_layers=2, dropout=0.1, kind=kind)
    kw = dict(iters=27, optimizer=optimizer, lr_decay=0.9, lr_decay_every=5, model=model)
    straight = train(_config(tmp_path / "a", **kw), ENGLISH, quiet=True)
    cfg_b = _config(tmp_path / "b", **kw)
    with pytest.raises(TrainingInterrupted) as info:
        train(cfg_b, ENGLISH, quiet=True, callback=_interrupt_at(13))
    assert info.value.iteration == 13 and info.value.checkpoint is not None
    assert load_checkpoint(cfg_b.checkpoint_dir).meta["iteration"] == 13
    resumed = train(cfg_b, ENGLISH, quiet=True, resume=True)
    assert resumed.iteration == 27
    for (name, p), q in zip(straight.model.named_parameters(), resumed.model.parameters()):
        np.testing.assert_array_equal(p.detach().numpy(), q.detach().numpy(), err_msg=name)
    meta_a, arr_a = _full_state(tmp_path / "a" / "ck")
    meta_b, arr_b = _full_state(tmp_path / "b" / "ck")
    assert arr_a.keys() == arr_b.keys() and ("cell" in arr_a) == (kind == "lstm")
    for k in (k for k in arr_a if k != "history/val_time"):  # moments, hidden state, losses (not timings)
        np.testing.assert_array_equal(arr_a[k], arr_b[k], err_msg=k)
    for k in ("optimizer", "scheduler", "rng", "data", "iteration"):
        assert meta_a[k] == meta_b[k], k
    assert straight.history.train_loss == resumed.history.train_loss


def test_resume_across_an_epoch_boundary(tmp_path):
    text = ENGLISH[:700]  # 630 training chars -> 13 batches per epoch at 4 x 12
    straight = train(_config(tmp_path / "a", iters=20, model=ModelConfig(hidden_size=24)), text, quiet=True)
    cfg = _config(tmp_path / "b", iters=11, model=ModelConfig(hidden_size=24))
    train(cfg, text, quiet=True)
    cfg.iters = 20
    resumed = train(cfg, text, quiet=True, resume=True)
    for p, q in zip(straight.model.parameters(), resumed.model.parameters()):
        np.testing.assert_array_equal(p.detach().numpy(), q.detach().numpy())


def test_nan_stops_and_keeps_the_last_good_checkpoint(tmp_path):
    cfg = _config(tmp_path, iters=40)

    def poison(it, info):
        if it == 14:  # corrupt the weights after the checkpoint at iteration 10
            for p in state["model"].parameters():
                p.detach().numpy()[...] = np.nan

    state = {}
    import deeprnn.models.trainer as trainer_mod

    real_build = trainer_mod.RNNLanguageModel.from_config

    def capture(*a, **k):
        state["model"] = real_build(*a, **k)
        return state["model"]

    trainer_mod.RNNLanguageModel.from_config = capture
    try:
        with pytest.raises(NonFiniteLossError, match=r"nan at iteration 15.*Last good checkpoint.*iteration 10"):
            train(cfg, ENGLISH, quiet=True, callback=poison)
    finally:
        trainer_mod.RNNLanguageModel.from_config = real_build
    ck = load_checkpoint(cfg.checkpoint_dir)
    assert ck.meta["iteration"] == 10
    assert all(np.isfinite(v).all() for v in ck.model_state().values())


def test_interrupt_without_checkpoint_dir(tmp_path):
    with pytest.raises(TrainingInterrupted, match="nothing saved"):
        train(_config(tmp_path, checkpoint_dir=None), ENGLISH, quiet=True, callback=_interrupt_at(3))


@pytest.mark.parametrize("level", ["char", "word"])
def test_chinese_text_trains_and_samples_chinese(tmp_path, level):
    cfg = _config(tmp_path, level=level, iters=40, seq_len=8, model=ModelConfig(hidden_size=32, num_layers=2))
    result = train(cfg, CHINESE, quiet=True)
    assert result.model.vocab.level == level
    assert np.mean(result.history.train_loss[-5:]) < result.history.train_loss[0]
    text = result.model.sample("面包", 30, temperature=0.7, seed=2)
    assert text.startswith("面包")
    new = text[2:]
    assert sum("\u4e00" <= ch <= "\u9fff" for ch in new) >= len(new) // 2  # mostly Chinese
    assert "<unk>" not in new


def test_text_too_short_for_one_sequence(tmp_path):
    from deeprnn.data import DataError

    with pytest.raises(DataError, match="fewer than one sequence"):
        train(_config(tmp_path, seq_len=64, val_fraction=0.0), "abcdefgh" * 5, quiet=True)


def test_resume_refuses_different_text(tmp_path):
    cfg = _config(tmp_path, iters=5)
    train(cfg, ENGLISH, quiet=True)
    cfg.iters = 10
    with pytest.raises(ValueError, match="different data"):
        train(cfg, ENGLISH.replace("baker", "bakes"), quiet=True, resume=True)
