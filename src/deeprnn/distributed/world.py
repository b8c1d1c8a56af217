"""Finding out whether this process is one of K launched by ``mpiexec``, and joining them.

MPI launchers tell each process its place in the environment: MPICH's and Intel MPI's hydra
set ``PMI_RANK``/``PMI_SIZE``, Open MPI sets ``OMPI_COMM_WORLD_RANK``/``OMPI_COMM_WORLD_SIZE``,
MVAPICH ``MV2_COMM_WORLD_*``, and PMIx launchers (``srun --mpi=pmix``, ``prterun``) ``PMIX_RANK``.
Reading them first means that a plain ``deeprnn train`` never imports mpi4py and never starts MPI:
it runs as one process, as before.  Under a launcher with more than one process, mpi4py is
required (``pip install "deeprnn[mpi]"``); without it the K copies would each train alone and
overwrite each other's checkpoints, so that is an error, not a fallback.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from .communicator import Communicator, MPICommunicator, SingleProcess

__all__ = ["DEFAULT_TIMEOUT", "MPIUnavailableError", "launched_size", "init_world"]

DEFAULT_TIMEOUT = 300.0  # seconds a process waits in one collective before it stops the job

# (rank variable, size variable) of the launchers we know, in the order they are checked.
_LAUNCHER_VARS = (
    ("PMI_RANK", "PMI_SIZE"),
    ("OMPI_COMM_WORLD_RANK", "OMPI_COMM_WORLD_SIZE"),
    ("MV2_COMM_WORLD_RANK", "MV2_COMM_WORLD_SIZE"),
    ("PMIX_RANK", None),
)


class MPIUnavailableError(RuntimeError):
    """Launched as several MPI processes, but mpi4py (or its MPI library) cannot be loaded."""


def launched_size(environ: Mapping[str, str] | None = None) -> int | None:
    """The number of processes the MPI launcher started, from the environment.

    None: not started by an MPI launcher.  0: started by one that does not say how many
    (PMIx without a size variable); MPI itself must then be asked.
    """
    env = os.environ if environ is None else environ
    for rank_var, size_var in _LAUNCHER_VARS:
        if rank_var in env:
            if size_var is None or size_var not in env:
                return 0
            try:
                return max(int(env[size_var]), 0)
            except ValueError:
                return 0
    return None


def init_world(timeout: float | None = DEFAULT_TIMEOUT, environ: Mapping[str, str] | None = None) -> Communicator:
    """The communicator of this job: all K processes under an MPI launcher, else this one alone.

    Args:
        timeout: seconds a process may wait in one collective operation (an Allreduce, a
            broadcast, a gather) before it decides that another process died or hangs, prints
            a message and aborts the whole job; None waits for ever.
        environ: the environment to read (default ``os.environ``).

    Raises:
        MPIUnavailableError: launched as K > 1 processes but mpi4py cannot be imported.
    """
    size = launched_size(environ)
    if size is None or size == 1:
        return SingleProcess()
    try:
        from mpi4py import MPI
    except ImportError as e:
        raise MPIUnavailableError(
            f"this process is one of {size or 'several'} started by an MPI launcher, but mpi4py cannot be "
            f'loaded ({e}); install it with: pip install "deeprnn[mpi]" (it brings the mpich library too), '
            "or run without mpiexec to train in one process"
        ) from None
    comm = MPI.COMM_WORLD
    if comm.Get_size() == 1:
        return SingleProcess()
    return MPICommunicator(comm, timeout)
