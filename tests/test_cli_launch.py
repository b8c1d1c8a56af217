"""The console script's entry point (src/deeprnn_launch.py): Ctrl-C while the package loads."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"
FOREGROUND = {"preexec_fn": None}


def _foreground_sigint() -> None:
    # As in a terminal's foreground job: Ctrl-C not ignored, whatever the shell that started pytest did
    # (a background job of a non-interactive shell starts with SIGINT ignored, and its children too).
    signal.signal(signal.SIGINT, signal.SIG_DFL)


if os.name == "posix":
    FOREGROUND["preexec_fn"] = _foreground_sigint


def test_ctrl_c_while_the_package_imports_is_one_line_and_exit_130(tmp_path):
    # A stand-in package whose import is interrupted, as a Ctrl-C during `import numpy` would be.
    fake = tmp_path / "deeprnn"
    fake.mkdir()
    (fake / "__init__.py").write_text("raise KeyboardInterrupt\n")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), str(SRC)])}
    code = "import sys, deeprnn_launch; sys.exit(deeprnn_launch.main())"
    proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 130
    assert proc.stderr == "deeprnn: interrupted\n"


def _run_with_fake_package(tmp_path, body: str) -> subprocess.CompletedProcess:
    fake = tmp_path / "deeprnn"
    fake.mkdir()
    (fake / "__init__.py").write_text(body)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), str(SRC)])}
    code = "import sys, deeprnn_launch; sys.exit(deeprnn_launch.main())"
    return subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60, **FOREGROUND
    )


# The end of a stand-in package: a deeprnn.cli whose main would run (and say so) if the launcher let it.
CLI_THAT_GOES_ON = (
    "import sys\n"
    "cli = type(sys)('deeprnn.cli')\n"
    "cli.main = lambda: print('the run went on') or 0\n"
    "sys.modules['deeprnn.cli'] = cli\n"
)


def _assert_the_run_stops(proc: subprocess.CompletedProcess) -> None:
    assert proc.returncode == 130, (proc.stdout, proc.stderr)
    assert proc.stderr == "deeprnn: interrupted\n" and "went on" not in proc.stdout


def test_ctrl_c_that_an_extension_turns_into_an_import_error_is_one_line_and_exit_130(tmp_path):
    # As NumPy does when the Ctrl-C lands inside its C import: an ImportError without the KeyboardInterrupt.
    body = (
        "import os, signal, time\n"
        "try:\n"
        "    os.kill(os.getpid(), signal.SIGINT)\n"
        "    time.sleep(5)\n"
        "except KeyboardInterrupt:\n"
        "    raise ImportError('PyCapsule_Import could not import module \"datetime\"') from None\n"
    )
    proc = _run_with_fake_package(tmp_path, body)
    assert proc.returncode == 130, proc.stderr
    assert proc.stderr == "deeprnn: interrupted\n"


def test_ctrl_c_that_a_library_swallows_while_loading_still_stops_the_run(tmp_path):
    # A library that catches the KeyboardInterrupt and finishes its import: the run must not go on.
    body = (
        "import os, signal, time\n"
        "try:\n"
        "    os.kill(os.getpid(), signal.SIGINT)\n"
        "    time.sleep(5)\n"
        "except BaseException:\n"
        "    pass\n"
    )
    _assert_the_run_stops(_run_with_fake_package(tmp_path, body + CLI_THAT_GOES_ON))


def test_ctrl_c_inside_a_callback_while_loading_is_one_line_and_exit_130(tmp_path):
    # The Ctrl-C lands while Python runs a callback whose exceptions it cannot raise (importlib's module-lock
    # weakref callback, in CI): Python prints them as "Exception ignored in ..." with a traceback instead.
    body = (
        "import signal, weakref\n"
        "class Lock: pass\n"
        "lock = Lock()\n"
        "ref = weakref.ref(lock, lambda r: signal.raise_signal(signal.SIGINT))\n"
        "del lock\n"
    )
    _assert_the_run_stops(_run_with_fake_package(tmp_path, body + CLI_THAT_GOES_ON))


def test_a_process_started_with_ctrl_c_ignored_keeps_ignoring_it_while_loading(tmp_path):
    # nohup, or a background job of a script: SIGINT is ignored from the start, and the launcher leaves it so.
    fake = tmp_path / "deeprnn"
    fake.mkdir()
    (fake / "__init__.py").write_text(
        "import os, signal, sys\n"
        "os.kill(os.getpid(), signal.SIGINT)\n"
        "cli = type(sys)('deeprnn.cli')\n"
        "cli.main = lambda: print('the run went on') or 0\n"
        "sys.modules['deeprnn.cli'] = cli\n"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), str(SRC)])}
    code = (
        "import signal, sys; signal.signal(signal.SIGINT, signal.SIG_IGN)\n"
        "import deeprnn_launch; sys.exit(deeprnn_launch.main())"
    )
    proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0 and "went on" in proc.stdout, (proc.stdout, proc.stderr)


def test_an_import_error_without_ctrl_c_keeps_its_traceback(tmp_path):
    proc = _run_with_fake_package(tmp_path, "raise ImportError('a broken install')\n")
    assert proc.returncode == 1
    assert "Traceback" in proc.stderr and "ImportError: a broken install" in proc.stderr


def _console_script() -> Path:
    script = Path(sys.executable).parent / ("deeprnn.exe" if os.name == "nt" else "deeprnn")
    if not script.exists():
        pytest.fail(f"the deeprnn console script is not installed beside {sys.executable}: pip install -e .")
    return script


@pytest.mark.parametrize("delay", [0.05, 0.15, 0.3, 0.6])
def test_a_real_ctrl_c_at_start_up_never_prints_a_traceback(tmp_path, delay):
    proc = subprocess.Popen(
        [str(_console_script()), "train", "--iters", "100000", "--checkpoint-dir", str(tmp_path / "ck"), "--quiet"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "DEEPRNN_CACHE_DIR": str(tmp_path / "cache")},
        **FOREGROUND,
    )
    try:
        time.sleep(delay)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:  # never left running after a failure
            proc.kill()
            proc.wait()
    assert "Traceback" not in err, err
    # 130 and one line, or killed by the signal before Python's own handler existed (-SIGINT)
    assert proc.returncode in (130, -signal.SIGINT), (proc.returncode, err)
    if proc.returncode == 130:
        assert err.strip().splitlines()[-1].startswith("deeprnn"), err
