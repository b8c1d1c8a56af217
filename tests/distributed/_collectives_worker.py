"""Run by test_mpi_collectives.py under ``mpiexec -n 2``: exercise each collective and write what
this rank saw to OUTDIR/rank<r>.npz, for the test to check."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

import deeprnn
from deeprnn import distributed as dist
from deeprnn.nn import Linear


def collectives(out: Path) -> None:
    comm = dist.init_world(timeout=30)
    r, K = comm.rank, comm.size
    res: dict[str, np.ndarray] = {"size": np.array(K)}
    # 1. identical initial weights: every rank starts from its own seed, rank 0's win
    layer = Linear(3, 4, generator=deeprnn.Generator(100 + r))
    weight_id = id(layer.weight)
    res["before"] = layer.weight.detach().numpy().copy()
    dist.broadcast_parameters(comm, list(layer.parameters()))
    assert id(layer.weight) == weight_id
    res["after_weight"] = layer.weight.detach().numpy().copy()
    res["after_bias"] = layer.bias.detach().numpy().copy()
    res["agree"] = np.array(dist.parameters_agree(comm, list(layer.parameters())))
    if r == 1:  # one ulp off on one rank only: the check must see it
        layer.bias.detach().numpy()[0] = np.nextafter(layer.bias.detach().numpy()[0], np.float32(10))
    res["agree_after_change"] = np.array(dist.parameters_agree(comm, list(layer.parameters())))
    # 2. one fused Allreduce: weighted gradient sum, scalars, a gradient present on rank 0 only
    w, b = layer.weight, layer.bias
    w.grad = deeprnn.tensor(np.full((4, 3), r + 1.0, dtype=np.float32))
    b.grad = deeprnn.tensor(np.arange(4, dtype=np.float32) * (r + 1)) if r == 0 else None
    fused = dist.GradientAllreduce(comm, [w, b], n_scalars=2)
    weight = (r + 1) / 3.0  # shares 1/3 and 2/3
    res["scalars"] = fused.reduce_(weight, [weight * 10.0, float(r == 1)])
    res["w_grad"] = w.grad.numpy().copy()
    res["b_grad"] = b.grad.numpy().copy()
    # 3. hidden-state blocks gathered in rank order, as one array and as a tuple
    share = dist.stream_share(5, K, r)
    full = np.arange(2 * 5 * 3, dtype=np.float64).reshape(2, 5, 3)
    mine = dist.take_streams(full, share)
    got = dist.gather_streams(comm, mine)
    got_pair = dist.gather_streams(comm, (mine, mine + 1))
    if r == 0:
        res["gathered"], res["gathered_c"] = got, got_pair[1]
    else:
        res["gathered_none"] = np.array(got is None and got_pair is None)
    res["json"] = np.array(dist.bcast_json(comm, {"from": r}, "json")["from"])
    # 4. failing together
    try:
        dist.root_first(comm, lambda: (_ for _ in ()).throw(ValueError("bad text on rank 0")), "the start-up")
    except dist.PeerFailedError as e:
        res["root_first"] = np.array(f"peer: {e}")
    except ValueError as e:
        res["root_first"] = np.array(f"own: {e}")
    try:
        with dist.fail_together(comm, "opening the corpus"):
            if r == 1:
                raise FileNotFoundError("no corpus on rank 1")
    except dist.PeerFailedError as e:
        res["fail_together"] = np.array(f"peer: {e}")
    except FileNotFoundError as e:
        res["fail_together"] = np.array(f"own: {e}")
    try:  # the same error everywhere (a text too short): reported by rank 0 only
        with dist.fail_together(comm, "the start-up"):
            raise ValueError("text too short")
    except dist.PeerFailedError as e:
        res["same_error"] = np.array(f"peer: {e}")
    except ValueError as e:
        res["same_error"] = np.array(f"own: {e}")
    np.savez(out / f"rank{r}.npz", **res)


def hang(out: Path) -> None:
    comm = dist.init_world(timeout=1.5)
    if comm.rank == 1:
        time.sleep(60)  # stands for a stopped or deadlocked process
    comm.allreduce_sum_(np.ones(3), "the gradient Allreduce of iteration 7")
    (out / "not-reached").write_text("the Allreduce returned")


def rank_error(out: Path) -> None:
    comm = dist.init_world(timeout=30)
    with dist.abort_on_error(comm):
        if comm.rank == 1:
            raise MemoryError("rank 1 ran out of memory")
        comm.allreduce_sum_(np.ones(3), "the gradient Allreduce of iteration 3")
    (out / "not-reached").write_text("the Allreduce returned")


if __name__ == "__main__":
    {"collectives": collectives, "hang": hang, "rank_error": rank_error}[sys.argv[1]](Path(sys.argv[2]))
