"""The seeds' worked examples, by name, as (float64 module, input, h0) problems: the seeds'
Elman RNNs, and seed 001's two-layer example with an nn.LSTM or nn.GRU in its place.

Each example keeps the seed's literal numbers where the seed gives them, and says
which seed and chapter it comes from and which shapes the seed states, so the
tests can check that the explainer reproduces them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .config import ExplainConfig, build_module

__all__ = ["Example", "EXAMPLES", "get_example", "SEED_001_INPUT"]

# 001_865143ca040637e3.txt, "具体输入数据": (seq_len=4, batch_size=2, input_size=3).
SEED_001_INPUT = np.array(
    [
        [[0.1, 0.2, 0.3], [0.4, 0.5, 0.6]],  # 时间步 1: 句子 1, 句子 2
        [[0.7, 0.8, 0.9], [1.0, 1.1, 1.2]],  # 时间步 2
        [[1.3, 1.4, 1.5], [1.6, 1.7, 1.8]],  # 时间步 3
        [[1.9, 2.0, 2.1], [2.2, 2.3, 2.4]],  # 时间步 4
    ],
    dtype=np.float64,
)


@dataclass(frozen=True)
class Example:
    """A named worked example.

    Attributes:
        name: what `explain` accepts.
        source: the seed file and the place in it.
        config: the network and data sizes.
        seed_shapes: the shapes the seed itself states (tensor name -> shape).
        make_data: seed -> (input in the module's layout, h0 or None for zeros).
        weights: fixed parameter values by name (the seed's literal numbers), or None
            for weights drawn from the generator.
        note_key: a message key for what the seed adds (see text_en.py), or None.
    """

    name: str
    source: str
    config: ExplainConfig
    seed_shapes: dict[str, tuple[int, ...]]
    make_data: Callable[[int], tuple[np.ndarray, np.ndarray | None]]
    weights: dict[str, list] | None = None
    note_key: str | None = None

    def build(self, seed: int = 0):
        """(model, input, h0): the float64 module with this example's weights, and its data."""
        model = build_module(self.config, seed)
        if self.weights is not None:
            model.load_state_dict({k: np.asarray(v, dtype=np.float64) for k, v in self.weights.items()})
        x, h0 = self.make_data(seed)
        return model, x, h0


def _seed001(seed: int) -> tuple[np.ndarray, np.ndarray | None]:
    return SEED_001_INPUT.copy(), np.zeros((2, 2, 5))  # h0 = torch.zeros(2, 2, 5)


def _seed001_batch_first(seed: int) -> tuple[np.ndarray, np.ndarray | None]:
    # The seed's batch_first input_data: sentence-major, the same words.
    return SEED_001_INPUT.transpose(1, 0, 2).copy(), np.zeros((2, 2, 5))


def _chapter1(seed: int) -> tuple[np.ndarray, np.ndarray | None]:
    # x = torch.tensor([0.04]) fed at every step; h_t_1 = torch.randn(1) (drawn from `seed` here).
    rng = np.random.default_rng(seed)
    return np.full((3, 1), 0.04), rng.standard_normal((1, 1))


def _chapter4(seed: int) -> tuple[np.ndarray, np.ndarray | None]:
    # input = torch.randn(seq_size, batch_size, input_size)
    # h_t_1 = torch.randn(num_layers * num_directions, batch_size, hidden_size)
    rng = np.random.default_rng(seed)
    return rng.standard_normal((4, 5, 3)), rng.standard_normal((1, 5, 2))


EXAMPLES: dict[str, Example] = {
    e.name: e
    for e in (
        Example(
            name="two-layer",
            source="001_865143ca040637e3.txt, 代码实现 (batch_first=False)",
            config=ExplainConfig(3, 5, 2, seq_len=4, batch_size=2),
            seed_shapes={
                "input": (4, 2, 3),
                "h0": (2, 2, 5),
                "output": (4, 2, 5),
                "h_n": (2, 2, 5),
            },
            make_data=_seed001,
            note_key="note_seed001",
        ),
        *(
            Example(
                name=f"two-layer-{kind}",
                source=f"001_865143ca040637e3.txt, 代码实现 (batch_first=False), with nn.{kind.upper()} for nn.RNN",
                config=ExplainConfig(3, 5, 2, seq_len=4, batch_size=2, mode=kind),
                seed_shapes={
                    "input": (4, 2, 3),
                    "h0": (2, 2, 5),
                    "output": (4, 2, 5),
                    "h_n": (2, 2, 5),
                },
                make_data=_seed001,
                note_key="note_seed001_kind",
            )
            for kind in ("lstm", "gru")
        ),
        Example(
            name="two-layer-batch-first",
            source="001_865143ca040637e3.txt, batch_first=True时",
            config=ExplainConfig(3, 5, 2, batch_first=True, seq_len=4, batch_size=2),
            seed_shapes={
                "input": (2, 4, 3),
                "h0": (2, 2, 5),
                "output": (2, 4, 5),
                "h_n": (2, 2, 5),
            },
            make_data=_seed001_batch_first,
            note_key="note_seed001",
        ),
        Example(
            name="single-feature",
            source="000_14a3e5f06a270641.txt, 第一章 实现一个最简单的循环神经网络 rnn",
            config=ExplainConfig(1, 1, 1, seq_len=3, batch_size=None),
            seed_shapes={"input": (3, 1), "h0": (1, 1), "output": (3, 1), "h_n": (1, 1)},
            make_data=_chapter1,
            # w_ih = 0.1, b_ih = 0.2, w_hh = 0.3; the seed merges b_hh into b_ih, so b_hh = 0.
            weights={
                "weight_ih_l0": [[0.1]],
                "weight_hh_l0": [[0.3]],
                "bias_ih_l0": [0.2],
                "bias_hh_l0": [0.0],
            },
            note_key="note_chapter1",
        ),
        Example(
            name="chapter4",
            source="000_14a3e5f06a270641.txt, 第四章 pytorch 的 rnn 怎么用",
            config=ExplainConfig(3, 2, 1, seq_len=4, batch_size=5),
            seed_shapes={
                "input": (4, 5, 3),
                "h0": (1, 5, 2),
                "output": (4, 5, 2),
                "h_n": (1, 5, 2),
            },
            make_data=_chapter4,
            note_key="note_chapter4",
        ),
    )
}


def get_example(name: str) -> Example:
    """The example called `name`; KeyError naming the known ones otherwise."""
    try:
        return EXAMPLES[name]
    except KeyError:
        raise KeyError(f"unknown example {name!r}; expected one of: {', '.join(EXAMPLES)}") from None
