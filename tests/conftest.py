"""Test-session settings shared by every test folder.

torch, the oracle, runs its operators on as many threads as the machine has cores.  Under
``pytest -n 2`` on 2 cores that makes 2 workers x 2 threads that spin-wait for each other:
measured 700 ms instead of 18 ms for one small nn.LSTM forward and backward on a busy
machine.  One thread per worker keeps the oracle's numbers the same and its time sane.
"""

from __future__ import annotations

try:
    import torch
except ImportError:  # the suite skips its torch tests without it
    torch = None

if torch is not None:
    torch.set_num_threads(1)
