"""Data-parallel SGD's two collectives: broadcast the weights once, then average the gradients
with one Allreduce per step over one flat buffer.

With K processes, process r computes the loss on its share of the batch, ``n_r`` of the
``N`` streams, as the mean over its ``T * n_r`` tokens.  The global loss, the mean over all
``T * N`` tokens, is then ``sum_r (n_r / N) * loss_r``, and so is its gradient.  Each process
therefore scales its gradients by ``weight = n_r / N`` while copying them into the buffer, and
the Allreduce's sum is the gradient of the single-process loss, up to float summation order.

A few scalars ride in the same buffer (the weighted loss, a "stop" flag, ...), and so does one
flag per parameter saying whether it received a gradient, so that a parameter left without one
on every process stays without one (as in one process, where the optimiser skips it).
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence

import numpy as np

from ..autograd.tensor import Tensor
from .communicator import Communicator
from .messages import all_succeeded, bcast_json

__all__ = ["GradientAllreduce", "broadcast_parameters", "parameters_agree"]


def _common_dtype(params: Sequence[Tensor], what: str) -> np.dtype:
    dtypes = {np.dtype(p.dtype) for p in params}
    if len(dtypes) != 1:
        raise ValueError(f"{what}: expected parameters of one dtype, got {sorted(str(d) for d in dtypes)}")
    return dtypes.pop()


def _arrays(params: Sequence[Tensor]) -> list[np.ndarray]:
    return [p.detach().numpy() for p in params]


def broadcast_parameters(comm: Communicator, params: Sequence[Tensor]) -> None:
    """Overwrite every process's ``params`` in place with rank 0's, in one broadcast.

    The tensors keep their identity (an optimiser built on them stays valid).
    """
    params = list(params)
    if comm.size == 1 or not params:
        return
    arrays = _arrays(params)
    flat = np.concatenate([a.reshape(-1) for a in arrays]).astype(_common_dtype(params, "broadcast_parameters"))
    comm.bcast_(flat, "the broadcast of the initial weights")
    offset = 0
    for a in arrays:
        np.copyto(a, flat[offset : offset + a.size].reshape(a.shape))
        offset += a.size


def parameters_agree(comm: Communicator, params: Sequence[Tensor], what: str = "the weights check") -> bool:
    """True on every process if every process holds bit-identical ``params`` (CRC-32 compared)."""
    crc = 0
    for a in _arrays(params):
        crc = zlib.crc32(np.ascontiguousarray(a).view(np.uint8), crc)
    root_crc = bcast_json(comm, crc, what)
    return all_succeeded(comm, crc == root_crc, what)


class GradientAllreduce:
    """The fused gradient Allreduce of data-parallel training.

    ``GradientAllreduce(comm, params, n_scalars)`` allocates one buffer of
    ``sum(p.numel()) + len(params) + n_scalars`` elements in the parameters' dtype.
    ``reduce_(weight, scalars)`` then, after ``loss.backward()``:

    1. copies ``weight * p.grad`` of every parameter into the buffer (zeros for a missing
       gradient), a 1 per present gradient into the flag section, and ``scalars`` at the end;
    2. sums the buffer over all processes with one Allreduce;
    3. writes the summed gradients back into each ``p.grad`` (creating it where this process had
       none but another had one) and returns the summed scalars, shape ``(n_scalars,)``.

    With one process it does the same arithmetic without communicating, so ``weight=1`` leaves
    the gradients as they were.
    """

    def __init__(self, comm: Communicator, params: Sequence[Tensor], n_scalars: int = 0) -> None:
        self.comm = comm
        self.params = list(params)
        self.dtype = _common_dtype(self.params, "GradientAllreduce")
        self.sizes = [int(np.prod(p.shape, dtype=np.int64)) for p in self.params]
        self.n_grad = sum(self.sizes)
        self.n_scalars = int(n_scalars)
        self.buffer = np.zeros(self.n_grad + len(self.params) + self.n_scalars, dtype=self.dtype)

    @property
    def nbytes(self) -> int:
        """Bytes sent into each Allreduce."""
        return self.buffer.nbytes

    def reduce_(self, weight: float, scalars: Sequence[float] = (), what: str = "the gradient Allreduce") -> np.ndarray:
        if len(scalars) != self.n_scalars:
            raise ValueError(f"expected {self.n_scalars} scalars, got {len(scalars)}")
        buf, offset = self.buffer, 0
        flags = buf[self.n_grad : self.n_grad + len(self.params)]
        for i, (p, n) in enumerate(zip(self.params, self.sizes)):
            part = buf[offset : offset + n]
            if p.grad is None:
                part.fill(0)
                flags[i] = 0
            else:
                np.multiply(p.grad.numpy().reshape(-1), weight, out=part, casting="same_kind")
                flags[i] = 1
            offset += n
        buf[self.n_grad + len(self.params) :] = scalars
        self.comm.allreduce_sum_(buf, what)
        offset = 0
        for i, (p, n) in enumerate(zip(self.params, self.sizes)):
            part = buf[offset : offset + n].reshape(p.shape)
            if p.grad is not None:
                np.copyto(p.grad.numpy(), part)
            elif flags[i] > 0:
                p.grad = Tensor._wrap(part.copy())
            offset += n
        return buf[self.n_grad + len(self.params) :].copy()
