"""deeprnn.distributed: data-parallel training over MPI (the Horovod / spinningup pattern).

    from deeprnn.distributed import init_world
    comm = init_world()            # all processes under mpiexec, else SingleProcess()
    broadcast_parameters(comm, model.parameters())          # identical start on every rank
    fused = GradientAllreduce(comm, list(model.parameters()), n_scalars=1)
    ...  loss.backward()
    (loss_sum,) = fused.reduce_(weight=n_r / N, scalars=[n_r / N * loss])   # one Allreduce

Only mpi4py (extra ``deeprnn[mpi]``, which also brings the mpich library) is needed, and only
when launched by ``mpiexec``.  Every collective is watched: a process that waits longer than
the timeout for the others aborts the job with a message instead of hanging.
"""

from .communicator import Communicator as Communicator
from .communicator import MPICommunicator as MPICommunicator
from .communicator import SingleProcess as SingleProcess
from .corpus import shared_corpus as shared_corpus
from .failures import PeerFailedError as PeerFailedError
from .failures import abort_on_error as abort_on_error
from .failures import fail_together as fail_together
from .failures import root_first as root_first
from .gradients import GradientAllreduce as GradientAllreduce
from .gradients import broadcast_parameters as broadcast_parameters
from .gradients import parameters_agree as parameters_agree
from .messages import all_succeeded as all_succeeded
from .messages import bcast_arrays as bcast_arrays
from .messages import bcast_json as bcast_json
from .messages import gather_arrays as gather_arrays
from .messages import gather_json as gather_json
from .shards import check_streams as check_streams
from .shards import gather_streams as gather_streams
from .shards import stream_share as stream_share
from .shards import take_streams as take_streams
from .watchdog import Watchdog as Watchdog
from .world import DEFAULT_TIMEOUT as DEFAULT_TIMEOUT
from .world import MPIUnavailableError as MPIUnavailableError
from .world import init_world as init_world
from .world import launched_size as launched_size

__all__ = [
    "Communicator",
    "MPICommunicator",
    "SingleProcess",
    "PeerFailedError",
    "abort_on_error",
    "fail_together",
    "root_first",
    "GradientAllreduce",
    "broadcast_parameters",
    "parameters_agree",
    "all_succeeded",
    "bcast_arrays",
    "bcast_json",
    "gather_arrays",
    "gather_json",
    "check_streams",
    "gather_streams",
    "stream_share",
    "take_streams",
    "shared_corpus",
    "Watchdog",
    "DEFAULT_TIMEOUT",
    "MPIUnavailableError",
    "init_world",
    "launched_size",
]
