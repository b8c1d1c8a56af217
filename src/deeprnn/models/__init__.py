"""deeprnn.models: the language model (an RNN, LSTM or GRU), sampling, the training loop and checkpoints.

    from deeprnn.models import RNNLanguageModel, TrainConfig, train
    result = train(TrainConfig(iters=2000), text)          # the trained model + history
    print(result.model.sample("ROMEO:", 200, temperature=0.8, seed=1))

Nothing here knows about the command line; ``deeprnn.cli`` is a thin layer over it.
"""

from .char_rnn import CharRNN as CharRNN
from .char_rnn import RNNLanguageModel as RNNLanguageModel
from .checkpoint import Checkpoint as Checkpoint
from .checkpoint import CheckpointError as CheckpointError
from .checkpoint import load_checkpoint as load_checkpoint
from .checkpoint import save_checkpoint as save_checkpoint
from .config import ModelConfig as ModelConfig
from .config import TrainConfig as TrainConfig
from .generate import sample_ids as sample_ids
from .generate import sample_text as sample_text
from .trainer import NonFiniteLossError as NonFiniteLossError
from .trainer import TrainingInterrupted as TrainingInterrupted
from .trainer import TrainResult as TrainResult
from .trainer import train as train

__all__ = [
    "CharRNN",
    "RNNLanguageModel",
    "Checkpoint",
    "CheckpointError",
    "load_checkpoint",
    "save_checkpoint",
    "ModelConfig",
    "TrainConfig",
    "sample_ids",
    "sample_text",
    "train",
    "TrainResult",
    "TrainingInterrupted",
    "NonFiniteLossError",
]
