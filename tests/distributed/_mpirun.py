"""Launch a Python script as K MPI processes on localhost, never longer than a timeout.

mpiexec comes from the mpich wheel of the test extra (next to this Python, in the venv's
bin/), so CI needs no system MPI.  The job runs in its own session; on timeout the whole
process group (mpiexec, its proxies and every rank) is killed, so a hung rank cannot hang
the test run.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def mpiexec() -> str:
    beside = Path(sys.executable).parent / "mpiexec"
    found = str(beside) if beside.exists() else shutil.which("mpiexec")
    assert found, 'mpiexec not found: install the test extra (pip install -e ".[test]"), which brings mpich'
    return found


def run_mpi(n: int, argv: list[str], timeout: float = 60.0, env: dict | None = None) -> subprocess.CompletedProcess:
    """``mpiexec -n n <argv>``; returns the completed process (stdout, stderr as text)."""
    full_env = {
        **os.environ,
        "MPIEXEC_TIMEOUT": str(int(timeout)),
        "OMP_NUM_THREADS": "1",
        "OPENBLAS_NUM_THREADS": "1",
        **(env or {}),
    }
    cmd = [mpiexec(), "-n", str(n), *argv]
    proc = subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=full_env, start_new_session=True
    )
    try:
        out, err = proc.communicate(timeout=timeout + 10)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        raise AssertionError(f"{cmd} did not finish within {timeout + 10} s\nstdout:\n{out}\nstderr:\n{err}") from None
    return subprocess.CompletedProcess(cmd, proc.returncode, out, err)


def python_mpi(n: int, script: Path | str, *args: str, timeout: float = 60.0) -> subprocess.CompletedProcess:
    """Run ``script`` (a path, or a file name beside this module) with this Python as n processes."""
    path = Path(script) if Path(script).is_absolute() else HERE / script
    return run_mpi(n, [sys.executable, str(path), *args], timeout=timeout)
