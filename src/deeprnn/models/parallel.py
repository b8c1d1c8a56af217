"""The trainer's data-parallel side: what changes when K processes train one model together.

The trainer runs the same loop on every process; with one process everything here is a no-op
and training is exactly what it was.  With K processes (``mpiexec -n K``):

* the global batch of N streams (``--batch-size``) is cut into K blocks (`stream_share`);
  process r reads only its block ``n_r`` of each batch and carries its block of the hidden state;
* rank 0 builds the vocabulary and loads the checkpoint; everyone receives them, and rank 0's
  initial (or restored) weights are broadcast, so every process starts bit-identical;
* after ``loss.backward()``, `DataParallel.reduce` runs the step's one Allreduce over a flat
  buffer holding ``(n_r / N) * grad`` of every parameter, ``(n_r / N) * loss`` and a "stop" flag:
  every process gets the gradient and the loss of the whole batch, and the same decision to
  stop (a Ctrl-C that reached any process), so clipping, the optimiser step and the schedule
  are identical everywhere and the weights stay identical without being sent again;
* validation sums each process's streams of the held-out tail with one more Allreduce;
* a checkpoint gathers the hidden-state blocks and the dropout generators' states to rank 0,
  which alone writes files (checkpoints, the loss plot) and prints (progress, samples).

Dropout draws its masks from a generator per process: rank 0's is the single-process one,
rank r's starts from a seed derived from (seed, r).  So without dropout a K-process run follows
the single-process run to float32 summation order; with dropout it follows another, equally
random, path.  A checkpoint stores all K generator states: resuming with the same K continues
exactly; with another K the other processes start new streams (rank 0 continues its own).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..autograd.tensor import Tensor
from ..distributed import (
    Communicator,
    GradientAllreduce,
    bcast_arrays,
    bcast_json,
    gather_json,
    gather_streams,
    root_first,
    stream_share,
    take_streams,
)
from .checkpoint import Checkpoint, CheckpointError, load_checkpoint
from .state import save_training_state

if TYPE_CHECKING:
    from .loop import Run
    from .progress import Progress

__all__ = ["DataParallel", "load_checkpoint_everywhere", "rank_seed"]


def rank_seed(seed: int, rank: int, iteration: int) -> int:
    """The dropout seed of process ``rank`` (> 0) starting at ``iteration``: a 128-bit hash."""
    words = np.random.SeedSequence([seed, rank, iteration]).generate_state(4, np.uint32)
    return sum(int(w) << (32 * i) for i, w in enumerate(words))


def _arrays(hidden: Any) -> Any:
    if isinstance(hidden, tuple):
        return tuple(h.detach().numpy() for h in hidden)
    return hidden.detach().numpy()


def _tensors(hidden: Any) -> Any:
    if isinstance(hidden, tuple):
        return tuple(Tensor._wrap(h) for h in hidden)
    return Tensor._wrap(hidden)


def load_checkpoint_everywhere(comm: Communicator, source: Any) -> Checkpoint:
    """Rank 0 reads and validates the checkpoint at ``source``; every process gets the same copy.

    The others never open the file (it may exist only on rank 0's machine).
    """
    ckpt = root_first(comm, lambda: load_checkpoint(source), "loading the checkpoint")
    if comm.size == 1:
        assert ckpt is not None
        return ckpt
    head = bcast_json(comm, None if ckpt is None else {"path": str(ckpt.path), "meta": ckpt.meta}, "the checkpoint")
    arrays = bcast_arrays(comm, None if ckpt is None else ckpt.arrays, "the checkpoint's arrays")
    return Checkpoint(Path(head["path"]), head["meta"], arrays)


class DataParallel:
    """This process's part in a K-process training run over ``comm`` (see the module docstring).

    Args:
        comm: the job's communicator (`SingleProcess` for one process).
        n_streams: N, the global batch size.
        params: the model's parameters, in the same order on every process.

    Raises:
        ValueError: more processes than streams (each needs at least one).
    """

    def __init__(self, comm: Communicator, n_streams: int, params: list) -> None:
        self.comm = comm
        self.n_streams = n_streams
        self.share = stream_share(n_streams, comm.size, comm.rank)
        self.weight = (self.share.stop - self.share.start) / n_streams
        self.fused = GradientAllreduce(comm, params, n_scalars=2) if comm.size > 1 else None
        self._stop = False

    @property
    def active(self) -> bool:
        """True with more than one process."""
        return self.comm.size > 1

    @property
    def streams(self) -> slice | None:
        """The block of streams to read (None: all of them, in one process)."""
        return self.share if self.active else None

    def reduce(self, loss_value: float, stop_requested: bool, iteration: int) -> float:
        """After ``loss.backward()``: the step's one Allreduce.  Returns the batch's loss.

        The parameters' ``.grad`` then hold the gradient of the whole batch's loss.
        """
        if self.fused is None:
            return loss_value
        w = self.weight
        loss_sum, stops = self.fused.reduce_(
            w, [w * loss_value, 1.0 if stop_requested else 0.0], f"the gradient Allreduce of iteration {iteration}"
        )
        self._stop = bool(stops > 0)
        return float(loss_sum)

    def stop_agreed(self, requested: bool) -> bool:
        """Whether to stop before the next step: this process's request alone, or, with K
        processes, whether any process had one at the last Allreduce (all agree on it)."""
        return self._stop if self.active else requested

    # ---- start ----------------------------------------------------------------------------------
    def start(self, run: Run, ckpt: Checkpoint | None, seed: int) -> str | None:
        """Make every process's fresh or restored ``run`` its part of the same run.

        Broadcasts rank 0's weights, cuts this process's block out of a restored hidden state,
        and sets its dropout generator.  Returns a note for rank 0 to print, or None.
        """
        if not self.active:
            return None
        from ..distributed import broadcast_parameters

        broadcast_parameters(self.comm, list(run.model.parameters()))
        rank, K = self.comm.rank, self.comm.size
        if ckpt is None:
            if rank > 0:
                run.gen.manual_seed(rank_seed(seed, rank, 0))
            return None
        if run.hidden is not None:
            run.hidden = _tensors(take_streams(_arrays(run.hidden), self.share))
        saved = ckpt.meta.get("distributed") or {}
        saved_k = saved.get("world_size", 1)
        if saved_k == K:
            try:
                run.gen.set_state(saved["rng_model"][rank])
            except (KeyError, IndexError, TypeError, ValueError) as e:
                raise CheckpointError(
                    f"checkpoint {str(ckpt.path)!r}: invalid per-process generator states: {type(e).__name__}: {e}"
                ) from None
            return None
        if rank > 0:
            run.gen.manual_seed(rank_seed(seed, rank, run.iteration))
        if run.model.config.dropout > 0:
            return (
                f"note: resuming a run of {saved_k} process(es) with {K}: processes 1..{K - 1} draw their "
                "dropout masks from new random streams, so this run does not repeat the original one exactly"
            )
        return None

    # ---- checkpoints ----------------------------------------------------------------------------
    def save(self, run: Run, path: Path, progress: Progress | None) -> None:
        """Collective: rank 0 writes the whole run (every process's hidden block and generator)."""
        if not self.active:
            save_training_state(run, path, progress)
            return
        full = None if run.hidden is None else gather_streams(self.comm, _arrays(run.hidden))
        states = gather_json(self.comm, run.gen.get_state(), "the gather of the generator states")
        if self.comm.is_root:
            local = run.hidden
            run.hidden = None if full is None else _tensors(full)
            run.extra_meta = {"distributed": {"world_size": self.comm.size, "rng_model": states}}
            try:
                save_training_state(run, path, progress)
            finally:
                run.hidden = local
        elif progress is not None:
            run.last_saved, run.last_saved_iteration = path, run.iteration
