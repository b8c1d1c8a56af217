"""``deeprnn.utils.data``: ``torch.utils.data`` for deeprnn tensors.

``from deeprnn.utils.data import DataLoader, TensorDataset`` (or, with ``import deeprnn as torch``,
``from torch.utils.data import ...``) gives torch's datasets, samplers, DataLoader and
default collation, with torch's batches wherever the order is deterministic. See
``dataloader.py`` for the few documented differences (workers run in-process).
"""

from .collate import collate as collate
from .collate import default_collate as default_collate
from .collate import default_collate_fn_map as default_collate_fn_map
from .collate import default_convert as default_convert
from .dataloader import DataLoader as DataLoader
from .dataloader import WorkerInfo as WorkerInfo
from .dataloader import get_worker_info as get_worker_info
from .dataset import ChainDataset as ChainDataset
from .dataset import ConcatDataset as ConcatDataset
from .dataset import Dataset as Dataset
from .dataset import IterableDataset as IterableDataset
from .dataset import StackDataset as StackDataset
from .dataset import Subset as Subset
from .dataset import TensorDataset as TensorDataset
from .dataset import random_split as random_split
from .sampler import BatchSampler as BatchSampler
from .sampler import RandomSampler as RandomSampler
from .sampler import Sampler as Sampler
from .sampler import SequentialSampler as SequentialSampler
from .sampler import SubsetRandomSampler as SubsetRandomSampler
from .sampler import WeightedRandomSampler as WeightedRandomSampler

__all__ = [
    "BatchSampler",
    "ChainDataset",
    "ConcatDataset",
    "DataLoader",
    "Dataset",
    "IterableDataset",
    "RandomSampler",
    "Sampler",
    "SequentialSampler",
    "StackDataset",
    "Subset",
    "SubsetRandomSampler",
    "TensorDataset",
    "WeightedRandomSampler",
    "WorkerInfo",
    "collate",
    "default_collate",
    "default_collate_fn_map",
    "default_convert",
    "get_worker_info",
    "random_split",
]
